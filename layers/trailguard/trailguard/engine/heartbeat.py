"""The heartbeat the reconciler sends the witness on every run (companions/witness).

It carries each invariant's status as this run found it and left it:
`holds` (no drift), `repaired` (drift found and repaired, verified), or `broken`
(drift left: a failed repair, detect-only mode, a missing baseline, state that
could not be read). The witness alerts its own topic on any `broken`, and when
heartbeats stop arriving at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trailguard.domain.alerts import Outcome
from trailguard.domain.text import clean_text
from trailguard.engine.reconciler import ReconcileReport
from trailguard.protected.service_linked_role import INVARIANT as ROLE_INVARIANT
from trailguard.protected.service_linked_role import ROLE_NAME
from trailguard.protected.trailguard_itself import INVARIANT as SELF_INVARIANT
from trailguard.protected.trusted_access import CLOUDTRAIL
from trailguard.protected.trusted_access import INVARIANT as ACCESS_INVARIANT
from trailguard.settings import Settings

SCHEMA = "trailguard.heartbeat/1"
HOLDS, REPAIRED, BROKEN = "holds", "repaired", "broken"
_TRAIL_INVARIANT = "I2-I5 protected trail"
_MAX_FAILURES = 20


def _checked(item: str) -> tuple[str, str]:
    """(invariant, resource) of an entry of ReconcileReport.checked."""
    if item == "I1":
        return ACCESS_INVARIANT, CLOUDTRAIL
    if item == "I6":
        return ROLE_INVARIANT, f"role {ROLE_NAME}"
    return _TRAIL_INVARIANT, item


def _status(resource: str, report: ReconcileReport) -> str:
    if any(failure.startswith(f"{resource}:") for failure in report.failures):
        return BROKEN
    outcomes = {r.outcome for r in report.results if r.resource == resource}
    if outcomes - {Outcome.REPAIRED, Outcome.IN_SYNC}:
        return BROKEN  # detected, not repaired (detect-only mode)
    return REPAIRED if Outcome.REPAIRED in outcomes else HOLDS


def heartbeat(
    report: ReconcileReport | None,
    settings: Settings,
    account_id: str,
    at: datetime,
    *,
    error: str = "",
    alert_key: str = "",
) -> dict[str, Any]:
    """The heartbeat's detail. `report` None: the run failed before it could report
    (`error` says why); every invariant's status is then unknown, so not healthy.
    `alert_key`: the scheduled check of the alert topic's key (holds/repaired/broken)."""
    invariants: list[dict[str, str]] = []
    if alert_key:
        invariants.append(
            {"invariant": SELF_INVARIANT, "resource": settings.alert_key_arn, "status": alert_key}
        )
    failures: list[str] = []
    if report is not None:
        for item in report.checked:
            invariant, resource = _checked(item)
            invariants.append(
                {"invariant": invariant, "resource": resource, "status": _status(resource, report)}
            )
        failures = [clean_text(f, 512) for f in report.failures[:_MAX_FAILURES]]
    healthy = (
        report is not None
        and not error
        and not failures
        and all(i["status"] != BROKEN for i in invariants)
    )
    return {
        "schema": SCHEMA,
        "stack": settings.stack_name,
        "account": account_id,
        "region": settings.region,
        "mode": "detect" if settings.detect_only else "enforce",
        "time": at.isoformat(),
        "healthy": healthy,
        "invariants": invariants,
        "failures": failures,
        "error": clean_text(error, 512),
    }
