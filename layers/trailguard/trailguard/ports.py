"""What the remediation services need from the outside world.

Adapters in trailguard.adapters implement these against AWS; unit tests use
in-memory fakes. Keeping the services on these protocols keeps them free of boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from trailguard.domain.alerts import Alert
from trailguard.domain.blind_window import PendingWindow, TrailHealth
from trailguard.domain.delivery_chain import ChainLocation, DeliveryChain, Part
from trailguard.domain.drift import Aspect, LiveTrail
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.render.sns import RenderedAlert


class TrustedAccess(Protocol):
    def is_enabled(self, service_principal: str) -> bool: ...

    def enable(self, service_principal: str) -> None: ...


class Trails(Protocol):
    def read(self, ref: TrailRef, aspects: frozenset[Aspect]) -> LiveTrail: ...

    def list_home_trails(self, region: str) -> list[TrailSnapshot]: ...

    def foreign_trails(self, region: str) -> list[tuple[str, str]]: ...

    def organization_trails(self, region: str) -> list[TrailRef]: ...

    def create(self, baseline: TrailSnapshot) -> None: ...

    def update(self, baseline: TrailSnapshot) -> None: ...

    def restore_tags(self, baseline: TrailSnapshot, live_tags: dict[str, str]) -> None: ...

    def put_event_selectors(self, baseline: TrailSnapshot) -> None: ...

    def put_insight_selectors(self, baseline: TrailSnapshot) -> None: ...

    def start_logging(self, ref: TrailRef) -> None: ...


class ServiceLinkedRoles(Protocol):
    def exists(self, service_name: str) -> bool: ...

    def create(self, service_name: str) -> None: ...


@dataclass(frozen=True)
class BaselineRead:
    """A protected trail's baseline as read and verified (adapters/baseline_store.py).

    `baseline` is the newest version whose signature holds, or None when none does.
    `problems` is empty when the baseline in force (sk=CURRENT) was present, intact
    and the newest version; otherwise it says what was missing, invalid or stale,
    and `baseline` is what the trail is rebuilt from (`version`)."""

    baseline: TrailBaseline | None
    problems: tuple[str, ...] = ()
    version: str = ""

    @property
    def tampered(self) -> bool:
        return bool(self.problems)


class BaselineStore(Protocol):
    def get(self, ref: TrailRef) -> TrailBaseline | None: ...

    def read(self, ref: TrailRef) -> BaselineRead: ...

    def repair_current(self, ref: TrailRef, version: str) -> None: ...

    def refs(self) -> list[TrailRef]: ...

    def has_baseline(self, ref: TrailRef) -> bool: ...

    def existence_check(self, ref: TrailRef) -> Precondition | None: ...

    def put(self, baseline: TrailBaseline) -> None: ...

    def all(self) -> Iterable[TrailBaseline]: ...


class Signer(Protocol):
    """Signs and verifies baseline versions (adapters/signing.py: a KMS HMAC key)."""

    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, signature: str) -> bool: ...


@dataclass(frozen=True)
class RecordedEvent:
    """A management event as CloudTrail's Event history (LookupEvents) holds it:
    what trailguard trusts instead of an event it was handed."""

    event_id: str
    event_name: str
    principal_arn: str  # the role of a session, else the caller's ARN (CloudTrailEvent)
    error_code: str = ""


class EventRecords(Protocol):
    """Corroborates an event by its id in CloudTrail Event history (LookupEvents)."""

    def find(self, event_id: str, region: str) -> RecordedEvent | None: ...


class AlertSink(Protocol):
    def publish(self, alert: Alert) -> str: ...

    def publish_rendered(self, rendered: RenderedAlert) -> str: ...


class Claim(Enum):
    NEW = "new"  # first delivery: act
    DONE = "done"  # handled before: do nothing
    IN_PROGRESS = "in_progress"  # another invocation holds it right now
    ALERT_PENDING = "alert_pending"  # repaired, but the alert still has to go out


@dataclass(frozen=True)
class LedgerEntry:
    claim: Claim
    summary: dict[str, Any] = field(default_factory=dict)
    pending_alert: RenderedAlert | None = None


@dataclass(frozen=True)
class Precondition:
    """An item that must exist for an event to concern trailguard, checked in the same
    write as the ledger claim (one call instead of two on a cold incident).

    Opaque to the domain: the baseline store builds it, the ledger checks it, and
    `answer` tells the store what was found (True: the item exists). When it does
    not, nothing is claimed: the event concerns nothing trailguard protects.
    """

    table: str
    key: dict[str, Any]
    answer: Callable[[bool], None]


class DeliveryLedger(Protocol):
    """Remembers which CloudTrail events (by eventID) were handled."""

    def claim(self, key: str, precondition: Precondition | None = None) -> LedgerEntry: ...

    def complete(self, key: str, summary: dict[str, Any]) -> None: ...

    def hold_alert(self, key: str, rendered: RenderedAlert, summary: dict[str, Any]) -> None: ...

    def release(self, key: str) -> None: ...


class HealthStore(Protocol):
    """What trailguard last observed of each protected trail (domain/blind_window.py)."""

    def get(self, ref: TrailRef) -> TrailHealth: ...

    def put(self, ref: TrailRef, health: TrailHealth) -> bool: ...

    def add_window(self, ref: TrailRef, window: PendingWindow) -> None: ...

    def set_degraded(self, ref: TrailRef, drift: str) -> None: ...


class EventHistory(Protocol):
    """CloudTrail Event history of this account: (LookupEvents' events, pages left unread)."""

    def lookup(
        self, region: str, start: datetime, end: datetime, *, patient: bool = True
    ) -> tuple[list[Mapping[str, Any]], bool]: ...


class AlertKey(Protocol):
    """The alert topic's KMS key (adapters/kms.py)."""

    def state(self, key_id: str) -> str: ...

    def enable(self, key_id: str) -> None: ...

    def cancel_deletion(self, key_id: str) -> None: ...


class Alarms(Protocol):
    """trailguard's CloudWatch alarms (adapters/cloudwatch.py)."""

    def actions_enabled(self, names: list[str]) -> dict[str, bool]: ...

    def enable_actions(self, names: list[str]) -> None: ...


class Rules(Protocol):
    """trailguard's EventBridge rules (adapters/events_rules.py)."""

    def state(self, name: str, bus: str) -> str: ...

    def enable(self, name: str, bus: str) -> None: ...


@dataclass(frozen=True)
class OwnResources:
    """What self-protection may repair on trailguard itself; the rest is a redeploy."""

    alert_key: AlertKey
    alarms: Alarms
    rules: Rules


class DeliveryChains(Protocol):
    """The trail's bucket, key and log group, in whichever account owns them."""

    def bucket_account(self, home_account: str) -> str: ...

    def read(
        self, location: ChainLocation, parts: frozenset[Part], home_account: str
    ) -> DeliveryChain: ...

    def bucket(self, location: ChainLocation, home_account: str) -> Any: ...

    def key(self, location: ChainLocation, home_account: str) -> Any: ...

    def logs(self) -> Any: ...
