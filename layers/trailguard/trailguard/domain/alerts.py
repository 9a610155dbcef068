"""The alert model: what happened, who did it, what trailguard did. Pure data.

Renderers (trailguard.render) turn an Alert into each destination's format.
Attacker-controlled values arrive already cleaned (domain/text.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from trailguard.domain.blind_window import BlindWindow
from trailguard.domain.events import ApiCallEvent


class Severity(Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class Outcome(Enum):
    REPAIRED = "repaired"
    DETECTED = "detected"  # detect-only mode: drift seen, nothing changed
    ALLOWED = "allowed"  # allow-listed principal: alerted, not reverted
    ATTEMPT_FAILED = "attempt_failed"  # the API call itself failed: nothing changed
    REMEDIATION_FAILED = "remediation_failed"
    IN_SYNC = "in_sync"
    # The event's claim is contradicted by the resource's own state (a forged event):
    # nothing is claimed repaired.
    UNVERIFIED = "unverified"
    NOTICE = "notice"
    RECOVERED = "recovered"  # a problem trailguard cannot repair went away (I7)
    DEGRADED = "degraded"  # recording again, but some baseline settings not restored


@dataclass(frozen=True)
class ActionRecord:
    call: str
    target: str
    result: str  # "ok" or the error code


@dataclass(frozen=True)
class AlertContext:
    """Where the alert comes from: filled in by the publisher, once per cold start.

    Services build alerts without it; destinations use it for links and names.
    """

    stack_name: str = ""
    account_alias: str = ""  # iam:ListAccountAliases; '' when the account has none
    function_region: str = ""  # where trailguard runs (its log group, Security Hub)
    log_group: str = ""  # the function's log group (AWS_LAMBDA_LOG_GROUP_NAME)


@dataclass(frozen=True)
class Alert:
    severity: Severity
    outcome: Outcome
    headline: str  # trailguard's own words only; never attacker text
    invariant: str
    resource: str
    account_id: str
    region: str
    event: ApiCallEvent | None = None
    detected_by: str = "event"
    drift: tuple[str, ...] = ()
    actions: tuple[ActionRecord, ...] = ()
    verification: str = ""
    manual_action: str = ""
    detail: str = ""
    repaired_at: datetime | None = None
    blind_window: BlindWindow | None = None  # when the trail recorded nothing (I2/I3/I5)
    context: AlertContext = AlertContext()

    @property
    def seconds_to_repair(self) -> float | None:
        if self.event is None or self.repaired_at is None:
            return None
        return round((self.repaired_at - self.event.event_time).total_seconds(), 3)


def now() -> datetime:
    return datetime.now(UTC)
