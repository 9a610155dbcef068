"""The shared shape of every remediation: act, verify, alert; CRITICAL on failure.

Services (the modules of trailguard.protected)
decide what drifted and which steps repair it; this module runs the steps,
records each call, re-reads state to verify, and reports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NoReturn

from trailguard.concurrency import together
from trailguard.domain.alerts import ActionRecord, Alert, Outcome, Severity, now
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict, judge
from trailguard.domain.storm import WINDOW, StormDamper
from trailguard.errors import AlertNotDelivered, AwsCallFailed, RemediationFailed
from trailguard.ports import (
    AlertSink,
    BaselineStore,
    DeliveryChains,
    DeliveryLedger,
    EventHistory,
    EventRecords,
    HealthStore,
    OwnResources,
    ServiceLinkedRoles,
    Trails,
    TrustedAccess,
)
from trailguard.render.fallback import render_safely
from trailguard.settings import Settings

logger = logging.getLogger("trailguard")


def _pause(seconds: float) -> None:
    time.sleep(seconds)


@dataclass
class Dependencies:
    settings: Settings
    trusted_access: TrustedAccess
    trails: Trails
    roles: ServiceLinkedRoles
    baselines: BaselineStore
    alerts: AlertSink
    clock: Callable[[], datetime] = now
    sleep: Callable[[float], None] = _pause
    ledger: DeliveryLedger | None = None
    storm: StormDamper = field(default_factory=StormDamper)
    # Trail ARN -> when this execution environment last restarted it (protected/trail.py).
    restarted: dict[str, datetime] = field(default_factory=dict)
    # Delivery health and blind windows (protected/trail_delivery.py); None: not tracked.
    health: HealthStore | None = None
    history: EventHistory | None = None
    # CloudTrail Event history, to corroborate allow-listed changes (None: nothing is).
    event_records: EventRecords | None = None
    # Reads made for this invocation alongside the ledger claim (engine/handler.py),
    # by key; emptied at the start of every invocation, so never stale.
    prefetched: dict[str, Any] = field(default_factory=dict)
    # trailguard's own alert key, alarms and rules (protected/trailguard_itself.py).
    own: OwnResources | None = None
    # The trails' buckets, keys and log groups (protected/delivery_chain.py).
    chain: DeliveryChains | None = None


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    resource: str
    reason: str = ""
    actions: tuple[ActionRecord, ...] = ()
    alert_id: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "resource": self.resource,
            "reason": self.reason,
            "actions": [f"{a.call} {a.target}: {a.result}" for a in self.actions],
            "alertId": self.alert_id,
        }


@dataclass(frozen=True)
class Subject:
    """What an alert is about: the invariant, the resource, and the triggering event."""

    invariant: str
    resource: str
    account_id: str
    region: str
    event: ApiCallEvent | None
    detected_by: str = "event"

    def alert(self, severity: Severity, outcome: Outcome, headline: str, **fields: Any) -> Alert:
        return Alert(
            severity=severity,
            outcome=outcome,
            headline=headline,
            invariant=self.invariant,
            resource=self.resource,
            account_id=self.account_id,
            region=self.region,
            event=self.event,
            detected_by=self.detected_by,
            **fields,
        )


@dataclass(frozen=True)
class Action:
    call: str
    target: str
    run: Callable[[], None]
    # Consecutive actions marked `together` are independent: they run at the same time.
    together: bool = False


@dataclass
class Repair:
    """A planned repair: the drift it answers, its actions, how to verify it."""

    subject: Subject
    drift: tuple[str, ...]
    actions: list[Action]
    verify: Callable[[], list[str]]  # remaining drift, empty when repaired
    manual_action: str
    on_step_failure: Callable[[Action, AwsCallFailed], list[Action] | None] = field(
        default=lambda action, exc: None
    )
    # Adds to the alert of a verified repair what only the service knows (a blind window).
    annotate: Callable[[Alert], Alert] = field(default=lambda alert: alert)
    # When the remaining drift is only what the service chose to leave (an optional
    # dependency that is broken): (headline, manual action) of the CRITICAL it sends.
    degraded: Callable[[list[str]], tuple[str, str] | None] = field(default=lambda remaining: None)
    # Raised above HIGH, with why, when the drift says more than itself: trailguard's
    # own role misused, a tampered baseline, an allow-listed event that is not real.
    severity: Severity = Severity.HIGH
    notes: tuple[str, ...] = ()
    # After a verified repair: why the resource's own state contradicts the event
    # ("" when it does not). A contradicted event gets an UNVERIFIED alert instead
    # of a repair claim (a forged StopLogging while the trail was logging).
    contradicted: Callable[[], str] | None = None


def notify(deps: Dependencies, alert: Alert) -> str:
    """Publish; a delivery failure is logged and re-raised so the event is retried.

    In a storm of the same drift only milestone alerts go out (domain/storm.py); the
    others are logged and counted, and return no message id.
    """
    occurrence = deps.storm.admit(alert, detect_only=deps.settings.detect_only)
    if occurrence is None:
        logger.info(
            "alert damped: same drift repeated in this window",
            extra={"resource": alert.resource, "invariant": alert.invariant},
        )
        return ""
    if occurrence > 1:
        alert = replace(
            alert,
            detail=(
                f"Storm: this is occurrence {occurrence} of this alert within "
                f"{int(WINDOW.total_seconds() // 60)} minutes; alerts between milestones "
                f"(1, 2, 3, 10, 100, ...) are not sent. {alert.detail}"
            ).strip(),
        )
    try:
        return deps.alerts.publish(alert)
    except Exception as exc:
        logger.exception(
            "alert not delivered",
            extra={"severity": alert.severity.value, "resource": alert.resource},
        )
        if isinstance(exc, AlertNotDelivered):
            raise
        raise AlertNotDelivered(str(exc), render_safely(alert)) from exc


def report_only(
    deps: Dependencies,
    subject: Subject,
    severity: Severity,
    outcome: Outcome,
    headline: str,
    **fields: Any,
) -> Result:
    alert = subject.alert(severity, outcome, headline, **fields)
    logger.info(headline, extra={"outcome": outcome.value, "resource": subject.resource})
    return Result(outcome, subject.resource, headline, alert_id=notify(deps, alert))


def screen(
    event: ApiCallEvent, deps: Dependencies, subject: Subject, refused: str
) -> tuple[Verdict, Result | None]:
    """The guards every service applies first (domain/guards.py).

    Refused attempts end here with a WARNING that says `refused`. Otherwise the
    result is None and the verdict (ACT, ALLOWED or OWN_ROLE) tells the service how
    to go on: an event under trailguard's own role is checked, never ignored.
    """
    verdict = judge(event, deps.settings)
    if verdict is Verdict.FAILED_ATTEMPT:
        return verdict, report_only(
            deps, subject, Severity.WARNING, Outcome.ATTEMPT_FAILED, refused
        )
    return verdict, None


def detected(
    deps: Dependencies,
    subject: Subject,
    drift: tuple[str, ...],
    severity: Severity = Severity.HIGH,
    notes: tuple[str, ...] = (),
) -> Result:
    return report_only(
        deps,
        subject,
        severity,
        Outcome.DETECTED,
        "drift detected; detect-only mode, nothing changed",
        drift=drift,
        detail=" ".join(notes),
        manual_action="repair by hand or switch trailguard to enforce mode "
        "(parameter Mode=enforce) and run `trailguard reconcile`",
    )


def _verify(repair: Repair, deps: Dependencies) -> list[str]:
    # Some AWS reads are eventually consistent right after a write (a trail
    # just created may not be described yet): re-read a few times, briefly.
    remaining = repair.verify()
    for delay in (0.5, 1.0, 2.0):
        if not remaining:
            break
        deps.sleep(delay)
        remaining = repair.verify()
    return remaining


def _next_batch(pending: list[Action]) -> list[Action]:
    """The next action, or the run of consecutive independent ones."""
    batch = [pending.pop(0)]
    while batch[0].together and pending and pending[0].together:
        batch.append(pending.pop(0))
    return batch


def _run_batch(batch: list[Action]) -> list[AwsCallFailed | None]:
    """Run the batch (at the same time when it has several actions); per action, its error."""

    def attempt(action: Action) -> Callable[[], AwsCallFailed | None]:
        def run() -> AwsCallFailed | None:
            try:
                action.run()
            except AwsCallFailed as exc:
                return exc
            return None

        return run

    done = together({str(i): attempt(action) for i, action in enumerate(batch)})
    return [done[str(i)] for i in range(len(batch))]


def execute(deps: Dependencies, repair: Repair) -> Result:
    subject = repair.subject
    records: list[ActionRecord] = []
    pending = list(repair.actions)
    failure: AwsCallFailed | None = None
    while pending and failure is None:
        batch = _next_batch(pending)
        for action, exc in zip(batch, _run_batch(batch), strict=True):
            if exc is None:
                records.append(ActionRecord(action.call, action.target, "ok"))
                continue
            records.append(ActionRecord(action.call, action.target, exc.code))
            fallback = repair.on_step_failure(action, exc)
            if fallback is None:
                failure = failure or exc
                continue
            replaced = {a.call for a in fallback}
            pending = fallback + [a for a in pending if a.call not in replaced]

    try:
        remaining = _verify(repair, deps) if failure is None else repair.verify()
    except AwsCallFailed as exc:
        remaining = [f"state could not be re-read: {exc}"]
        failure = failure or exc

    if failure is None and not remaining:
        contradiction = repair.contradicted() if repair.contradicted else ""
        if contradiction:
            return _unverified(deps, repair, tuple(records), contradiction)
        alert = subject.alert(
            repair.severity,
            Outcome.REPAIRED,
            "drift repaired and verified",
            drift=repair.drift,
            actions=tuple(records),
            verification="state re-read after repair matches the baseline",
            repaired_at=deps.clock(),
            detail=" ".join(repair.notes),
        )
        alert = repair.annotate(alert)
        logger.info(
            "repaired",
            extra={"resource": subject.resource, "actions": [r.call for r in records]},
        )
        return Result(
            Outcome.REPAIRED, subject.resource, "repaired", tuple(records), notify(deps, alert)
        )

    degraded = repair.degraded(remaining) if failure is None else None
    if degraded is not None:
        # Recording again; only optional settings are missing. One CRITICAL says which,
        # and no raise: a retry of the event could only repeat it.
        headline, manual = degraded
        alert = repair.annotate(
            subject.alert(
                Severity.CRITICAL,
                Outcome.DEGRADED,
                headline,
                drift=repair.drift,
                actions=tuple(records),
                verification="recording; still drifted: " + "; ".join(remaining),
                manual_action=manual,
                repaired_at=deps.clock(),
            )
        )
        logger.error("repaired without optional settings", extra={"remaining": remaining})
        return Result(
            Outcome.DEGRADED, subject.resource, headline, tuple(records), notify(deps, alert)
        )
    manual = repair.manual_action
    if failure is not None:
        manual = f"{failure.hint}. Then: {repair.manual_action}"
    alert = subject.alert(
        Severity.CRITICAL,
        Outcome.REMEDIATION_FAILED,
        "REMEDIATION FAILED, invariant still broken",
        drift=repair.drift,
        actions=tuple(records),
        verification="still drifted: " + "; ".join(remaining) if remaining else "not verified",
        manual_action=manual,
        detail=" ".join((*repair.notes, str(failure) if failure else "")).strip(),
    )
    logger.error(
        "remediation failed",
        extra={"resource": subject.resource, "remaining": remaining, "error": str(failure)},
    )
    fail_loudly(deps, alert, f"{subject.resource}: {'; '.join(remaining) or failure}")


def _unverified(
    deps: Dependencies, repair: Repair, records: tuple[ActionRecord, ...], contradiction: str
) -> Result:
    """The state contradicts the event: alert, marked unverified, and claim no repair."""
    subject = repair.subject
    alert = subject.alert(
        Severity.HIGH,
        Outcome.UNVERIFIED,
        "UNVERIFIED event: the resource's state contradicts it; no repair claimed",
        actions=records,
        verification=contradiction,
        manual_action="find out who invoked trailguard's function with this event: anyone "
        "who can invoke it directly can hand it a made-up event",
        detail=" ".join(repair.notes),
    )
    logger.warning(
        "event contradicted by state", extra={"resource": subject.resource, "why": contradiction}
    )
    return Result(Outcome.UNVERIFIED, subject.resource, contradiction, records, notify(deps, alert))


def fail_loudly(
    deps: Dependencies, alert: Alert, message: str, cause: BaseException | None = None
) -> NoReturn:
    """Publish a CRITICAL alert, then raise RemediationFailed.

    RemediationFailed whether or not the alert went out: the retry or the
    on-failure destination must see this event either way.
    """
    try:
        notify(deps, alert)
    except Exception as exc:
        raise RemediationFailed(message) from exc
    raise RemediationFailed(message) from cause


def respond(deps: Dependencies, repair: Repair) -> Result:
    """Run the repair or, in detect-only mode, alert on the drift and change nothing."""
    if deps.settings.detect_only:
        return detected(deps, repair.subject, repair.drift, repair.severity, repair.notes)
    return execute(deps, repair)
