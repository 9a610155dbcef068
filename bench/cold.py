"""One cold start, in a fresh interpreter, timed from inside it.

    python bench/cold.py SPEC.json

SPEC: {"side": "trailguard"|"bare"|"c7n", "mode": "init"|"invoke", "out": path,
       "module": ..., "handler": ..., "services": [...], "paths": [...],
       "function": ..., "event": path, "cwd": path}

The clock starts after the interpreter is up and before the handler's module is
imported. "init" has one definition for every side: what Lambda's init phase
runs, the import of the handler module and whatever that module does at import.
No side builds a client there: trailguard's and the minimum's clients are lazy,
and Custodian builds its clients per invocation. "invoke" adds the first
invocation, clients and all; "total" is what a cold incident costs. Only json,
logging, os, sys and time are loaded before the clock starts, as Lambda's own
runtime loads them first too; the event is read before the clock starts, as
Lambda hands the handler an already parsed event. Standard library only: this
file must not import anything the measured side would then get for free.
"""

import json
import logging
import os
import sys
import time


def _import(name: str):
    """`import name`, through the import statement's machinery so that
    `python -X importtime` reports it too (importlib.import_module bypasses it)."""
    __import__(name)
    return sys.modules[name]


class Context:
    """Lambda's context object, without dataclasses (not loaded before the clock)."""

    memory_limit_in_mb = 256
    function_version = "$LATEST"
    log_stream_name = "bench"

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.aws_request_id = "00000000-0000-4000-8000-000000000000"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:111111111111:function:{function_name}"
        )
        self.log_group_name = f"/aws/lambda/{function_name}"
        self._deadline = time.monotonic() + 60

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _init_trailguard(spec: dict) -> object:
    return getattr(_import(spec["module"]), spec["handler"])


def _init_bare(spec: dict) -> object:
    return getattr(_import("bench.bare"), spec["handler"])


def _init_c7n(spec: dict) -> object:
    # Custodian's Lambda handler module; policy loading happens in the first invocation.
    return _import("c7n.handler").dispatch_event


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    sys.path[:0] = spec.get("paths", [])
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    event = None
    if spec["mode"] == "invoke":
        with open(spec["event"]) as handle:
            event = json.load(handle)
    # Lambda's runtime logs the root logger to stdout (CloudWatch Logs).
    logging.getLogger().addHandler(logging.StreamHandler(sys.stdout))
    init = {"trailguard": _init_trailguard, "bare": _init_bare, "c7n": _init_c7n}[spec["side"]]

    started_at = time.time()
    cpu_started = time.process_time()
    started = time.perf_counter()
    handler = init(spec)
    initialised = time.perf_counter()
    init_cpu = time.process_time() - cpu_started
    outcome = None
    if event is not None:
        result = handler(event, Context(spec["function"]))  # type: ignore[operator]
        outcome = result.get("outcome") if isinstance(result, dict) else str(result)
    finished = time.perf_counter()

    with open(spec["out"], "w") as handle:
        json.dump(
            {
                "started_at": started_at,
                "init_s": initialised - started,
                "init_cpu_s": init_cpu,
                "invoke_s": finished - initialised,
                "total_s": finished - started,
                "outcome": outcome,
                "modules": len(sys.modules),
            },
            handle,
        )


if __name__ == "__main__":
    main()
