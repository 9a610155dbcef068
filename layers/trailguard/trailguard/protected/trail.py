"""I2-I5: the protected trail exists, logs, and keeps its baseline configuration.

Remediation compares live state with the stored baseline, never with the
event: DeleteTrail carries only a name, UpdateTrail only what was sent.
Each event reads only the aspects it can have changed, so that a StopLogging
repair costs the fewest calls; the scheduled reconciler reads them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from trailguard.concurrency import together
from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.drift import (
    EVERY_ASPECT,
    INDEPENDENT_STEPS,
    SETTING_LABELS,
    Aspect,
    Drift,
    LiveTrail,
    Step,
    repair_steps,
    trail_drift,
)
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.engine.capture import recapture
from trailguard.engine.remediation import (
    Action,
    Dependencies,
    Repair,
    Result,
    Subject,
    detected,
    execute,
    report_only,
    screen,
)
from trailguard.errors import AwsCallFailed, InvalidEvent
from trailguard.ports import Precondition
from trailguard.protected.delegated_admin import delegated_admin_changed
from trailguard.protected.trail_delivery import (
    blind_reason,
    blind_window_annotation,
    chained,
    delivery_note,
)
from trailguard.protected.trusted_access import CLOUDTRAIL

logger = logging.getLogger("trailguard")

ASPECTS_BY_EVENT: dict[str, frozenset[Aspect]] = {
    "StopLogging": frozenset({Aspect.EXISTS, Aspect.LOGGING}),
    "DeleteTrail": EVERY_ASPECT,
    "UpdateTrail": frozenset({Aspect.EXISTS, Aspect.SETTINGS}),
    "PutEventSelectors": frozenset({Aspect.EXISTS, Aspect.EVENT_SELECTORS}),
    "PutInsightSelectors": frozenset({Aspect.EXISTS, Aspect.INSIGHT_SELECTORS}),
}
DELEGATED_ADMIN_EVENTS = frozenset(
    {"RegisterOrganizationDelegatedAdmin", "DeregisterOrganizationDelegatedAdmin"}
)
# After this environment restarts a trail, StopLogging events for that trail read it
# first for this long: a storm of events (each with its own eventID) then costs one
# read each, not a StartLogging, a verification and an alert each.
READ_FIRST_AFTER_RESTART = timedelta(minutes=1)
_CONFIG_EVENTS = frozenset({"UpdateTrail", "PutEventSelectors", "PutInsightSelectors"})
_INVARIANTS = {
    "StopLogging": "I2 trail logging",
    "DeleteTrail": "I3 trail exists with its baseline",
    "UpdateTrail": "I4 trail settings",
    "PutEventSelectors": "I5 event selectors",
    "PutInsightSelectors": "I5 insight selectors",
}


def trail_named_in(event: ApiCallEvent) -> TrailRef:
    """The trail a request acted on, from `name` or `trailName`, plain or ARN."""
    raw = event.parameter("name", limit=512) or event.parameter("trailName", limit=512)
    if not raw:
        raise InvalidEvent(f"{event.event_name} request names no trail")
    return TrailRef.parse(raw, event.region, event.account_id)


def checked_with_claim(event: ApiCallEvent, deps: Dependencies) -> Precondition | None:
    """Before the delivery ledger's claim: an event this service would reject is rejected
    now (InvalidEvent), so that a bad input causes no write at all, the claim included.

    For StopLogging with no ProtectedTrailNames, "the trail has a baseline" is checked in
    the claim itself, so that a cold incident costs the minimum's calls plus one; the
    answer then decides `is_protected` without a read of its own."""
    if event.event_name in DELEGATED_ADMIN_EVENTS:
        return None
    if event.event_name not in ASPECTS_BY_EVENT:
        raise InvalidEvent(f"{event.event_name} is not a trail change trailguard handles")
    ref = trail_named_in(event)
    if event.event_name != "StopLogging" or deps.settings.protected_trail_names:
        return None
    return deps.baselines.existence_check(ref)


_TRUSTED_ACCESS = "trusted_access"


def reads_with_claim(event: ApiCallEvent, deps: Dependencies) -> dict[str, Any]:
    """What the repair needs before its first write, made at the same time as the ledger
    claim (engine/handler.py), so that it costs one round trip.

    DeleteTrail: the baseline, whether the trail is really gone (a forged or stale
    DeleteTrail must not make trailguard write), and trusted access (an organization
    trail cannot be created without it). StopLogging: the CloudTrail client."""
    if event.event_name not in ("StopLogging", "DeleteTrail"):
        return {}
    ref = trail_named_in(event)
    if event.event_name == "StopLogging":
        # Its repair's first call is StartLogging: the client is made meanwhile.
        connect = getattr(deps.trails, "connect", None)
        if callable(connect):
            connect(ref.region)
        return {}
    if event.event_name != "DeleteTrail" or deps.settings.detect_only:
        return {}
    return together(
        {
            _baseline_key(ref): lambda: deps.baselines.get(ref),
            _exists_key(ref): lambda: deps.trails.read(ref, frozenset({Aspect.EXISTS})).exists,
            _TRUSTED_ACCESS: lambda: deps.trusted_access.is_enabled(CLOUDTRAIL),
        }
    )


def _baseline_key(ref: TrailRef) -> str:
    return f"baseline:{ref.arn}"


def _exists_key(ref: TrailRef) -> str:
    return f"exists:{ref.arn}"


def _trusted_access_enabled(deps: Dependencies) -> bool:
    known = deps.prefetched.pop(_TRUSTED_ACCESS, None)
    return bool(known) if known is not None else deps.trusted_access.is_enabled(CLOUDTRAIL)


def is_protected(ref: TrailRef, deps: Dependencies) -> bool:
    """Configured names decide; with none configured, having a baseline does."""
    names = deps.settings.protected_trail_names
    if names:
        return ref.name in names
    return deps.baselines.has_baseline(ref)


def trail_repair(
    deps: Dependencies,
    *,
    subject: Subject,
    ref: TrailRef,
    baseline: TrailBaseline | None,
    live: LiveTrail,
    drifts: list[Drift],
    aspects: frozenset[Aspect],
) -> Repair:
    snapshot = baseline.snapshot if baseline else None
    steps = repair_steps(drifts, snapshot)
    trails = deps.trails
    needs_org_access = (
        snapshot is not None
        and snapshot.settings.is_organization_trail
        and bool({Step.CREATE_TRAIL, Step.UPDATE_TRAIL} & set(steps))
    )
    if needs_org_access and not _trusted_access_enabled(deps):
        # CreateTrail/UpdateTrail of an organization trail fail with
        # CloudTrailAccessNotEnabledException until trusted access is back.
        steps.insert(0, Step.ENABLE_TRUSTED_ACCESS)
    live_tags = dict(live.snapshot.tags) if live.snapshot else {}

    def run(step: Step) -> Callable[[], None]:
        if step is Step.START_LOGGING:
            return lambda: trails.start_logging(ref)
        if step is Step.ENABLE_TRUSTED_ACCESS:
            return lambda: deps.trusted_access.enable(CLOUDTRAIL)
        assert snapshot is not None, "configuration steps are planned only with a baseline"
        return {
            Step.CREATE_TRAIL: lambda: trails.create(snapshot),
            Step.UPDATE_TRAIL: lambda: trails.update(snapshot),
            Step.RESTORE_TAGS: lambda: trails.restore_tags(snapshot, live_tags),
            Step.PUT_EVENT_SELECTORS: lambda: trails.put_event_selectors(snapshot),
            Step.PUT_INSIGHT_SELECTORS: lambda: trails.put_insight_selectors(snapshot),
        }[step]

    def action(step: Step) -> Action:
        target = CLOUDTRAIL if step is Step.ENABLE_TRUSTED_ACCESS else ref.arn
        return Action(step.value, target, run(step), together=step in INDEPENDENT_STEPS)

    verify_aspects = EVERY_ASPECT if Step.CREATE_TRAIL in steps else aspects
    verified: list[LiveTrail] = []

    def verify() -> list[str]:
        after = trails.read(ref, verify_aspects)
        verified[:] = [after]
        return [d.summary for d in trail_drift(snapshot, after, verify_aspects)]

    degraded = _Degraded(snapshot)
    trusted_access_restored: list[bool] = []

    def on_failure(failed: Action, exc: AwsCallFailed) -> list[Action] | None:
        # Trusted access turned off between the check above and the call: once.
        if (
            exc.code == "CloudTrailAccessNotEnabledException"
            and failed.call in (Step.CREATE_TRAIL.value, Step.UPDATE_TRAIL.value)
            and not trusted_access_restored
        ):
            trusted_access_restored.append(True)
            return [action(Step.ENABLE_TRUSTED_ACCESS), failed]
        if snapshot is not None and failed.call in _CONFIGURING:
            reduced = degraded.without(exc)
            if reduced is not None:
                # An optional dependency is broken: make the trail record first.
                write = trails.create if failed.call == Step.CREATE_TRAIL.value else trails.update
                return [Action(failed.call, ref.arn, lambda: write(reduced))]
        # Someone (or a parallel delivery) recreated the trail between our read
        # and CreateTrail: bring the existing one to the baseline instead.
        if failed.call == Step.CREATE_TRAIL.value and exc.code == "TrailAlreadyExistsException":
            return [
                action(s)
                for s in (
                    Step.UPDATE_TRAIL,
                    Step.START_LOGGING,
                    Step.RESTORE_TAGS,
                    Step.PUT_EVENT_SELECTORS,
                    Step.PUT_INSIGHT_SELECTORS,
                )
            ]
        return None

    return Repair(
        subject=subject,
        drift=tuple(d.summary for d in drifts),
        actions=[action(step) for step in steps],
        verify=verify,
        manual_action=(
            f"restore trail {ref.name} in {ref.region} from its baseline "
            f"(`trailguard baseline show {ref.name}`) and start logging "
            f"(`aws cloudtrail start-logging --name {ref.arn} --region {ref.region}`)"
        ),
        on_step_failure=on_failure,
        annotate=lambda alert: delivery_note(deps, alert, snapshot, verified),
        degraded=lambda remaining: _noted(deps, ref, degraded, remaining),
    )


def _noted(
    deps: Dependencies, ref: TrailRef, degraded: _Degraded, remaining: list[str]
) -> tuple[str, str] | None:
    explained = degraded.explain(remaining)
    if explained is not None and deps.health is not None:
        try:
            deps.health.set_degraded(ref, degraded.remaining)
        except AwsCallFailed as exc:
            logger.warning("degraded repair not remembered", extra={"error": str(exc)})
    return explained


_CONFIGURING = frozenset({Step.CREATE_TRAIL.value, Step.UPDATE_TRAIL.value})
# CreateTrail/UpdateTrail errors of an optional dependency (CloudTrail API Reference,
# "Errors"): the settings left out to make the trail record, and what they are.
_OPTIONAL: dict[str, tuple[tuple[str, ...], str]] = {
    "InvalidCloudWatchLogsRoleArnException": (
        ("cloud_watch_logs_log_group_arn", "cloud_watch_logs_role_arn"),
        "CloudWatch Logs",
    ),
    "InvalidCloudWatchLogsLogGroupArnException": (
        ("cloud_watch_logs_log_group_arn", "cloud_watch_logs_role_arn"),
        "CloudWatch Logs",
    ),
    "InsufficientSnsTopicPolicyException": (("sns_topic_name",), "SNS notifications"),
    "KmsKeyNotFoundException": (("kms_key_id",), "KMS encryption"),
    "KmsKeyDisabledException": (("kms_key_id",), "KMS encryption"),
    "KmsException": (("kms_key_id",), "KMS encryption"),
    "InsufficientEncryptionPolicyException": (("kms_key_id",), "KMS encryption"),
}


class _Degraded:
    """The optional settings a repair left out, and why (issue: degraded repair)."""

    def __init__(self, baseline: TrailSnapshot | None) -> None:
        self._baseline = baseline
        self.left_out: dict[str, tuple[str, str, str]] = {}  # label -> (code, hint, fields)
        self.remaining = ""  # the drift left, as the reconciler keys the incident

    def without(self, exc: AwsCallFailed) -> TrailSnapshot | None:
        """The baseline without the settings `exc` refuses, or None if none is optional."""
        if exc.code not in _OPTIONAL or self._baseline is None:
            return None
        fields, label = _OPTIONAL[exc.code]
        if label in self.left_out:
            return None  # already left out, and it still fails: not this
        names = ", ".join(SETTING_LABELS[f] for f in fields)
        self.left_out[label] = (exc.code, exc.hint, names)
        dropped = {f for _, _, n in self.left_out.values() for f in _fields_of(n)}
        return self._baseline.with_settings(**dict.fromkeys(dropped, ""))

    def explain(self, remaining: list[str]) -> tuple[str, str] | None:
        if not self.left_out:
            return None
        left = {label for _, _, n in self.left_out.values() for label in n.split(", ")}
        if not all(any(r.startswith(name) for name in left) for r in remaining):
            return None  # something else is wrong too: a plain failure
        self.remaining = "; ".join(sorted(remaining))
        parts = [
            f"{label} ({names}) not restored: {code}, {hint}"
            for label, (code, hint, names) in self.left_out.items()
        ]
        headline = (
            "trail restored and recording, but NOT to its full baseline: "
            + ", ".join(self.left_out)
            + " not restored"
        )
        manual = (
            "; ".join(parts)
            + ". Then run `trailguard reconcile` (or wait for the next run): it restores "
            "the missing settings from the baseline"
        )
        return headline, manual


def _fields_of(names: str) -> list[str]:
    by_label = {label: field for field, label in SETTING_LABELS.items()}
    return [by_label[name] for name in names.split(", ")]


class _TrailGone(Exception):
    """StartLogging found no trail: it must be recreated, not restarted."""


def _restart_logging(
    deps: Dependencies, subject: Subject, ref: TrailRef, started: datetime
) -> Repair:
    """StopLogging's repair is known from the event alone: StartLogging, then verify.

    No read first: a successful StopLogging event means the call stopped the trail,
    StartLogging is idempotent, duplicates of the event are filtered by the delivery
    ledger, and the read after the call is the verification. One call fewer on the
    path that matters most (bench/), and the alert says what the event said.
    """
    logging_aspects = frozenset({Aspect.EXISTS, Aspect.LOGGING})
    verified: list[LiveTrail] = []

    def verify() -> list[str]:
        after = deps.trails.read(ref, logging_aspects)
        verified[:] = [after]
        return [d.summary for d in trail_drift(None, after, logging_aspects)]

    blind = blind_window_annotation(
        deps, subject, started, "logging was stopped (StopLogging)", query_now=False
    )

    def on_failure(failed: Action, exc: AwsCallFailed) -> list[Action] | None:
        if exc.code == "TrailNotFoundException":
            raise _TrailGone from exc
        return None

    return Repair(
        subject=subject,
        drift=("logging was stopped (StopLogging)",),
        actions=[Action("StartLogging", ref.arn, lambda: deps.trails.start_logging(ref))],
        verify=verify,
        manual_action=(
            f"start logging: `aws cloudtrail start-logging --name {ref.arn} --region {ref.region}`"
        ),
        on_step_failure=on_failure,
        annotate=lambda alert: delivery_note(deps, blind(alert), None, verified),
    )


def protect_trail(event: ApiCallEvent, deps: Dependencies) -> Result:
    if event.event_name in DELEGATED_ADMIN_EVENTS:
        return _delegated_admin_change(event, deps)
    aspects = ASPECTS_BY_EVENT.get(event.event_name)
    if aspects is None:
        raise InvalidEvent(f"{event.event_name} is not a trail change trailguard handles")
    ref = trail_named_in(event)
    if not is_protected(ref, deps):
        logger.info("trail is not protected; no action", extra={"trail": ref.arn})
        return Result(Outcome.NOTICE, ref.arn, "not a protected trail")

    subject = Subject(_INVARIANTS[event.event_name], ref.arn, ref.account_id, ref.region, event)
    verdict, screened = screen(
        event, deps, subject, f"{event.event_name} attempt was refused; nothing changed"
    )
    if screened is not None:
        return screened
    if verdict is Verdict.ALLOWED:
        return _allowed_change(event, deps, subject, ref)
    if event.event_name == "StopLogging" and not deps.settings.detect_only:
        last = deps.restarted.get(ref.arn)
        if last is None or deps.clock() - last > READ_FIRST_AFTER_RESTART:
            try:
                result = execute(deps, _restart_logging(deps, subject, ref, event.event_time))
            except _TrailGone:
                pass  # stopped, then deleted: the full path below recreates it
            else:
                deps.restarted[ref.arn] = deps.clock()
                return result

    if event.event_name == "DeleteTrail" and not deps.settings.detect_only:
        try:
            return _recreate(deps, subject, ref, aspects)
        except _TrailExists:
            pass  # recreated meanwhile, or the event was not what it said: compare below
    return _compare_and_repair(event, deps, subject, ref, aspects)


class _TrailExists(Exception):
    """CreateTrail found the trail: it must be compared with its baseline, not recreated."""


def _recreate(
    deps: Dependencies, subject: Subject, ref: TrailRef, aspects: frozenset[Aspect]
) -> Result:
    """A deleted trail, rebuilt from its baseline, read fresh (never from a cache)."""
    key = _baseline_key(ref)
    baseline = deps.prefetched.pop(key) if key in deps.prefetched else deps.baselines.get(ref)
    key = _exists_key(ref)
    exists = deps.prefetched.pop(key) if key in deps.prefetched else None
    if exists is None:
        exists = deps.trails.read(ref, frozenset({Aspect.EXISTS})).exists
    if exists:
        raise _TrailExists
    live = LiveTrail(exists=False)
    if baseline is None:
        return _no_baseline(deps, subject, ref, live)
    drifts = trail_drift(baseline.snapshot, live, aspects)
    repair = trail_repair(
        deps,
        subject=subject,
        ref=ref,
        baseline=baseline,
        live=live,
        drifts=drifts,
        aspects=aspects,
    )
    fallback = repair.on_step_failure

    def on_failure(failed: Action, exc: AwsCallFailed) -> list[Action] | None:
        if failed.call == Step.CREATE_TRAIL.value and exc.code == "TrailAlreadyExistsException":
            raise _TrailExists from exc
        return fallback(failed, exc)

    repair.on_step_failure = on_failure
    if subject.event is not None:
        # The trail recorded nothing from the DeleteTrail call to the verified repair.
        blind = blind_window_annotation(
            deps, subject, subject.event.event_time, "the trail was deleted", query_now=False
        )
        repair.annotate = chained(blind, repair.annotate)
    return execute(deps, repair)


def _compare_and_repair(
    event: ApiCallEvent,
    deps: Dependencies,
    subject: Subject,
    ref: TrailRef,
    aspects: frozenset[Aspect],
) -> Result:
    live = deps.trails.read(ref, aspects)
    needs_baseline = not live.exists or bool(aspects - {Aspect.EXISTS, Aspect.LOGGING})
    # Read fresh, never from a cache: the repair rebuilds the trail from it.
    baseline = deps.baselines.get(ref) if needs_baseline else None
    if baseline is None and needs_baseline:
        return _no_baseline(deps, subject, ref, live)

    drifts = trail_drift(baseline.snapshot if baseline else None, live, aspects)
    if not drifts:
        logger.info("trail matches its baseline; nothing to do", extra={"trail": ref.arn})
        return Result(Outcome.IN_SYNC, ref.arn, "matches the baseline")
    if deps.settings.detect_only:
        return detected(deps, subject, tuple(d.summary for d in drifts))
    repair = trail_repair(
        deps,
        subject=subject,
        ref=ref,
        baseline=baseline,
        live=live,
        drifts=drifts,
        aspects=aspects,
    )
    reason = blind_reason(drifts, live)
    if reason is not None:
        # The trail recorded nothing from the event's call to the verified repair.
        blind = blind_window_annotation(deps, subject, event.event_time, reason, query_now=False)
        repair.annotate = chained(blind, repair.annotate)
    result = execute(deps, repair)
    if event.event_name == "StopLogging":
        deps.restarted[ref.arn] = deps.clock()
    return result


def _no_baseline(deps: Dependencies, subject: Subject, ref: TrailRef, live: LiveTrail) -> Result:
    if not live.exists:
        headline = "protected trail deleted and NO BASELINE to recreate it from"
        severity = Severity.CRITICAL
    else:
        headline = "protected trail changed but has no baseline to compare with"
        severity = Severity.HIGH
    return report_only(
        deps,
        subject,
        severity,
        Outcome.REMEDIATION_FAILED,
        headline,
        manual_action=f"recreate or check trail {ref.name} in {ref.region} by hand, then "
        f"record its baseline with `trailguard baseline capture`",
    )


def _allowed_change(
    event: ApiCallEvent, deps: Dependencies, subject: Subject, ref: TrailRef
) -> Result:
    detail = "Not reverted: the principal is on the allow-list."
    if event.event_name in _CONFIG_EVENTS:
        principal = event.principal.acting_arn or "unknown principal"
        if recapture(
            deps.trails,
            deps.baselines,
            ref,
            captured_at=deps.clock().isoformat(),
            captured_by=principal,
            reason=f"{event.event_name} by allow-listed principal, event {event.event_id}",
        ):
            detail += " The baseline was updated to the trail's new configuration."
    return report_only(
        deps,
        subject,
        Severity.WARNING,
        Outcome.ALLOWED,
        f"allow-listed principal ran {event.event_name}; not reverted",
        detail=detail,
    )


def _delegated_admin_change(event: ApiCallEvent, deps: Dependencies) -> Result:
    account = event.parameter("memberAccountId", limit=12) or event.parameter(
        "delegatedAdminAccountId", limit=12
    )
    return delegated_admin_changed(event, deps, account)
