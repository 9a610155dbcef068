"""Blind windows: when the trail recorded nothing, and what Event history saw then.

A trail is blind while it is stopped, deleted, or its selectors drop management
events. trailguard remembers per protected trail what it last observed
(`TrailHealth`); a later observation, or a verified repair, closes a window.
Event history (LookupEvents) keeps the account's management events whether or
not any trail logs: the write calls it lists inside the window are what the
organization trail missed. It covers this (the management) account only, and
events appear in it after a delay, so a window is queried again until it settles.

Pure logic; the strings of Event history records are cleaned here, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from trailguard.domain.delivery import TrailStatus
from trailguard.domain.text import clean_text

GLOBAL_REGION = "us-east-1"  # where Event history keeps IAM, Organizations and STS calls
# A first run (no earlier observation) reports a stop and start this recent.
FIRST_LOOK = timedelta(hours=1)
COVERAGE = (
    "Event history of the management account only: calls made in member accounts, "
    "and data events, are not listed."
)


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Call:
    """One write call seen in Event history, its strings cleaned."""

    event_id: str
    time: datetime
    name: str
    source: str
    principal: str
    source_ip: str
    region: str

    def document(self) -> dict[str, str]:
        return {
            "time": self.time.astimezone(UTC).isoformat(),
            "eventName": self.name,
            "eventSource": self.source,
            "principal": self.principal,
            "sourceIp": self.source_ip,
            "region": self.region,
            "eventId": self.event_id,
        }


def _principal(identity: Mapping[str, Any]) -> tuple[str, str]:
    """(shown principal, session issuer ARN) of a CloudTrail userIdentity."""
    issuer = identity.get("sessionContext", {}).get("sessionIssuer", {}).get("arn", "")
    arn = identity.get("arn") or identity.get("principalId") or identity.get("type") or "unknown"
    return clean_text(arn, 300), clean_text(issuer, 300)


def write_calls(
    events: Iterable[Mapping[str, Any]], region: str, own_roles: Iterable[str]
) -> list[Call]:
    """The write calls among LookupEvents' Event structures, without trailguard's own."""
    own = set(own_roles)
    calls = []
    for event in events:
        if str(event.get("ReadOnly", "")).lower() == "true":
            continue
        try:
            record = json.loads(event.get("CloudTrailEvent") or "{}")
        except ValueError:
            record = {}
        record = record if isinstance(record, dict) else {}
        principal, issuer = _principal(record.get("userIdentity") or {})
        if issuer and issuer in own:
            continue
        when = event.get("EventTime")
        if not isinstance(when, datetime):
            continue
        calls.append(
            Call(
                event_id=clean_text(event.get("EventId"), 64),
                time=when if when.tzinfo else when.replace(tzinfo=UTC),
                name=clean_text(event.get("EventName"), 128),
                source=clean_text(event.get("EventSource"), 128),
                principal=principal
                if principal != "unknown"
                else clean_text(event.get("Username"), 128),
                source_ip=clean_text(record.get("sourceIPAddress"), 64),
                region=clean_text(record.get("awsRegion"), 32) or region,
            )
        )
    return calls


@dataclass(frozen=True)
class BlindWindow:
    """From `start` to `end` the trail recorded nothing; `calls` what Event history saw."""

    start: datetime
    end: datetime
    reason: str
    calls: tuple[Call, ...] = ()
    truncated: int = 0  # calls found but not listed (the list is bounded)
    unread: bool = False  # Event history had more pages than a run reads
    complete: bool = False  # Event history has settled for the whole window
    regions: tuple[str, ...] = ()
    follow_up: bool = False  # this alert adds calls that appeared after an earlier one

    @property
    def seconds(self) -> float:
        return round((self.end - self.start).total_seconds(), 3)

    def document(self) -> dict[str, Any]:
        return {
            "from": self.start.astimezone(UTC).isoformat(),
            "to": self.end.astimezone(UTC).isoformat(),
            "seconds": self.seconds,
            "reason": self.reason,
            "calls": [c.document() for c in self.calls],
            "truncated": self.truncated,
            "moreNotRead": self.unread,
            "complete": self.complete,
            "followUp": self.follow_up,
            "regions": list(self.regions),
            "coverage": COVERAGE,
        }


def bounded(window: BlindWindow, calls: list[Call], limit: int, unread: bool) -> BlindWindow:
    """`window` listing the first `limit` calls (oldest first), the rest counted."""
    ordered = sorted(calls, key=lambda c: (c.time, c.event_id))
    shown = tuple(ordered[:limit])
    return replace(window, calls=shown, truncated=len(ordered) - len(shown), unread=unread)


def regions_for(home_region: str) -> tuple[str, ...]:
    """The trail's home region, and us-east-1 for the global services."""
    return tuple(dict.fromkeys((home_region, GLOBAL_REGION)))


# ---------------------------------------------------------------- what was last observed


