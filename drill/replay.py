"""Replaying an event file (`python -m drill --event FILE [--apply]`).

A file may hold an EventBridge event, as the rules of template.yaml receive it,
or what CloudTrail itself writes: one record, or a `{"Records": [...]}` log
file. A CloudTrail record is wrapped into the event EventBridge makes of it
(https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-cloudtrail.html),
and the report says so.

With `--apply` the call the event records is first made against the drill's
world, as the caller made it, so that the replay shows what trailguard does
about the real change. Without it the event is delivered as it is, to a world
where nothing changed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drill.events import now, renewed
from drill.handler_output import HandlerOutput
from drill.invariants import EVERY_CHECK, check
from drill.routing import deliver
from drill.runner import (
    AFTER_ATTACK,
    AFTER_TRAILGUARD,
    BEFORE,
    AfterPlays,
    DrillReport,
    Play,
    run_plays,
)
from drill.scenarios import MOTO_SERVICE_LINKED_ROLE, Attack
from drill.world import REGION, World, aws_client
from trailguard.protected.trailguard_itself import base_name  # DeleteFunction20150331

# EventBridge's detail-type for each CloudTrail eventType.
DETAIL_TYPES = {
    "AwsApiCall": "AWS API Call via CloudTrail",
    "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
    "AwsServiceEvent": "AWS Service Event via CloudTrail",
}


class ReplayError(ValueError):
    """The file cannot be replayed; the message says why and what would do."""


@dataclass(frozen=True)
class Replayed:
    """One event to deliver, and how it was made from the file."""

    event: dict[str, Any]
    label: str  # "record 2 of 3" for a CloudTrail log file, else ""
    wrapped: bool  # a CloudTrail record, wrapped as EventBridge delivers it


def is_cloudtrail_record(value: Any) -> bool:
    """A record as CloudTrail writes it: eventSource and eventName at the top,
    where an EventBridge event has them under `detail`."""
    return (
        isinstance(value, dict)
        and "detail" not in value
        and isinstance(value.get("eventSource"), str)
        and isinstance(value.get("eventName"), str)
    )


def as_eventbridge_event(record: dict[str, Any]) -> dict[str, Any]:
    """The event EventBridge makes of a CloudTrail record: the record is its detail."""
    service = record["eventSource"].split(".", 1)[0]
    when = str(record.get("eventTime", ""))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPES.get(str(record.get("eventType")), DETAIL_TYPES["AwsApiCall"]),
        "source": f"aws.{service}",
        "account": record.get("recipientAccountId", ""),
        "time": when[:19] + "Z" if len(when) >= 19 else when,
        "region": record.get("awsRegion", REGION),
        "resources": [],
        "detail": record,
    }


def read_replay(path: Path) -> list[Replayed]:
    """The events to deliver from the file; ReplayError when there are none."""
    try:
        with path.open() as handle:
            content = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ReplayError(str(exc)) from exc
    if not isinstance(content, dict):
        raise ReplayError("an EventBridge event (or a CloudTrail record) is a JSON object")
    if "Records" in content and "detail" not in content:
        records = content["Records"]
        if not isinstance(records, list) or not records:
            raise ReplayError('"Records" holds no CloudTrail record to replay')
        bad = [n for n, r in enumerate(records, start=1) if not is_cloudtrail_record(r)]
        if bad:
            raise ReplayError(
                f"record {bad[0]} of {len(records)} is not a CloudTrail record "
                "(an object with eventSource and eventName)"
            )
        return [
            Replayed(as_eventbridge_event(r), f"record {n} of {len(records)}", True)
            for n, r in enumerate(records, start=1)
        ]
    if is_cloudtrail_record(content):
        return [Replayed(as_eventbridge_event(content), "", True)]
    return [Replayed(content, "", False)]


# ------------------------------------------------------------------ --apply


def _to_shape(value: Any, shape: Any, dropped: list[str], where: str) -> Any:
    """requestParameters as the API's input: CloudTrail writes the members in
    camelCase (s3BucketName), the API names them S3BucketName."""
    kind = getattr(shape, "type_name", "")
    if kind == "structure" and isinstance(value, dict):
        members = {name.lower(): name for name in shape.members}
        converted = {}
        for key, item in value.items():
            name = members.get(str(key).lower())
            if name is None:
                dropped.append(f"{where}{key}")
                continue
            converted[name] = _to_shape(item, shape.members[name], dropped, f"{where}{key}.")
        return converted
    if kind == "list" and isinstance(value, list):
        return [_to_shape(item, shape.member, dropped, where) for item in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _to_shape(v, shape.value, dropped, where) for k, v in value.items()}
    return value


def recorded_call(event: dict[str, Any]) -> tuple[Attack, tuple[str, ...]]:
    """eventSource, eventName and requestParameters as the call they record, made the way
    the drill's scenarios make theirs, and the requestParameters the API does not take.
    ReplayError when the event records no call the drill can make."""
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise ReplayError("the event has no detail: it records no call")
    if detail.get("errorCode"):
        raise ReplayError(
            f"the event records a refused call (errorCode {detail['errorCode']}): "
            "AWS changed nothing, so neither does the drill"
        )
    source, name = detail.get("eventSource"), detail.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        raise ReplayError("the event names no eventSource and eventName")
    service = source.split(".", 1)[0]
    try:
        client = aws_client(service, str(detail.get("awsRegion") or REGION))
    except Exception as exc:  # an unknown service: botocore's UnknownServiceError
        raise ReplayError(f"no AWS API for {source}: {exc}") from exc
    model = client.meta.service_model
    operation = base_name(name)
    if operation not in model.operation_names:
        raise ReplayError(f"{service} has no API operation {operation}")
    dropped: list[str] = []
    parameters = _to_shape(
        detail.get("requestParameters") or {},
        model.operation_model(operation).input_shape,
        dropped,
        "",
    )
    if (service, operation) == ("iam", "DeleteServiceLinkedRole") and parameters.get(
        "RoleName"
    ) == "AWSServiceRoleForCloudTrail":
        # moto names the role after the lower-case service name (see drill/scenarios.py).
        parameters["RoleName"] = MOTO_SERVICE_LINKED_ROLE
    return Attack(service, operation, dict(parameters)), tuple(dropped)


# ------------------------------------------------------------------ playing


def replay(world: World, path: Path, item: Replayed, output: HandlerOutput, apply: bool) -> Play:
    """Deliver one event of the file; with `apply`, make its call first."""
    event = item.event
    states = {BEFORE: check(world, EVERY_CHECK)}
    attacks: tuple[str, ...] = ()
    attack_error = ""
    attacked_at = ""
    problems: list[str] = []
    notes = []
    if item.wrapped:
        notes.append(
            "a CloudTrail record, wrapped as EventBridge delivers it: the record is the "
            f"event's detail, source {event['source']}, detail-type {event['detail-type']!r}"
        )
    if apply:
        try:
            call, dropped = recorded_call(event)
        except ReplayError as exc:
            notes.append(f"--apply: no call made: {exc}")
        else:
            # The call is made now: the event says so, with its own ids and times.
            at = now()
            event = renewed(event, at)
            attacked_at = str(event["detail"]["eventTime"])
            attacks = (call.describe(),)
            if dropped:
                notes.append("--apply: not API parameters, left out: " + ", ".join(dropped))
            try:
                call.perform()
            except Exception as exc:  # the world refused the call: say so, deliver anyway
                attack_error = f"{type(exc).__name__}: {exc}"
                problems.append(
                    f"the event's call failed against the drill's world ({attack_error}); "
                    "the event was delivered all the same"
                )
        states[AFTER_ATTACK] = check(world, EVERY_CHECK)
        if attacks and not attack_error and states[AFTER_ATTACK] == states[BEFORE]:
            notes.append(
                "--apply: the call changed nothing the drill checks (moto may not model it: "
                "docs/testing-offline.md)"
            )
    delivery = deliver(world, event, output)
    states[AFTER_TRAILGUARD] = check(world, EVERY_CHECK)
    if not delivery.invocations:
        notes.append(
            "no rule of template.yaml matches this event: EventBridge would not deliver it"
        )
    elif not apply:
        notes.append(
            "delivered as it is, with no API call made first (--apply makes it): in the healthy "
            "seeded world there is nothing to repair, so expect in_sync, an attempt alert, a "
            "notice, an idempotent StartLogging (StopLogging) or an alert about trailguard itself"
        )
    which = f", {item.label}" if item.label else ""
    return Play(
        name=path.name + (f" ({item.label})" if item.label else ""),
        title=f"replay of {path}{which}",
        note="; ".join(notes),
        attacks=attacks,
        attack_error=attack_error,
        attacked_at=attacked_at,
        states=tuple(states.items()),
        deliveries=(delivery,),
        problems=tuple(problems),
        replayed=True,
    )


def run_replay(
    path: Path,
    on_play: Callable[[Play], None] | None = None,
    apply: bool = False,
    after: AfterPlays | None = None,
) -> DrillReport:
    """Replay every event of the file against one seeded world, in order."""
    items = read_replay(path)

    def step_for(item: Replayed) -> Callable[[World, HandlerOutput], Play]:
        def step(world: World, output: HandlerOutput) -> Play:
            return replay(world, path, item, output, apply)

        return step

    return run_plays("replay", [step_for(item) for item in items], on_play, after=after)
