"""Capturing baselines: the only ways a baseline changes.

1. At deployment (the stack's custom resource): trails without a baseline get one.
2. By an operator (`trailguard baseline capture`, or invoking the capture function).
3. After a change by an allow-listed change principal (the IaC deploy role), once
   the live trail shows it and CloudTrail's Event history holds the event
   (protected/trail.py).
A change by anyone else is drift and is reverted, never captured.

Every capture is announced: an alert with what changed from the previous
baseline and who asked (`announce`). A baseline replaced in silence is exactly
what an attacker who weakened the trail first would want.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.domain.delivery_chain import DeliveryChain
from trailguard.domain.drift import EVERY_ASPECT, Aspect, LiveTrail, trail_drift
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.ports import AlertSink, BaselineStore, DeliveryChains, Trails
from trailguard.settings import Settings

CONFIGURATION = EVERY_ASPECT - {Aspect.LOGGING}


def baseline_changes(previous: TrailSnapshot | None, new: TrailSnapshot) -> tuple[str, ...]:
    """What a new baseline changes, in the words of a drift from the previous one."""
    if previous is None:
        return ("first baseline of this trail",)
    drifts = trail_drift(previous, LiveTrail(True, new), CONFIGURATION)
    return tuple(d.summary for d in drifts)


def capture_alert(
    previous: TrailSnapshot | None,
    baseline: TrailBaseline,
    *,
    severity_if_changed: Severity,
    event: ApiCallEvent | None = None,
    detail: str = "",
) -> Alert:
    changes = baseline_changes(previous, baseline.snapshot)
    changed = previous is None or bool(changes)
    ref = baseline.ref
    return Alert(
        severity=severity_if_changed if changed and previous is not None else Severity.INFO,
        outcome=Outcome.ALLOWED,
        headline="baseline captured" if changed else "baseline captured, unchanged",
        invariant="baseline of the protected trail",
        resource=ref.arn,
        account_id=ref.account_id,
        region=ref.region,
        event=event,
        detected_by="capture",
        drift=changes,
        verification=f"captured by {baseline.captured_by}; reason: {baseline.reason}",
        manual_action=(
            "if nobody you know asked for this capture, the trail may have been weakened "
            "first: compare with `trailguard baseline diff` and restore the previous version"
            if changed and previous is not None
            else ""
        ),
        detail=detail,
    )


@dataclass
class CaptureReport:
    captured: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "captured": self.captured,
            "kept": self.kept,
            "missing": self.missing,
            "skipped": self.skipped,
        }


def protected_selection(
    snapshots: list[TrailSnapshot],
    settings: Settings,
    has_baseline: Callable[[TrailRef], bool] = lambda ref: False,
) -> tuple[list[TrailSnapshot], list[str], list[str]]:
    """(protected snapshots, configured names not found, trails passed over with why).

    With no names configured, a trail that has a baseline stays protected even if it
    is no longer an organization trail: that change is what trailguard reverts."""
    if settings.protected_trail_names:
        wanted = set(settings.protected_trail_names)
        chosen = [s for s in snapshots if s.ref.name in wanted]
        found = {s.ref.name for s in chosen}
        missing = sorted(wanted - found)
        skipped = [f"{s.ref.arn}: not in ProtectedTrailNames" for s in snapshots if s not in chosen]
        return chosen, missing, skipped
    chosen = [s for s in snapshots if s.settings.is_organization_trail or has_baseline(s.ref)]
    skipped = [f"{s.ref.arn}: not an organization trail" for s in snapshots if s not in chosen]
    return chosen, [], skipped


def capture(
    trails: Trails,
    store: BaselineStore,
    settings: Settings,
    *,
    captured_at: str,
    captured_by: str,
    reason: str,
    replace_existing: bool,
    announce: AlertSink | None = None,
    chains: DeliveryChains | None = None,
) -> CaptureReport:
    """Store baselines of the protected trails whose home region is the stack's.

    Trails seen from this region but homed elsewhere are reported, never
    silently ignored: a stack here cannot repair them.
    """
    report = CaptureReport()
    snapshots = trails.list_home_trails(settings.region)
    foreign_trails = trails.foreign_trails(settings.region)
    chosen, missing, skipped = protected_selection(snapshots, settings, store.has_baseline)
    for name, home in foreign_trails:
        if name in missing:
            missing.remove(name)
            report.missing.append(
                f"{name}: home region is {home}, not {settings.region}; deploy trailguard "
                f"in {home} to protect it"
            )
        elif not settings.protected_trail_names:
            report.skipped.append(f"{name}: home region {home} is not {settings.region}")
    report.missing += [f"{name}: no such trail in {settings.region}" for name in missing]
    report.skipped += skipped
    for snapshot in chosen:
        previous = store.get(snapshot.ref)
        if not replace_existing and store.has_baseline(snapshot.ref):
            report.kept.append(snapshot.ref.arn)
            continue
        chain = _chain(chains, snapshot, previous)
        baseline = TrailBaseline(snapshot, captured_at, captured_by, reason, chain)
        store.put(baseline)
        report.captured.append(snapshot.ref.arn)
        if announce is not None:
            # A deployment records what was there; an operator replaces it: louder.
            louder = Severity.HIGH if replace_existing else Severity.WARNING
            announce.publish(
                capture_alert(
                    previous.snapshot if previous else None, baseline, severity_if_changed=louder
                )
            )
    return report


def recapture(
    trails: Trails,
    store: BaselineStore,
    ref: TrailRef,
    *,
    captured_at: str,
    captured_by: str,
    reason: str,
) -> TrailBaseline | None:
    """Replace one trail's baseline with its live state; None if the trail is gone."""
    live = trails.read(ref, EVERY_ASPECT)
    if not live.exists or live.snapshot is None:
        return None
    # The chain is not re-read here: it stays while the trail writes to the same bucket
    # and key, and is dropped (until the next capture) when it does not.
    chain = _chain(None, live.snapshot, store.get(ref))
    baseline = TrailBaseline(live.snapshot, captured_at, captured_by, reason, chain)
    store.put(baseline)
    return baseline


def _chain(
    chains: DeliveryChains | None, snapshot: TrailSnapshot, previous: TrailBaseline | None
) -> DeliveryChain | None:
    """The trail's delivery chain to store with its baseline: as read now, with the
    links that cannot be read now kept from the previous baseline. Without a reader
    (the operator command line, which the log-archive companion does not trust) the
    previous chain is kept whole, while the trail writes to the same bucket and key."""
    kept = previous.chain if previous is not None else None
    if kept is not None and not _same_chain(kept, snapshot):
        kept = None
    if chains is None:
        return kept
    from trailguard.protected.delivery_chain import read_baseline_chain

    chain = read_baseline_chain(chains, snapshot)
    return kept.merged(chain) if kept is not None else chain


def _same_chain(chain: DeliveryChain, snapshot: TrailSnapshot) -> bool:
    settings = snapshot.settings
    return (
        chain.location.bucket_name == settings.s3_bucket_name
        and chain.location.key_arn == settings.kms_key_id
    )