@dataclass(frozen=True)
class Observation:
    at: datetime
    exists: bool
    logging: bool
    start_logging_time: datetime | None = None
    stop_logging_time: datetime | None = None
    records_management: bool = True  # selectors keep management events

    @property
    def recording(self) -> bool:
        return self.exists and self.logging and self.records_management


@dataclass(frozen=True)
class PendingWindow:
    """A window reported before Event history settled: queried again until `settles_at`."""

    start: datetime
    end: datetime
    reason: str
    settles_at: datetime
    seen: tuple[str, ...] = ()  # event ids already reported


@dataclass(frozen=True)
class TrailHealth:
    """What trailguard remembers about one protected trail between runs."""

    observation: Observation | None = None
    last_recording: datetime | None = None  # last time it was seen recording
    delivery_signature: str = ""  # the open I7 incident ("" when none)
    delivery_since: datetime | None = None
    windows: tuple[PendingWindow, ...] = ()
    # The drift a degraded repair left (optional settings not restorable): the same
    # drift on the next runs is the same incident, retried without a new alert.
    degraded: str = ""
    version: int = 0

    def to_json(self) -> str:
        obs = self.observation
        return json.dumps(
            {
                "observation": None
                if obs is None
                else {
                    **asdict(obs),
                    "at": _iso(obs.at),
                    "start_logging_time": _iso(obs.start_logging_time),
                    "stop_logging_time": _iso(obs.stop_logging_time),
                },
                "last_recording": _iso(self.last_recording),
                "delivery_signature": self.delivery_signature,
                "delivery_since": _iso(self.delivery_since),
                "degraded": self.degraded,
                "windows": [window_json(w) for w in self.windows],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str, version: int = 0) -> TrailHealth:
        document = json.loads(text) if text else {}
        raw = document.get("observation")
        observation = None
        if raw:
            observation = Observation(
                at=_parse(raw["at"]) or datetime.now(UTC),
                exists=bool(raw["exists"]),
                logging=bool(raw["logging"]),
                start_logging_time=_parse(raw.get("start_logging_time")),
                stop_logging_time=_parse(raw.get("stop_logging_time")),
                records_management=bool(raw.get("records_management", True)),
            )
        return cls(
            observation=observation,
            last_recording=_parse(document.get("last_recording")),
            delivery_signature=str(document.get("delivery_signature", "")),
            delivery_since=_parse(document.get("delivery_since")),
            windows=tuple(window_from(w) for w in document.get("windows", [])),
            degraded=str(document.get("degraded", "")),
            version=version,
        )


def window_json(window: PendingWindow) -> dict[str, Any]:
    return {
        "start": _iso(window.start),
        "end": _iso(window.end),
        "reason": window.reason,
        "settles_at": _iso(window.settles_at),
        "seen": list(window.seen),
    }


def window_from(raw: Mapping[str, Any]) -> PendingWindow:
    return PendingWindow(
        start=_parse(raw["start"]) or datetime.now(UTC),
        end=_parse(raw["end"]) or datetime.now(UTC),
        reason=str(raw.get("reason", "")),
        settles_at=_parse(raw["settles_at"]) or datetime.now(UTC),
        seen=tuple(str(s) for s in raw.get("seen", [])),
    )


def observe(
    at: datetime, exists: bool, status: TrailStatus | None, records_management: bool
) -> Observation:
    return Observation(
        at=at,
        exists=exists,
        logging=bool(status and status.is_logging),
        start_logging_time=status.start_logging_time if status else None,
        stop_logging_time=status.stop_logging_time if status else None,
        records_management=records_management,
    )


def restart_between(
    before: Observation | None, now: Observation, known: Iterable[PendingWindow] = ()
) -> tuple[datetime, datetime] | None:
    """A stop followed by a start between two observations that both saw it logging.

    GetTrailStatus keeps the last StartLoggingTime and StopLoggingTime: a newer
    start than the one seen before, with a stop after that earlier start, means the
    trail was stopped and started again in between. No event may have said so.
    Windows already known (a repair reported them) are not reported again.
    Without an earlier observation (the first run), a stop less than FIRST_LOOK ago
    followed by a start counts too.
    """
    if not (now.exists and now.logging) or now.start_logging_time is None:
        return None
    if before is None:
        stop = now.stop_logging_time
        if stop is None or stop > now.start_logging_time or now.at - stop > FIRST_LOOK:
            return None
        return _unknown((stop, now.start_logging_time), known)
    if not (before.exists and before.logging):
        return None
    if before.start_logging_time is None or now.start_logging_time <= before.start_logging_time:
        return None
    stop = now.stop_logging_time
    start = stop if stop and stop >= before.start_logging_time else before.at
    return _unknown((start, now.start_logging_time), known)


def _unknown(
    window: tuple[datetime, datetime], known: Iterable[PendingWindow]
) -> tuple[datetime, datetime] | None:
    start, end = window
    # A repair's window runs from its event (whole seconds, so no later than the stop)
    # to its verification (no earlier than its StartLogging): it covers the restart.
    for other in known:
        if other.start <= end and start <= other.end:
            return None
    return window
