"""EventBridge events for the drill, made from the real-shaped samples in events/."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drill.template import ROOT
from drill.world import load_event

EVENTS_DIR = ROOT / "events"


def event_time(at: datetime) -> str:
    # CloudTrail writes whole seconds. The drill keeps milliseconds so that the
    # alert's secondsToRepair measures the repair, not where in a second the attack fell.
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fresh_event(sample: str | Path, at: datetime) -> dict[str, Any]:
    """The sample event as AWS would emit it for a call made at `at`.

    A new detail.eventID makes each attack a distinct CloudTrail record (trailguard
    keys duplicates on it); the envelope gets its own id, as EventBridge gives one.
    """
    path = sample if isinstance(sample, Path) else EVENTS_DIR / sample
    event = copy.deepcopy(load_event(path))
    event["id"] = str(uuid.uuid4())
    event["time"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    detail = event.setdefault("detail", {})
    detail["eventID"] = str(uuid.uuid4())
    detail["eventTime"] = event_time(at)
    return event


def now() -> datetime:
    return datetime.now(UTC)
