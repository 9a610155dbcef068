"""EventBridge events for the drill, made from the real-shaped samples in events/,
and the Scheduled Event a schedule's rule sends its target."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drill.template import ROOT
from drill.world import ACCOUNT, REGION, load_event

EVENTS_DIR = ROOT / "events"


def event_time(at: datetime) -> str:
    # CloudTrail writes whole seconds. The drill keeps milliseconds so that the
    # alert's secondsToRepair measures the repair, not where in a second the attack fell.
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _envelope_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def renewed(event: dict[str, Any], at: datetime) -> dict[str, Any]:
    """A copy of `event` as a new delivery of a call made at `at`: its own envelope id
    and detail.eventID (trailguard keys duplicates on it), and the times of `at`."""
    event = copy.deepcopy(event)
    event["id"] = str(uuid.uuid4())
    event["time"] = _envelope_time(at)
    detail = event.setdefault("detail", {})
    detail["eventID"] = str(uuid.uuid4())
    detail["eventTime"] = event_time(at)
    return event


def fresh_event(
    sample: str | Path, at: datetime, request_parameters: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The sample event as AWS would emit it for a call made at `at`.

    A new detail.eventID makes each attack a distinct CloudTrail record (trailguard
    keys duplicates on it); the envelope gets its own id, as EventBridge gives one.
    `request_parameters` replace the sample's where the attack named other resources.
    """
    path = sample if isinstance(sample, Path) else EVENTS_DIR / sample
    event = renewed(load_event(path), at)
    detail = event["detail"]
    if request_parameters:
        detail["requestParameters"] = {
            **(detail.get("requestParameters") or {}),
            **request_parameters,
        }
    return event


def scheduled_event(rule_name: str, at: datetime) -> dict[str, Any]:
    """What a schedule's EventBridge rule sends its target when it fires at `at`."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": _envelope_time(at),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule_name}"],
        "detail": {},
    }


def now() -> datetime:
    return datetime.now(UTC)
