"""The safety net: check every invariant against live state, repair what drifted.

CloudTrail delivers events to EventBridge on a best-effort basis, and not at
all once the only trail stops, so a schedule runs this whatever happened.
It goes through the same repairs and alerts as the event handlers, in the
order of docs/architecture.md: trusted access, service-linked role, each
protected trail (configuration, selectors, then logging).

With `plan_only` it reads the same state and plans the same repairs, but runs
none of them and publishes nothing (`trailguard reconcile --dry-run`).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field, replace

from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.domain.blind_window import TrailHealth
from trailguard.domain.drift import EVERY_ASPECT, LiveTrail, trail_drift
from trailguard.domain.trails import TrailBaseline, TrailRef
from trailguard.engine.remediation import (
    Dependencies,
    Repair,
    Result,
    Subject,
    report_only,
    respond,
)
from trailguard.errors import AwsCallFailed, RemediationFailed
from trailguard.ports import BaselineRead
from trailguard.protected.delivery_chain import check_chain
from trailguard.protected.service_linked_role import role_repair, role_subject
from trailguard.protected.trail import (
    Escalation,
    baseline_tampered,
    put_back_baseline,
    tampered_but_in_sync,
    trail_repair,
)
from trailguard.protected.trail_delivery import (
    I7,
    blind_reason,
    blind_window_annotation,
    chained,
    last_good,
    watch_trail,
)
from trailguard.protected.trusted_access import (
    CLOUDTRAIL,
    trusted_access_repair,
    trusted_access_subject,
)
from trailguard.render.sns import RenderedAlert

logger = logging.getLogger("trailguard")
SCHEDULE = "schedule"


@dataclass(frozen=True)
class PlannedRepair:
    """A repair a dry run found necessary: what drifted and the calls that would run."""

    invariant: str
    resource: str
    drift: tuple[str, ...]
    steps: tuple[tuple[str, str], ...]  # (call, target), in the order they would run
    alert_only: bool  # detect-only mode: a real run would alert and change nothing

    @classmethod
    def of(cls, repair: Repair, alert_only: bool) -> PlannedRepair:
        return cls(
            invariant=repair.subject.invariant,
            resource=repair.subject.resource,
            drift=repair.drift,
            steps=tuple((action.call, action.target) for action in repair.actions),
            alert_only=alert_only,
        )

    def summary(self) -> dict[str, object]:
        return {
            "invariant": self.invariant,
            "resource": self.resource,
            "drift": list(self.drift),
            "steps": [{"call": call, "target": target} for call, target in self.steps],
            "alertOnly": self.alert_only,
        }


@dataclass
class ReconcileReport:
    checked: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    plan_only: bool = False
    planned: list[PlannedRepair] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        return sum(1 for r in self.results if r.outcome is Outcome.REPAIRED)

    def summary(self) -> dict[str, object]:
        summary: dict[str, object] = {
            "checked": self.checked,
            "repaired": self.repaired,
            "results": [r.summary() for r in self.results],
            "failures": self.failures,
        }
        if self.plan_only:
            summary["planned"] = [p.summary() for p in self.planned]
        return summary


class _EnabledOnceRepaired:
    """Trusted access as a dry run sees it after planning I1's repair.

    A real run enables trusted access before it plans any trail repair, so the
    trail's plan must not repeat EnableAWSServiceAccess."""

    def __init__(self, planned_for: str) -> None:
        self._planned_for = planned_for

    def is_enabled(self, service_principal: str) -> bool:
        return service_principal == self._planned_for

    def enable(self, service_principal: str) -> None:
        raise AssertionError("a dry run changes nothing")


def _run(deps: Dependencies, repair: Repair, report: ReconcileReport) -> Result | None:
    if report.plan_only:
        report.planned.append(PlannedRepair.of(repair, alert_only=deps.settings.detect_only))
        return None
    try:
        result = respond(deps, repair)
    except RemediationFailed as exc:
        report.failures.append(str(exc))
        return None
    report.results.append(result)
    return result


