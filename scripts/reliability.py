"""Reliability figures: faults injected, bad inputs tried, duplicates sent, repairs, alerts lost.

Runs against the embedded moto world of the drill (drill/world.py) with the
real handlers, and prints one table. `make reliability` runs it; the README's
reliability section records its output.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "trailguard"), str(ROOT / "functions")]

import warnings

from drill.events import fresh_event, now
from drill.world import World, aws_client, seeded_world

warnings.filterwarnings("ignore", message="No application metrics")

EVENTS = ROOT / "events"
TRAIL = "RestoreTrailFunction"
WRITES = (
    "create",
    "update",
    "restore_tags",
    "put_event_selectors",
    "put_insight_selectors",
    "start_logging",
)


@dataclass
class Figures:
    faults_injected: int = 0
    bad_inputs_tried: int = 0
    bad_inputs_that_crashed: int = 0
    bad_inputs_that_wrote: int = 0
    valid_after_mutation_restarts: int = 0
    duplicates_sent: int = 0
    repairs: int = 0
    repairs_expected: int = 0
    alerts_published: int = 0
    alerts_delivered: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def alerts_lost(self) -> int:
        return self.alerts_published - self.alerts_delivered


def event(name: str) -> dict[str, Any]:
    return fresh_event(name, now())


def aws(service: str) -> Any:
    return aws_client(service)


@contextmanager
def patched(target: Any, name: str, replacement: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, replacement)
    try:
        yield
    finally:
        setattr(target, name, original)


def invoke(world: World, figures: Figures, function: str, raw: Any) -> Any:
    result = world.invoke(function, raw)
    if isinstance(result, dict):
        if result.get("outcome") == "repaired":
            figures.repairs += 1
        if result.get("alertId"):
            figures.alerts_published += 1
        if result.get("outcome") == "alert_delivered_on_retry":
            figures.alerts_published += 1
        figures.repairs += int(result.get("repaired", 0))
    return result


def quiet(world: World) -> None:
    world.apply_environment(POWERTOOLS_LOG_LEVEL="CRITICAL", POWERTOOLS_METRICS_DISABLED="true")
    import logging

    logging.getLogger("trailguard").setLevel(logging.CRITICAL)


def duplicates(figures: Figures) -> None:
    with seeded_world() as world:
        quiet(world)
        aws("cloudtrail").stop_logging(Name=world.trail_name)
        delivery = event("stop_logging.json")
        for _ in range(100):
            invoke(world, figures, TRAIL, delivery)
        figures.duplicates_sent += 99
        figures.repairs_expected += 1
        figures.alerts_delivered += len(world.drain_alerts())


def lost_events(figures: Figures) -> None:
    with seeded_world() as world:
        quiet(world)
        aws("cloudtrail").stop_logging(Name=world.trail_name)
        aws("cloudtrail").delete_trail(Name=world.trail_name)
        aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
        result = world.invoke("ReconcileInvariantsFunction", {"source": "aws.events"})
        figures.repairs += result["repaired"]
        figures.alerts_published += result["repaired"]
        figures.repairs_expected += 2
        figures.alerts_delivered += len(world.drain_alerts())


def faults(figures: Figures) -> None:
    from moto.cloudtrail.models import CloudTrailBackend
    from moto.core.exceptions import JsonRESTError

    from trailguard.adapters.sns import SnsAlertSink
    from trailguard.errors import AlertNotDelivered, RemediationFailed

    # 1. Throttling: three throttled StartLogging calls, absorbed by standard retries.
    with seeded_world() as world:
        quiet(world)
        aws("cloudtrail").stop_logging(Name=world.trail_name)
        remaining = [3]
        original = CloudTrailBackend.start_logging

        def throttled(self: Any, name: str) -> None:
            if remaining[0]:
                remaining[0] -= 1
                figures.faults_injected += 1
                raise JsonRESTError("ThrottlingException", "Rate exceeded")
            original(self, name)

        with patched(CloudTrailBackend, "start_logging", throttled):
            invoke(world, figures, TRAIL, event("stop_logging.json"))
        figures.repairs_expected += 1
        figures.alerts_delivered += len(world.drain_alerts())

    # 2. SNS down once after a repair: the retry delivers the held alert, no second repair.
    with seeded_world() as world:
        quiet(world)
        aws("cloudtrail").stop_logging(Name=world.trail_name)
        publish = SnsAlertSink.publish_rendered
        broken = [True]

        def flaky(self: SnsAlertSink, rendered: Any) -> str:
            if broken.pop() if broken else False:
                figures.faults_injected += 1
                raise AlertNotDelivered("injected SNS outage", rendered)
            return publish(self, rendered)

        delivery = event("stop_logging.json")
        with patched(SnsAlertSink, "publish_rendered", flaky):
            try:
                invoke(world, figures, TRAIL, delivery)
            except AlertNotDelivered:
                figures.repairs += 1  # the repair happened; the retry must not repeat it
            invoke(world, figures, TRAIL, delivery)
        figures.repairs_expected += 1
        figures.alerts_delivered += len(world.drain_alerts())

    # 3. Delivery ledger gone: remediation goes on without duplicate suppression.
    with seeded_world() as world:
        quiet(world)
        aws("dynamodb").delete_table(TableName=world.ledger_table_name)
        figures.faults_injected += 1
        aws("cloudtrail").stop_logging(Name=world.trail_name)
        invoke(world, figures, TRAIL, event("stop_logging.json"))
        figures.repairs_expected += 1
        figures.alerts_delivered += len(world.drain_alerts())

    # 4. Bucket deleted with the trail: CRITICAL, then the retry after the fix repairs.
    with seeded_world() as world:
        quiet(world)
        aws("cloudtrail").delete_trail(Name=world.trail_name)
        aws("s3").delete_bucket(Bucket="org-trail-logs-111111111111")
        figures.faults_injected += 1
        delivery = event("delete_trail.json")
        try:
            invoke(world, figures, TRAIL, delivery)
        except RemediationFailed:
            figures.alerts_published += 1  # the CRITICAL alert
        aws("s3").create_bucket(Bucket="org-trail-logs-111111111111")
        invoke(world, figures, TRAIL, delivery)
        figures.repairs_expected += 1
        figures.alerts_delivered += len(world.drain_alerts())


def _mutate(rng: random.Random, raw: dict[str, Any]) -> Any:
    hostile: list[Any] = [
        None,
        0,
        -1,
        1e308,
        True,
        [],
        {},
        "",
        "A" * 200_000,
        "\x00\x1b[2J<script>",
        "arn:aws:cloudtrail:us-east-1:111111111111:trail/../x",
        ["org-trail"],
        {"name": 1},
        "org-trail\n",
        "\u202eliart-gro",
    ]
    mutated = copy.deepcopy(raw)
    for _ in range(rng.randint(1, 3)):
        container: Any = mutated
        path = rng.choice(
            [
                ["source"],
                ["detail-type"],
                ["detail"],
                ["detail", "eventName"],
                ["detail", "eventID"],
                ["detail", "eventTime"],
                ["detail", "awsRegion"],
                ["detail", "errorCode"],
                ["detail", "recipientAccountId"],
                ["detail", "userIdentity"],
                ["detail", "requestParameters"],
                ["detail", "requestParameters", "name"],
                ["detail", "requestParameters", "servicePrincipal"],
                ["detail", "requestParameters", "roleName"],
            ]
        )
        for key in path[:-1]:
            container = container.get(key) if isinstance(container, dict) else None
        if isinstance(container, dict):
            if rng.random() < 0.3:
                container.pop(path[-1], None)
            else:
                container[path[-1]] = rng.choice(hostile)
    return mutated


def _still_valid_stop_logging(raw: Any) -> bool:
    from trailguard.domain.events import parse_api_call_event
    from trailguard.errors import InvalidEvent

    try:
        return parse_api_call_event(raw).event_name == "StopLogging"
    except InvalidEvent:
        return False


def bad_inputs(figures: Figures, count: int = 3000) -> None:
    from trailguard.adapters.cloudtrail import CloudTrailGateway
    from trailguard.adapters.iam import IamGateway
    from trailguard.adapters.organizations import OrganizationsGateway

    rng = random.Random(20261124)
    samples = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]
    functions = ["RestoreTrustedAccessFunction", TRAIL, "RestoreServiceLinkedRoleFunction"]
    writes: list[str] = []

    def recorder(name: str) -> Callable[..., None]:
        def record(*_: Any, **__: Any) -> None:
            writes.append(name)

        return record

    with seeded_world() as world:
        quiet(world)
        spies = [(CloudTrailGateway, name) for name in WRITES] + [
            (OrganizationsGateway, "enable"),
            (IamGateway, "create"),
        ]
        originals = [(cls, name, getattr(cls, name)) for cls, name in spies]
        for cls, name in spies:
            setattr(cls, name, recorder(f"{cls.__name__}.{name}"))
        try:
            for index in range(count):
                raw = _mutate(rng, rng.choice(samples))
                # Keep each event's eventID unique so that the ledger does not hide it.
                if isinstance(raw.get("detail"), dict) and isinstance(
                    raw["detail"].get("eventID"), str
                ):
                    raw["detail"]["eventID"] = f"bad-{index}"
                before = len(writes)
                try:
                    world.invoke(functions[index % 3], raw)
                except Exception as exc:
                    figures.bad_inputs_that_crashed += 1
                    figures.notes.append(f"crash: {type(exc).__name__}: {exc}"[:200])
                figures.bad_inputs_tried += 1
                if len(writes) > before:
                    if _still_valid_stop_logging(raw):
                        # The mutation left a valid StopLogging: StartLogging (idempotent)
                        # is the right answer to it, not a write caused by bad input.
                        figures.valid_after_mutation_restarts += 1
                    else:
                        figures.bad_inputs_that_wrote += 1
        finally:
            for cls, name, original in originals:
                setattr(cls, name, original)
        world.drain_alerts()


def main() -> int:
    figures = Figures()
    duplicates(figures)
    lost_events(figures)
    faults(figures)
    bad_inputs(figures)
    rows = [
        ("faults injected", figures.faults_injected),
        ("bad inputs tried", figures.bad_inputs_tried),
        ("bad inputs that crashed a handler", figures.bad_inputs_that_crashed),
        ("bad inputs that made an AWS write", figures.bad_inputs_that_wrote),
        (
            "mutations still a valid StopLogging (restarted)",
            figures.valid_after_mutation_restarts,
        ),
        ("duplicate deliveries sent", figures.duplicates_sent),
        ("repairs made / expected", f"{figures.repairs} / {figures.repairs_expected}"),
        (
            "alerts published / delivered",
            f"{figures.alerts_published} / {figures.alerts_delivered}",
        ),
        ("alerts lost", figures.alerts_lost),
    ]
    width = max(len(name) for name, _ in rows)
    print("trailguard reliability figures (moto, real handlers)")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for note in figures.notes[:10]:
        print(f"  note: {note}")
    healthy = (
        figures.alerts_lost == 0
        and figures.bad_inputs_that_crashed == 0
        and figures.bad_inputs_that_wrote == 0
        and figures.repairs == figures.repairs_expected
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
