"""A warm execution environment: one side's handler, invoked many times in one process.

    python -m bench.worker SPEC.json      (cwd: the repository root)

SPEC: {"side": "trailguard"|"bare"|"c7n", "scenario": "repair"|"recreate"|"storm"|"persist",
       "samples": n, "out": path, "event": name in events/, "function": ...,
       "module": ..., "handler": ..., "paths": [...], "cwd": path,
       "ready": path, "go": path}   (ready/go: storm only)

Scenarios:
  repair    n x (StopLogging by the harness; one event)       per-sample time and calls
  recreate  n x (DeleteTrail by the harness; one event)        per-sample time and calls
  storm     n events for one stop, after a ready/go barrier    per-event time, outcomes
  persist   n x (StopLogging by the harness; one event), calls counted for the whole run

One warm-up invocation runs first and is not recorded (Lambda's first invoke
after init). Setup calls are made with the harness's own clients, which the
server counts apart; each sample's calls are read from the server.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import harness as h

Invoke = Callable[[dict[str, Any]], str]


def _side(spec: dict[str, Any]) -> Invoke:
    sys.path[:0] = spec.get("paths", [])
    logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))
    side = spec["side"]
    if side == "c7n":
        os.chdir(spec["cwd"])
        dispatch = importlib.import_module("c7n.handler").dispatch_event

        def invoke_c7n(event: dict[str, Any]) -> str:
            return str(dispatch(event, h.FakeLambdaContext(spec["function"])))

        return invoke_c7n
    module = "bench.bare" if side == "bare" else spec["module"]
    handler = getattr(importlib.import_module(module), spec["handler"])

    def invoke(event: dict[str, Any]) -> str:
        result = handler(event, h.FakeLambdaContext(spec["function"]))
        return str(result.get("outcome")) if isinstance(result, dict) else str(result)

    return invoke


def _prepare(scenario: str) -> Callable[[], None]:
    return {"repair": h.stop_trail, "recreate": h.delete_trail, "persist": h.stop_trail}[scenario]


def _check(scenario: str) -> bool:
    if scenario == "recreate":
        return h.trail_exists() and h.trail_logging()
    return h.trail_logging()


def _forget_storm() -> bool:
    """Make the next repair a separate incident for trailguard.

    trailguard damps repeated alerts for the same drift within a window, per
    execution environment (trailguard/domain/storm.py), so back-to-back samples would mostly
    measure repairs whose alert is not sent. Between samples (outside the timed
    window) the environment's memory of recent incidents is cleared, as if the
    window had passed: the damper's windows, and a `restarted` memory of recent
    restarts if the dependencies have one. The storm rows measure this memory at work.
    """
    runtime = sys.modules.get("trailguard.runtime")
    if runtime is None:
        return False
    deps = runtime.dependencies()
    memories = [getattr(getattr(deps, "storm", None), "_windows", None)]
    memories.append(getattr(deps, "restarted", None))
    cleared = False
    for memory in memories:
        if isinstance(memory, dict):
            memory.clear()
            cleared = True
    return cleared


def sampled(spec: dict[str, Any], invoke: Invoke, clock: h.CallClock) -> dict[str, Any]:
    template = h.load_event(spec["event"])
    prepare = _prepare(spec["scenario"])
    samples = []
    for index in range(spec["samples"] + 1):
        damper_reset = _forget_storm()
        prepare()
        event = h.fresh_event(template)
        h.server_reset()
        clock.reset()
        started_at = time.time()
        started = time.perf_counter()
        outcome = invoke(event)
        elapsed = time.perf_counter() - started
        timing = clock.snapshot()
        calls = h.server_counts()
        resumed = h.logging_resumed_after(spec["side"], started_at)
        if index == 0:
            continue  # warm-up
        samples.append(
            {
                "s": elapsed,
                "resumed_s": resumed,
                **timing,
                "calls": calls,
                "outcome": outcome,
                "ok": _check(spec["scenario"]),
                "damper_reset": damper_reset,
            }
        )
    return {"samples": samples}


def _queue_depth(spec: dict[str, Any]) -> int:
    """Messages waiting in the on-call queue subscribed to the alert topic."""
    attributes = h.harness("sqs").get_queue_attributes(
        QueueUrl=spec["alert_queue_url"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def persist(spec: dict[str, Any], invoke: Invoke, clock: h.CallClock) -> dict[str, Any]:
    """The attacker keeps stopping the trail: each event follows a real StopLogging."""
    template = h.load_event(spec["event"])
    if not h.trail_logging():
        h.harness("cloudtrail").start_logging(Name=h.TRAIL_NAME)
    invoke(h.fresh_event(template))  # warm-up (Lambda's first invoke after init)
    _forget_storm()  # the storm starts in a fresh environment
    queued_before = _queue_depth(spec)
    outcomes: dict[str, int] = {}
    durations = []
    h.server_reset()
    clock.reset()
    wall = time.time()
    for _ in range(spec["samples"]):
        h.stop_trail()
        event = h.fresh_event(template)
        started = time.perf_counter()
        outcome = invoke(event)
        durations.append(time.perf_counter() - started)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "durations": durations,
        "outcomes": outcomes,
        "wall_s": time.time() - wall,
        "handler_s": sum(durations),
        **clock.snapshot(),
        "calls": h.server_counts(),
        "alerts_delivered": _queue_depth(spec) - queued_before,
        "ok": h.trail_logging(),
    }


def storm(spec: dict[str, Any], invoke: Invoke, clock: h.CallClock) -> dict[str, Any]:
    """Events for one stop, delivered as fast as this environment takes them."""
    template = h.load_event(spec["event"])
    events = [h.fresh_event(template) for _ in range(spec["samples"])]
    invoke(h.fresh_event(template))  # warm-up (Lambda's first invoke after init)
    _forget_storm()  # the storm starts in a fresh environment
    h.write_json(spec["ready"], {"pid": os.getpid()})
    h.wait_for(Path(spec["go"]))
    clock.reset()
    outcomes: dict[str, int] = {}
    durations = []
    started_at = time.time()
    for event in events:
        started = time.perf_counter()
        outcome = invoke(event)
        durations.append(time.perf_counter() - started)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "durations": durations,
        "outcomes": outcomes,
        "started_at": started_at,
        "finished_at": time.time(),
        **clock.snapshot(),
    }


def reconcile(spec: dict[str, Any], invoke: Invoke, clock: h.CallClock) -> dict[str, Any]:
    """The scheduled reconciler over PROTECTED_TRAIL_NAMES, nothing drifted: the cost of
    one run, which is every run's cost. Baselines are captured first, as at deployment."""
    capture = importlib.import_module("capture_baseline.app").handler
    capture({"action": "capture", "reason": "bench"}, h.FakeLambdaContext("CaptureBaseline"))
    event = {
        "version": "0",
        "id": "00000000-0000-4000-8000-00000000bench",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": h.ACCOUNT,
        "region": h.REGION,
        "time": "2026-12-01T00:00:00Z",
        "resources": [f"arn:aws:events:{h.REGION}:{h.ACCOUNT}:rule/trailguard-reconcile"],
        "detail": {},
    }
    invoke(event)  # warm-up
    samples = []
    for _ in range(spec["samples"]):
        h.server_reset()
        clock.reset()
        started = time.perf_counter()
        invoke(event)
        samples.append(
            {"s": time.perf_counter() - started, **clock.snapshot(), "calls": h.server_counts()}
        )
    return {"samples": samples}


def main() -> None:
    spec = h.read_json(sys.argv[1])
    clock = h.CallClock().install()
    invoke = _side(spec)
    run = {
        "repair": sampled,
        "recreate": sampled,
        "storm": storm,
        "persist": persist,
        "reconcile": reconcile,
    }
    result = run[spec["scenario"]](spec, invoke, clock)
    h.write_json(spec["out"], {"spec": spec, **result})
    print(json.dumps({"done": spec["scenario"]}), file=sys.stderr)


if __name__ == "__main__":
    main()
