"""I7 (the trail delivers) and blind windows (when it recorded nothing, what happened).

The reconciler calls `watch_trail` once per protected trail and run, with the
trail as it just read it (GetTrailStatus included, no extra call):
- Delivery: GetTrailStatus's error fields and the digest heartbeat's age
  (domain/delivery.py). A new error is a CRITICAL alert; the same error on the
  next runs is the same incident, not a new alert; when it clears, an INFO alert
  says delivery recovered. The open incident is kept in the health item.
- Blind windows: a stop followed by a start between two runs (StartLoggingTime
  moved on while both runs saw the trail logging) is reported although the
  trail logs again. Repairs of StopLogging, DeleteTrail and of selectors that
  dropped management events get their window in the repair alert
  (`blind_window_annotation`), from the event, or from the last run that saw
  the trail recording, to the verified repair.
- Each window lists the write calls Event history kept in the home region and in
  us-east-1, and is queried again on the next runs until Event history has
  settled; new calls make a follow-up alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.domain.blind_window import (
    BlindWindow,
    Call,
    Observation,
    PendingWindow,
    TrailHealth,
    bounded,
    observe,
    regions_for,
    restart_between,
    write_calls,
)
from trailguard.domain.delivery import Destination, delivery_problems, signature
from trailguard.domain.drift import Aspect, Drift, LiveTrail
from trailguard.domain.trails import Selectors, TrailSnapshot
from trailguard.engine.remediation import Dependencies, Result, Subject, report_only
from trailguard.errors import AwsCallFailed

logger = logging.getLogger("trailguard")

I7 = "I7 trail delivers"
BLIND = "I2/I3 blind window"
# Event history shows a call after a delay that AWS does not document (minutes in
# practice): a window is queried again on later runs for this long after it ends.
SETTLE = timedelta(minutes=15)
MAX_CALLS = 50  # listed per window in an alert; the rest are counted
MAX_FOLLOW_UPS = 5  # windows queried again per run (each costs 1-2 LookupEvents at 2/s)
_EDGE = timedelta(seconds=1)


def _floor(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def records_management_events(selectors: Selectors | None) -> bool:
    """Whether the selectors keep write management events (no selectors: the default
    trail, which records them all)."""
    if selectors is None:
        return True
    if selectors.advanced_event_selectors:
        for selector in selectors.advanced_event_selectors:
            fields = {str(f.get("Field")): f for f in selector.get("FieldSelectors", []) or []}
            category = fields.get("eventCategory", {})
            if "Management" in (category.get("Equals") or []):
                read_only = fields.get("readOnly", {})
                if "true" not in (read_only.get("Equals") or []):
                    return True
        return False
    if not selectors.event_selectors:
        return True
    return any(
        s.get("IncludeManagementEvents", True) and s.get("ReadWriteType", "All") != "ReadOnly"
        for s in selectors.event_selectors
    )


def destination(snapshot: TrailSnapshot) -> Destination:
    settings = snapshot.settings
    return Destination(
        bucket=settings.s3_bucket_name,
        kms_key=settings.kms_key_id,
        log_group=settings.cloud_watch_logs_log_group_arn,
        logs_role=settings.cloud_watch_logs_role_arn,
        topic=settings.sns_topic_name,
        log_file_validation=settings.log_file_validation_enabled,
    )


# ---------------------------------------------------------------- Event history


def calls_in(deps: Dependencies, home_region: str, start: datetime, end: datetime) -> BlindWindow:
    """The write calls Event history holds between `start` and `end` (no reason set)."""
    regions = regions_for(home_region)
    window = BlindWindow(start=start, end=end, reason="", regions=regions)
    if deps.history is None:
        return window
    found: dict[str, Call] = {}
    unread = False
    for region in regions:
        # Event history's times have whole seconds: a call in the same second as an
        # edge of the window belongs in it.
        events, more = deps.history.lookup(region, _floor(start), _floor(end) + _EDGE)
        unread = unread or more
        for call in write_calls(events, region, deps.settings.remediator_role_arns):
            # Whole-second times (AWS's) compare with the second the window starts in.
            lower = start if call.time.microsecond else _floor(start)
            if lower <= call.time <= end:
                found[call.event_id] = call
    complete = deps.clock() >= end + SETTLE
    return replace(bounded(window, list(found.values()), MAX_CALLS, unread), complete=complete)


def _queried(
    deps: Dependencies, home_region: str, start: datetime, end: datetime, reason: str
) -> BlindWindow:
    try:
        window = calls_in(deps, home_region, start, end)
        return replace(window, reason=reason)
    except AwsCallFailed as exc:
        # The window is still worth reporting; its calls come in a follow-up.
        logger.warning("Event history not read", extra={"error": str(exc)})
        return BlindWindow(
            start,
            end,
            f"{reason} (Event history not read yet: {exc.code}; a follow-up lists the calls)",
            regions=regions_for(home_region),
        )


def blind_window_annotation(
    deps: Dependencies, subject: Subject, start: datetime, reason: str, *, query_now: bool = True
) -> Callable[[Alert], Alert]:
    """For a repair that ended a blind window: add it to the repair's alert, and
    remember it so that later runs query Event history again.

    An event handler does not query now (`query_now` False): a window it closes is
    seconds old, and Event history shows calls minutes after they are made, so an
    early list would be empty and look complete. It remembers the window (one
    UpdateItem); the reconciler's follow-up, within one interval, lists the calls.
    """
    ref_region = subject.region

    def annotate(alert: Alert) -> Alert:
        end = alert.repaired_at or deps.clock()
        if query_now:
            window = _queried(deps, ref_region, start, end, reason)
        else:
            window = BlindWindow(
                start,
                end,
                f"{reason} (Event history shows calls minutes after they are made: the "
                "reconciler's follow-up alert lists them)",
                regions=regions_for(ref_region),
            )
        _remember(deps, subject.resource, window)
        return replace(alert, blind_window=window)

    return annotate


def _remember(deps: Dependencies, trail_arn: str, window: BlindWindow) -> None:
    if deps.health is None or window.complete:
        return
    from trailguard.domain.trails import TrailRef

    pending = PendingWindow(
        window.start,
        window.end,
        window.reason,
        window.end + SETTLE,
        tuple(c.event_id for c in window.calls),
    )
    try:
        deps.health.add_window(TrailRef.from_arn(trail_arn), pending)
    except AwsCallFailed as exc:
        logger.warning("blind window not remembered for follow-up", extra={"error": str(exc)})


# ---------------------------------------------------------------- the reconciler's watch


def _delivery(
    deps: Dependencies,
    subject: Subject,
    *,
    baseline: TrailSnapshot,
    live: LiveTrail,
    health: TrailHealth,
    results: list[Result],
) -> tuple[str, datetime | None]:
    """I7 for this run: (the open incident's signature, since when)."""
    if not live.exists or live.status is None:
        return health.delivery_signature, health.delivery_since
    now = deps.clock()
    stale = timedelta(minutes=deps.settings.delivery_stale_after_minutes)
    problems = delivery_problems(live.status, destination(baseline), now, stale)
    current = signature(problems)
    if current == health.delivery_signature:
        if current:
            logger.info("delivery still failing: same incident", extra={"signature": current})
        return current, health.delivery_since
    if current:
        results.append(
            report_only(
                deps,
                subject,
                Severity.CRITICAL,
                Outcome.DETECTED,
                "TRAIL NOT DELIVERING: " + "; ".join(p.cause for p in problems),
                drift=tuple(p.summary for p in problems),
                manual_action=" AND ".join(dict.fromkeys(p.manual_action for p in problems)),
                detail="CloudTrail keeps retrying delivery for 30 days: files are delivered "
                "once the cause is repaired. trailguard alerts again only when the error "
                "changes, and sends an INFO alert when delivery recovers.",
            )
        )
        return current, now
    results.append(
        report_only(
            deps,
            subject,
            Severity.INFO,
            Outcome.RECOVERED,
            "delivery recovered",
            detail=f"GetTrailStatus reports no delivery error any more; the incident "
            f"({health.delivery_signature}) was open since "
            f"{health.delivery_since.isoformat() if health.delivery_since else 'unknown'}.",
        )
    )
    return "", None


def _follow_ups(
    deps: Dependencies, subject: Subject, windows: tuple[PendingWindow, ...]
) -> tuple[PendingWindow, ...]:
    """Query each unsettled window again; one alert per run lists the calls not
    reported before (one per window would be damped as a storm, and is noise)."""
    queue = merged(windows)
    kept = queue[MAX_FOLLOW_UPS:]  # the rest wait for the next run
    now = deps.clock()
    found: list[tuple[PendingWindow, BlindWindow]] = []
    for known in queue[:MAX_FOLLOW_UPS]:
        pending = known
        try:
            window = calls_in(deps, subject.region, pending.start, pending.end)
        except AwsCallFailed as exc:
            logger.warning("Event history not read; next run", extra={"error": str(exc)})
            kept.append(pending)
            continue
        new = [c for c in window.calls if c.event_id not in pending.seen]
        if new:
            found.append((pending, replace(window, calls=tuple(new))))
            pending = replace(pending, seen=pending.seen + tuple(c.event_id for c in new))
        if now < pending.settles_at:
            kept.append(pending)
    if found:
        windows_found = [w for _, w in found]
        calls = [c for w in windows_found for c in w.calls]
        follow_up = bounded(
            BlindWindow(
                start=min(w.start for w in windows_found),
                end=max(w.end for w in windows_found),
                reason="; ".join(dict.fromkeys(p.reason for p, _ in found)),
                complete=all(w.complete for w in windows_found),
                regions=windows_found[0].regions,
                follow_up=True,
            ),
            calls,
            MAX_CALLS,
            unread=any(w.unread for w in windows_found),
        )
        # A notification about earlier windows, not a check of this run: alerted, not
        # counted among the run's results.
        report_only(
            deps,
            subject,
            Severity.HIGH,
            Outcome.NOTICE,
            "blind window: more calls appeared in Event history",
            blind_window=follow_up,
        )
    return tuple(kept)


def watch_trail(
    deps: Dependencies,
    subject: Subject,
    *,
    baseline: TrailSnapshot,
    live: LiveTrail,
    repaired: Result | None,
    before: TrailHealth,
    degraded: str | None = "",
) -> list[Result]:
    """Delivery health, blind windows and follow-ups for one trail in one run; then
    remember what was observed. `repaired` is this run's verified repair, if any;
    `degraded` the incident key of a degraded repair, None to keep what the repair
    itself stored."""
    if deps.health is None:
        return []
    blind_subject = replace(subject, invariant=BLIND)
    results: list[Result] = []
    now = deps.clock()
    records = records_management_events(live.snapshot.selectors if live.snapshot else None)
    observation = observe(now, live.exists, live.status, records)
    windows = before.windows
    restart = restart_between(before.observation, observation, windows)
    if restart is not None and repaired is None:
        window = _queried(
            deps,
            subject.region,
            restart[0],
            restart[1],
            "the trail was stopped and started again between two checks (StopLoggingTime "
            "and StartLoggingTime); no StopLogging event reached trailguard",
        )
        results.append(
            report_only(
                deps,
                blind_subject,
                Severity.HIGH,
                Outcome.DETECTED,
                "trail was blind between two checks (stopped, then started again)",
                drift=(
                    f"logging stopped {window.start.isoformat()}, started {window.end.isoformat()}",
                ),
                blind_window=window,
                manual_action="review the calls listed under 'While the trail was blind' "
                "and who stopped the trail",
            )
        )
        if not window.complete:
            windows += (
                PendingWindow(
                    window.start,
                    window.end,
                    window.reason,
                    window.end + SETTLE,
                    tuple(c.event_id for c in window.calls),
                ),
            )
        fresh = len(windows) - 1
    else:
        fresh = len(windows)
    # Windows found before this run are queried again; the new one was just queried.
    kept = _follow_ups(deps, blind_subject, windows[:fresh]) + windows[fresh:]
    signature_now, since = _delivery(
        deps,
        replace(subject, invariant=I7),
        baseline=baseline,
        live=live,
        health=before,
        results=results,
    )
    recording_now = observation.recording and (repaired is not None or live.is_logging is True)
    after = TrailHealth(
        observation=observation if repaired is None else _after_repair(observation, now),
        last_recording=now if recording_now else before.last_recording,
        delivery_signature=signature_now,
        delivery_since=since,
        windows=kept,
        degraded=before.degraded if degraded is None else degraded,
        version=before.version,
    )
    _save(deps, subject, after, keep_degraded=degraded is None)
    return results


def _after_repair(observation: Observation, now: datetime) -> Observation:
    # The repair just restarted (or recreated) the trail before `now`: the next run
    # compares with a trail that logs since no later than now.
    start = observation.start_logging_time
    if not (observation.exists and observation.logging) or start is None:
        start = now
    return replace(
        observation,
        exists=True,
        logging=True,
        records_management=True,
        at=now,
        start_logging_time=start,
    )


def _save(
    deps: Dependencies, subject: Subject, health: TrailHealth, *, keep_degraded: bool
) -> None:
    from trailguard.domain.trails import TrailRef

    assert deps.health is not None
    ref = TrailRef.from_arn(subject.resource)
    try:
        if deps.health.put(ref, health):
            return
        # A handler appended a window meanwhile: keep it, and write once more.
        current = deps.health.get(ref)
        known = {(w.start, w.end) for w in health.windows}
        merged = health.windows + tuple(w for w in current.windows if (w.start, w.end) not in known)
        degraded = current.degraded if keep_degraded else health.degraded
        deps.health.put(
            ref, replace(health, windows=merged, degraded=degraded, version=current.version)
        )
    except AwsCallFailed as exc:
        logger.warning("trail health not saved", extra={"error": str(exc)})


def last_good(before: TrailHealth, baseline_captured_at: str, fallback: datetime) -> datetime:
    """When the trail was last seen recording: the start of a window found by a run.
    Before any run saw it, the baseline's capture is the last time it was known good."""
    if before.last_recording is not None:
        return before.last_recording
    if before.observation is not None:
        return before.observation.at
    try:
        captured = datetime.fromisoformat(baseline_captured_at)
    except ValueError:
        return fallback
    return captured if captured.tzinfo else captured.replace(tzinfo=fallback.tzinfo)


def blind_reason(drifts: list[Drift], live: LiveTrail) -> str | None:
    """Why a drift made the trail blind (it recorded no management event), or None."""
    aspects = {d.aspect for d in drifts}
    if Aspect.EXISTS in aspects:
        return "the trail was deleted"
    if Aspect.LOGGING in aspects:
        return "logging was stopped"
    snapshot = live.snapshot
    if (
        Aspect.EVENT_SELECTORS in aspects
        and snapshot is not None
        and not records_management_events(snapshot.selectors)
    ):
        return "the event selectors dropped management events"
    return None


def delivery_note(
    deps: Dependencies,
    alert: Alert,
    baseline: TrailSnapshot | None,
    verified: list[LiveTrail],
) -> Alert:
    """A verified repair also reads I7: delivery errors go into the repair's alert (the
    reconciler tracks them as an incident)."""
    status = verified[-1].status if verified else None
    if status is None:
        return alert
    where = destination(baseline) if baseline else Destination(bucket="(the trail's bucket)")
    stale = timedelta(minutes=deps.settings.delivery_stale_after_minutes)
    problems = delivery_problems(status, where, deps.clock(), stale)
    if not problems:
        return alert
    note = "Delivery (I7) is failing after the repair: " + "; ".join(p.summary for p in problems)
    return replace(alert, detail=f"{note}. {alert.detail}".strip())


def chained(
    first: Callable[[Alert], Alert], then: Callable[[Alert], Alert]
) -> Callable[[Alert], Alert]:
    """Two alert annotations, one after the other."""
    return lambda alert: then(first(alert))


def merged(windows: tuple[PendingWindow, ...]) -> list[PendingWindow]:
    """Overlapping windows as one (a repair's window and the same stop seen by a run)."""
    result: list[PendingWindow] = []
    for window in sorted(windows, key=lambda w: w.start):
        if result and window.start <= result[-1].end:
            last = result[-1]
            result[-1] = PendingWindow(
                last.start,
                max(last.end, window.end),
                last.reason if last.reason == window.reason else "several blind windows",
                max(last.settles_at, window.settles_at),
                tuple(dict.fromkeys(last.seen + window.seen)),
            )
        else:
            result.append(window)
    return result