class _HeldAlerts:
    """An alert sink that keeps what it is given (a retry of a known incident)."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alert: Alert) -> str:
        self.alerts.append(alert)
        return ""

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        raise AssertionError("a held retry renders nothing itself")


def _retry_quietly(deps: Dependencies, repair: Repair, report: ReconcileReport) -> Result | None:
    """Retry a degraded repair whose drift has not changed since the last run: the
    same outcome is the same incident, and its CRITICAL is not sent again. Any other
    outcome (repaired, failed) publishes its alerts as usual."""
    held = _HeldAlerts()
    result = _run(replace(deps, alerts=held), repair, report)
    if result is not None and result.outcome is Outcome.DEGRADED:
        logger.info("same degraded repair as the last run; alert not repeated")
        return result
    for alert in held.alerts:
        deps.alerts.publish(alert)
    return result


UNPROTECTED = "NO BASELINE"


def _unprotected_organization_trails(
    deps: Dependencies,
    baselines: list[TrailBaseline],
    report: ReconcileReport,
    detected_by: str,
) -> None:
    """With ProtectedTrailNames empty, every organization trail homed here is protected:
    one without a baseline is a CRITICAL (once per incident), never silently skipped."""
    report.checked.append("organization trails")
    protected = {b.ref.arn for b in baselines}
    try:
        found = deps.trails.organization_trails(deps.settings.region)
    except AwsCallFailed as exc:
        report.failures.append(f"organization trails not listed: {exc} ({exc.hint})")
        return
    for ref in found:
        if ref.arn in protected:
            continue
        if deps.health is not None and deps.health.get(ref).degraded == UNPROTECTED:
            logger.info("organization trail still without baseline", extra={"trail": ref.arn})
            continue
        subject = Subject(
            "I3 trail exists with its baseline",
            ref.arn,
            ref.account_id,
            ref.region,
            None,
            detected_by,
        )
        report.results.append(
            report_only(
                deps,
                subject,
                Severity.CRITICAL,
                Outcome.DETECTED,
                "organization trail has NO BASELINE: trailguard cannot restore it",
                drift=("no baseline item for this organization trail",),
                manual_action=f"check trail {ref.name} in {ref.region}; if its configuration is "
                "the intended one, record it with `trailguard baseline capture`; if the baseline "
                "item was deleted, restore the table from point-in-time recovery",
            )
        )
        if deps.health is not None:
            deps.health.set_degraded(ref, UNPROTECTED)


def protected_reads(deps: Dependencies) -> tuple[list[BaselineRead], list[str]]:
    """(verified baselines of the protected trails in this region, what is wrong with them).

    A trail counts as having a baseline if any item of it exists, intact or not: a
    deleted or forged baseline is reported, never a reason to forget the trail."""
    refs = [ref for ref in deps.baselines.refs() if ref.region == deps.settings.region]
    names = deps.settings.protected_trail_names
    problems: list[str] = []
    if names:
        refs = [ref for ref in refs if ref.name in names]
        missing = set(names) - {ref.name for ref in refs}
        problems = [f"{name}: protected but has no baseline" for name in sorted(missing)]
    reads = [deps.baselines.read(ref) for ref in sorted(refs)]
    for ref, read in zip(sorted(refs), reads, strict=True):
        if read.tampered:
            problems.append(f"{ref.name}: {baseline_tampered(read)}")
    return reads, problems


def protected_baselines(deps: Dependencies) -> tuple[list[TrailBaseline], list[str]]:
    """(intact baselines of the protected trails in this region, what is wrong)."""
    reads, problems = protected_reads(deps)
    return [r.baseline for r in reads if r.baseline is not None], problems


def _reconcile_trail(
    deps: Dependencies,
    read: BaselineRead,
    report: ReconcileReport,
    detected_by: str,
    live: LiveTrail | None,
) -> None:
    """One protected trail: repair its drift (from the newest intact baseline, saying so
    when the current one was tampered with), then delivery health and blind windows.

    `live` was read before the delivery chain's repairs: the delivery errors it holds
    are what CloudTrail reported before trailguard touched the bucket or key, so the
    I7 alert names the cause even when the same run repairs it."""
    baseline = read.baseline
    assert baseline is not None
    ref: TrailRef = baseline.ref
    report.checked.append(ref.arn)
    plan_only = report.plan_only
    why = Escalation()
    if read.tampered:
        why.note(baseline_tampered(read), Severity.CRITICAL)
        if not plan_only and not deps.settings.detect_only:
            put_back_baseline(deps, ref, read, why)
    try:
        before = deps.health.get(ref) if deps.health and not plan_only else TrailHealth()
        live = live or deps.trails.read(ref, EVERY_ASPECT)
    except AwsCallFailed as exc:
        report.failures.append(f"{ref.arn}: {exc} ({exc.hint})")
        return
    drifts = trail_drift(baseline.snapshot, live, EVERY_ASPECT)
    if not drifts and read.tampered and not plan_only:
        subject = Subject(
            "baseline of the protected trail",
            ref.arn,
            ref.account_id,
            ref.region,
            None,
            detected_by,
        )
        report.results.append(tampered_but_in_sync(deps, subject, why))
    repaired = None
    degraded: str | None = ""
    if drifts:
        invariants = "/".join(sorted({d.invariant for d in drifts}))
        subject = Subject(
            f"{invariants} protected trail",
            ref.arn,
            ref.account_id,
            ref.region,
            None,
            detected_by,
        )
        repair = trail_repair(
            deps,
            subject=subject,
            ref=ref,
            baseline=baseline,
            live=live,
            drifts=drifts,
            aspects=EVERY_ASPECT,
        )
        reason = blind_reason(drifts, live)
        if reason is not None:
            blind = blind_window_annotation(
                deps, subject, last_good(before, baseline.captured_at, deps.clock()), reason
            )
            repair.annotate = chained(blind, repair.annotate)
        key = "; ".join(sorted(d.summary for d in drifts))
        if not report.plan_only and key == before.degraded:
            result = _retry_quietly(deps, why.applied(repair), report)
        else:
            result = _run(deps, why.applied(repair), report)
        repaired = result if result and result.outcome is Outcome.REPAIRED else None
        if result is not None and result.outcome is Outcome.DEGRADED:
            degraded = None  # the repair stored what it left (protected/trail.py)
    if not report.plan_only:
        watched = Subject(I7, ref.arn, ref.account_id, ref.region, None, detected_by)
        try:
            report.results += watch_trail(
                deps,
                watched,
                baseline=baseline.snapshot,
                live=live,
                repaired=repaired,
                before=before,
                degraded=degraded,
            )
        except AwsCallFailed as exc:
            report.failures.append(f"{ref.arn}: delivery health: {exc} ({exc.hint})")


def reconcile(
    deps: Dependencies,
    account_id: str,
    *,
    plan_only: bool = False,
    detected_by: str = SCHEDULE,
) -> ReconcileReport:
    """Check and repair every invariant; never stops at the first failure.

    `plan_only` plans the repairs without running them or alerting;
    `detected_by` labels the alerts (the scheduled function: "schedule").
    """
    report = ReconcileReport(plan_only=plan_only)
    region = deps.settings.region

    report.checked.append("I1")
    if not deps.trusted_access.is_enabled(CLOUDTRAIL):
        subject = trusted_access_subject(account_id, region, None, detected_by)
        _run(deps, trusted_access_repair(deps, subject), report)
        if plan_only:
            deps = replace(deps, trusted_access=_EnabledOnceRepaired(CLOUDTRAIL))

    report.checked.append("I6")
    if not deps.roles.exists(CLOUDTRAIL):
        _run(deps, role_repair(deps, role_subject(account_id, region, None, detected_by)), report)

    reads, problems = protected_reads(deps)
    report.failures += problems
    report.checked.append(I7)
    lives: dict[str, LiveTrail] = {}
    for read in reads:
        if read.baseline is None:
            continue  # in `problems`: never repaired from an unverified baseline
        # What CloudTrail reports first, then the bucket and key (a trail cannot be
        # recreated without its bucket), then the trail. A failed read is made again,
        # and reported, with the trail.
        with contextlib.suppress(AwsCallFailed):
            lives[read.baseline.ref.arn] = deps.trails.read(read.baseline.ref, EVERY_ASPECT)
        check_chain(deps, read.baseline, report, detected_by, _run)
    for read in reads:
        if read.baseline is not None:
            _reconcile_trail(deps, read, report, detected_by, lives.get(read.baseline.ref.arn))

    if deps.settings.protects_every_organization_trail and not plan_only:
        baselines = [r.baseline for r in reads if r.baseline is not None]
        _unprotected_organization_trails(deps, baselines, report, detected_by)

    logger.info("reconciled", extra=report.summary())
    return report
