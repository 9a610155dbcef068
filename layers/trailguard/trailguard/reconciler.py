"""The safety net: check every invariant against live state, repair what drifted.

CloudTrail delivers events to EventBridge on a best-effort basis, and not at
all once the only trail stops, so a schedule runs this whatever happened.
It goes through the same repairs and alerts as the event handlers, in the
order of DESIGN.md section 1: trusted access, service-linked role, each
protected trail (configuration, selectors, then logging).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from trailguard.alerts import Outcome
from trailguard.drift import EVERY_ASPECT, trail_drift
from trailguard.errors import AwsCallFailed, RemediationFailed
from trailguard.remediation import Dependencies, Repair, Result, Subject, detected, execute
from trailguard.service_linked_role import role_repair, role_subject
from trailguard.trail_protection import trail_repair
from trailguard.trails import TrailBaseline, TrailRef
from trailguard.trusted_access import CLOUDTRAIL, trusted_access_repair, trusted_access_subject

logger = logging.getLogger("trailguard")
SCHEDULE = "schedule"


@dataclass
class ReconcileReport:
    checked: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def repaired(self) -> int:
        return sum(1 for r in self.results if r.outcome is Outcome.REPAIRED)

    def summary(self) -> dict[str, object]:
        return {
            "checked": self.checked,
            "repaired": self.repaired,
            "results": [r.summary() for r in self.results],
            "failures": self.failures,
        }


def _run(deps: Dependencies, repair: Repair, report: ReconcileReport) -> None:
    try:
        if deps.settings.detect_only:
            report.results.append(detected(deps, repair.subject, repair.drift))
        else:
            report.results.append(execute(deps, repair))
    except RemediationFailed as exc:
        report.failures.append(str(exc))


def _protected_baselines(deps: Dependencies, report: ReconcileReport) -> list[TrailBaseline]:
    baselines = [b for b in deps.baselines.all() if b.ref.region == deps.settings.region]
    names = deps.settings.protected_trail_names
    if names:
        baselines = [b for b in baselines if b.ref.name in names]
        missing = set(names) - {b.ref.name for b in baselines}
        for name in sorted(missing):
            report.failures.append(f"{name}: protected but has no baseline")
    return baselines


def reconcile(deps: Dependencies, account_id: str) -> ReconcileReport:
    """Check and repair every invariant; never stops at the first failure."""
    report = ReconcileReport()
    region = deps.settings.region

    report.checked.append("I1")
    if not deps.trusted_access.is_enabled(CLOUDTRAIL):
        subject = trusted_access_subject(account_id, region, None, SCHEDULE)
        _run(deps, trusted_access_repair(deps, subject), report)

    report.checked.append("I6")
    if not deps.roles.exists(CLOUDTRAIL):
        _run(deps, role_repair(deps, role_subject(account_id, region, None, SCHEDULE)), report)

    for baseline in _protected_baselines(deps, report):
        ref: TrailRef = baseline.ref
        report.checked.append(ref.arn)
        try:
            live = deps.trails.read(ref, EVERY_ASPECT)
        except AwsCallFailed as exc:
            report.failures.append(f"{ref.arn}: {exc} ({exc.hint})")
            continue
        drifts = trail_drift(baseline.snapshot, live, EVERY_ASPECT)
        if not drifts:
            continue
        invariants = "/".join(sorted({d.invariant for d in drifts}))
        subject = Subject(
            f"{invariants} protected trail", ref.arn, ref.account_id, ref.region, None, SCHEDULE
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
        _run(deps, repair, report)

    logger.info("reconciled", extra=report.summary())
    return report
