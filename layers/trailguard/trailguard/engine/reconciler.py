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

import logging
from dataclasses import dataclass, field, replace

from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.drift import EVERY_ASPECT, trail_drift
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
    BASELINE_MANUAL_ACTION,
    Escalation,
    baseline_tampered,
    put_back_baseline,
    trail_repair,
)
from trailguard.protected.trusted_access import (
    CLOUDTRAIL,
    trusted_access_repair,
    trusted_access_subject,
)

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


def _run(deps: Dependencies, repair: Repair, report: ReconcileReport) -> None:
    if report.plan_only:
        report.planned.append(PlannedRepair.of(repair, alert_only=deps.settings.detect_only))
        return
    try:
        report.results.append(respond(deps, repair))
    except RemediationFailed as exc:
        report.failures.append(str(exc))


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
    for read in reads:
        if read.baseline is not None:
            # The bucket and key first: a trail cannot be recreated without its bucket.
            check_chain(deps, read.baseline, report, detected_by, _run)
    for read in reads:
        if read.baseline is None:
            continue  # in `problems`: never repaired from an unverified baseline
        baseline = read.baseline
        ref: TrailRef = baseline.ref
        report.checked.append(ref.arn)
        why = Escalation()
        if read.tampered:
            why.note(baseline_tampered(read), Severity.CRITICAL)
            if not plan_only and not deps.settings.detect_only:
                put_back_baseline(deps, ref, read, why)
        try:
            live = deps.trails.read(ref, EVERY_ASPECT)
        except AwsCallFailed as exc:
            report.failures.append(f"{ref.arn}: {exc} ({exc.hint})")
            continue
        drifts = trail_drift(baseline.snapshot, live, EVERY_ASPECT)
        if not drifts:
            if read.tampered and not plan_only:
                subject = Subject(
                    "baseline of the protected trail",
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
                        "BASELINE TAMPERED WITH; the trail matches the newest intact version",
                        detail=" ".join(why.notes),
                        manual_action=BASELINE_MANUAL_ACTION,
                    )
                )
            continue
        invariants = "/".join(sorted({d.invariant for d in drifts}))
        subject = Subject(
            f"{invariants} protected trail", ref.arn, ref.account_id, ref.region, None, detected_by
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
        _run(deps, why.applied(repair), report)

    logger.info("reconciled", extra=report.summary())
    return report
