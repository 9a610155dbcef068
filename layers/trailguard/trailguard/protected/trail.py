"""I2-I5: the protected trail exists, logs, and keeps its baseline configuration.

Remediation compares live state with the stored baseline, never with the
event: DeleteTrail carries only a name, UpdateTrail only what was sent.
Each event reads only the aspects it can have changed, so that a StopLogging
repair costs the fewest calls; the scheduled reconciler reads them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
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
from trailguard.domain.guards import AllowListed, Verdict, allow_listed, is_allow_listed
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.engine.capture import CONFIGURATION, capture_alert, recapture
from trailguard.engine.remediation import (
    Action,
    Dependencies,
    Repair,
    Result,
    Subject,
    execute,
    notify,
    report_only,
    respond,
    screen,
)
from trailguard.errors import AwsCallFailed, InvalidEvent
from trailguard.ports import BaselineRead, Precondition, RecordedEvent
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
# CloudTrail's eventTime and StopLoggingTime have one-second resolution and are taken
# at slightly different moments; a real stop is never a minute before its own event.
STOP_TIME_TOLERANCE = timedelta(seconds=60)
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
            _baseline_key(ref): lambda: deps.baselines.read(ref),
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
    deps: Dependencies, subject: Subject, ref: TrailRef, event: ApiCallEvent
) -> Repair:
    """StopLogging's repair is known from the event alone: StartLogging, then verify.

    No read first: a successful StopLogging event means the call stopped the trail,
    StartLogging is idempotent, duplicates of the event are filtered by the delivery
    ledger, and the read after the call is the verification. One call fewer on the
    path that matters most (bench/), and the alert says what the event said.
    """
    logging_aspects = frozenset({Aspect.EXISTS, Aspect.LOGGING})
    seen: list[LiveTrail] = []

    def verify() -> list[str]:
        after = deps.trails.read(ref, logging_aspects)
        seen.append(after)
        return [d.summary for d in trail_drift(None, after, logging_aspects)]

    blind = blind_window_annotation(
        deps, subject, event.event_time, "logging was stopped (StopLogging)", query_now=False
    )

    def contradicted() -> str:
        # The verification read already carries StopLoggingTime: a real StopLogging
        # left it at the event's time. Earlier, or none, and the event is not what
        # stopped this trail, so no repair is claimed for it (a forged event).
        stopped = seen[-1].stopped_at if seen else None
        if stopped is None:
            return "the trail has no StopLoggingTime: it was not stopped"
        if stopped < event.event_time - STOP_TIME_TOLERANCE:
            return (
                f"the trail's StopLoggingTime {stopped.isoformat()} is before the event's "
                f"time {event.event_time.isoformat()}: this StopLogging did not stop it"
            )
        return ""

    def on_failure(failed: Action, exc: AwsCallFailed) -> list[Action] | None:
        if exc.code == "TrailNotFoundException":
            raise _TrailGone from exc
        return None

    return Repair(
        subject=subject,
        drift=("the trail is not logging",),
        actions=[Action("StartLogging", ref.arn, lambda: deps.trails.start_logging(ref))],
        verify=verify,
        manual_action=(
            f"start logging: `aws cloudtrail start-logging --name {ref.arn} --region {ref.region}`"
        ),
        on_step_failure=on_failure,
        annotate=lambda alert: delivery_note(deps, blind(alert), None, seen[-1:]),
        contradicted=contradicted,
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
    why = Escalation()
    if verdict is Verdict.ALLOWED:
        if allow_listed(event.event_name) is AllowListed.RECAPTURE:
            answered = _allowed_change(event, deps, subject, ref, why)
            if answered is not None:
                return answered
        else:
            why.note(
                f"The principal is allow-listed, but {event.event_name} breaks an invariant, "
                "which the allow-list does not cover; pause trailguard with Mode=detect for "
                "planned maintenance.",
                Severity.HIGH,
            )
    # An event under trailguard's own role takes the full path below: it is checked
    # with reads first, never answered with a write on its word alone, and what its
    # drift means is decided once the drift is known.
    if verdict is not Verdict.OWN_ROLE and (
        event.event_name == "StopLogging" and not deps.settings.detect_only
    ):
        last = deps.restarted.get(ref.arn)
        if last is None or deps.clock() - last > READ_FIRST_AFTER_RESTART:
            try:
                result = execute(deps, why.applied(_restart_logging(deps, subject, ref, event)))
            except _TrailGone:
                pass  # stopped, then deleted: the full path below recreates it
            else:
                deps.restarted[ref.arn] = deps.clock()
                return result

    if event.event_name == "DeleteTrail" and not deps.settings.detect_only:
        try:
            return _recreate(deps, subject, ref, aspects, verdict=verdict, why=why)
        except _TrailExists:
            pass  # recreated meanwhile, or the event was not what it said: compare below
    return _compare_and_repair(event, deps, subject, ref, aspects, verdict=verdict, why=why)


class _TrailExists(Exception):
    """CreateTrail found the trail: it must be compared with its baseline, not recreated."""


def _recreate(
    deps: Dependencies,
    subject: Subject,
    ref: TrailRef,
    aspects: frozenset[Aspect],
    *,
    verdict: Verdict,
    why: Escalation,
) -> Result:
    """A deleted trail, rebuilt from its verified baseline, read fresh (never cached)."""
    key = _baseline_key(ref)
    read = deps.prefetched.pop(key) if key in deps.prefetched else deps.baselines.read(ref)
    key = _exists_key(ref)
    exists = deps.prefetched.pop(key) if key in deps.prefetched else None
    if exists is None:
        exists = deps.trails.read(ref, frozenset({Aspect.EXISTS})).exists
    if exists:
        raise _TrailExists
    live = LiveTrail(exists=False)
    if read.tampered:
        why.note(baseline_tampered(read), Severity.CRITICAL)
    if read.baseline is None:
        return _no_baseline(deps, subject, ref, live, read, why=why)
    baseline = read.baseline
    if read.tampered:
        put_back_baseline(deps, ref, read, why)
    if verdict is Verdict.OWN_ROLE:
        why.note(own_role_misused(event_of(subject)), Severity.CRITICAL)
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
    return execute(deps, why.applied(repair))


def _compare_and_repair(
    event: ApiCallEvent,
    deps: Dependencies,
    subject: Subject,
    ref: TrailRef,
    aspects: frozenset[Aspect],
    *,
    verdict: Verdict,
    why: Escalation,
) -> Result:
    live = deps.trails.read(ref, aspects)
    needs_baseline = not live.exists or bool(aspects - {Aspect.EXISTS, Aspect.LOGGING})
    # Read fresh, never from a cache, and verified: the repair rebuilds the trail from it.
    read = deps.baselines.read(ref) if needs_baseline else BaselineRead(None)
    if read.tampered:
        why.note(baseline_tampered(read), Severity.CRITICAL)
    if read.baseline is None and needs_baseline:
        return _no_baseline(deps, subject, ref, live, read, why=why)
    baseline = read.baseline

    drifts = trail_drift(baseline.snapshot if baseline else None, live, aspects)
    if read.tampered and not deps.settings.detect_only:
        put_back_baseline(deps, ref, read, why)
    if not drifts:
        if read.tampered:
            return tampered_but_in_sync(deps, subject, why)
        logger.info("trail matches its baseline; nothing to do", extra={"trail": ref.arn})
        return Result(Outcome.IN_SYNC, ref.arn, "matches the baseline")
    if verdict is Verdict.OWN_ROLE:
        if repair_shaped(event, baseline):
            why.note(
                "Found after trailguard's own repair (an UpdateTrail with the baseline's "
                "values): the drift is a change made since, reverted.",
                Severity.HIGH,
            )
        else:
            why.note(own_role_misused(event), Severity.CRITICAL)
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
    result = respond(deps, why.applied(repair))
    if event.event_name == "StopLogging" and not deps.settings.detect_only:
        deps.restarted[ref.arn] = deps.clock()
    return result


def tampered_but_in_sync(deps: Dependencies, subject: Subject, why: Escalation) -> Result:
    """Only the baseline was tampered with: the trail matches its newest intact version,
    which is in force again (event path and reconciler alike)."""
    return report_only(
        deps,
        subject,
        Severity.CRITICAL,
        Outcome.DETECTED,
        "BASELINE TAMPERED WITH; the trail matches the newest intact version",
        detail=" ".join(why.notes),
        manual_action=BASELINE_MANUAL_ACTION,
    )


BASELINE_MANUAL_ACTION = (
    "find who wrote to the baseline table (its resource policy denies everyone but "
    "trailguard's roles: was it changed?); check `trailguard baseline show` and the "
    "table's point-in-time recovery"
)


@dataclass
class Escalation:
    """Why a repair's alert says more than 'drift repaired', and how loudly."""

    notes: list[str] = field(default_factory=list)
    severity: Severity = Severity.HIGH

    def note(self, text: str, severity: Severity) -> None:
        self.notes.append(text)
        if _RANK[severity] > _RANK[self.severity]:
            self.severity = severity

    def applied(self, repair: Repair) -> Repair:
        return replace(repair, severity=self.severity, notes=tuple(self.notes))


_RANK = {severity: rank for rank, severity in enumerate(Severity)}


# UpdateTrail's request parameters that trailguard's own repair always sends, and the
# baseline settings they carry (adapters/cloudtrail.py, CloudTrailGateway.update).
_REPAIR_PARAMETERS = {
    "s3BucketName": "s3_bucket_name",
    "s3KeyPrefix": "s3_key_prefix",
    "includeGlobalServiceEvents": "include_global_service_events",
    "isMultiRegionTrail": "is_multi_region_trail",
    "enableLogFileValidation": "log_file_validation_enabled",
    "isOrganizationTrail": "is_organization_trail",
}


def repair_shaped(event: ApiCallEvent, baseline: TrailBaseline | None) -> bool:
    """Whether an UpdateTrail is what trailguard's repair sends: every setting, each the
    baseline's. Its echo can still find drift when another change landed since."""
    if event.event_name != "UpdateTrail" or baseline is None:
        return False
    expected = asdict(baseline.snapshot.settings)
    sent = event.request_parameters
    return all(
        key in sent and sent[key] == expected[name] for key, name in _REPAIR_PARAMETERS.items()
    )


def event_of(subject: Subject) -> ApiCallEvent:
    assert subject.event is not None, "an event handler's subject carries its event"
    return subject.event


def own_role_misused(event: ApiCallEvent) -> str:
    role = event.principal.session_issuer_arn or "one of trailguard's roles"
    return (
        f"TRAILGUARD'S ROLE WAS USED BY SOMETHING OTHER THAN A REPAIR: {role} made this "
        f"{event.event_name} and left drift; trailguard's own repairs leave none. Find what "
        "runs as this role (iam:PassRole at CreateFunction/UpdateFunctionConfiguration) and "
        "check the role's trust policy."
    )


def baseline_tampered(read: BaselineRead) -> str:
    text = "BASELINE TAMPERED WITH: " + "; ".join(read.problems) + "."
    if read.baseline is not None:
        text += (
            f" Rebuilt from the newest intact version {read.version} (captured "
            f"{read.baseline.captured_at} by {read.baseline.captured_by}), never from an "
            "unverified item."
        )
    return text


def put_back_baseline(
    deps: Dependencies, ref: TrailRef, read: BaselineRead, why: Escalation
) -> None:
    if read.baseline is None:
        return
    try:
        deps.baselines.repair_current(ref, read.version)
    except AwsCallFailed as exc:
        why.note(f"The baseline in force could not be put back: {exc}.", Severity.CRITICAL)
    else:
        why.note(f"Version {read.version} is the baseline in force again.", Severity.CRITICAL)


def _no_baseline(
    deps: Dependencies,
    subject: Subject,
    ref: TrailRef,
    live: LiveTrail,
    read: BaselineRead,
    *,
    why: Escalation,
) -> Result:
    # A protected trail with no intact baseline is never "repaired" from anything.
    if not live.exists:
        headline = "protected trail deleted and NO BASELINE to recreate it from"
    else:
        headline = "protected trail changed but has NO BASELINE to compare with"
    return report_only(
        deps,
        subject,
        Severity.CRITICAL,
        Outcome.REMEDIATION_FAILED,
        headline,
        manual_action=f"recreate or check trail {ref.name} in {ref.region} by hand, then "
        f"record its baseline with `trailguard baseline capture`",
        detail=" ".join(why.notes),
    )


def corroborate(
    event: ApiCallEvent, deps: Dependencies, region: str
) -> tuple[RecordedEvent | None, str]:
    """(the event as Event history recorded it, '') when it corroborates this
    allow-listed event, else (None, why not). What CloudTrail recorded is trusted;
    the event trailguard was handed is not (anyone may invoke it directly)."""
    if deps.event_records is None:
        return None, "cannot be looked up (no Event history configured)"
    # Looked up once, not polled: Event history can lag EventBridge by minutes, longer
    # than a function should wait. A real change not yet there is reverted with a
    # CRITICAL that says why (README, "Forged events").
    recorded = deps.event_records.find(event.event_id, region)
    if recorded is None:
        return None, "is not in CloudTrail Event history (LookupEvents by EventId)"
    if recorded.event_name != event.event_name:
        return None, f"is a {recorded.event_name} in Event history, not a {event.event_name}"
    if recorded.error_code:
        return None, f"failed with {recorded.error_code} according to Event history"
    if not is_allow_listed(recorded.principal_arn, deps.settings):
        who = recorded.principal_arn or "an unknown principal"
        return None, f"was made by {who} according to Event history, who is not allow-listed"
    return recorded, ""


def _allowed_change(
    event: ApiCallEvent, deps: Dependencies, subject: Subject, ref: TrailRef, why: Escalation
) -> Result | None:
    """A configuration change by an allow-listed principal becomes the baseline, when
    it is real: corroborated in Event history and visible on the live trail.

    None (with `why` noted) when it is not: the caller then treats it as drift."""
    recorded, problem = corroborate(event, deps, ref.region)
    if recorded is None:
        why.note(
            f"NOT CORROBORATED: the allow-listed {event.event_name} (event {event.event_id}) "
            f"{problem}; it was treated as drift, and the baseline was not replaced.",
            Severity.CRITICAL,
        )
        return None
    read = deps.baselines.read(ref)
    if read.tampered or read.baseline is None:
        why.note(
            "The allow-listed change was not recaptured: the baseline itself is not intact.",
            Severity.CRITICAL,
        )
        return None
    live = deps.trails.read(ref, CONFIGURATION)
    shown = trail_drift(read.baseline.snapshot, live, ASPECTS_BY_EVENT[event.event_name])
    principal = recorded.principal_arn  # as CloudTrail recorded it, not as the event says
    if not live.exists or not shown:
        return report_only(
            deps,
            subject,
            Severity.WARNING,
            Outcome.ALLOWED,
            f"allow-listed principal ran {event.event_name}; the trail shows no change",
            detail="Corroborated in CloudTrail Event history; nothing to recapture.",
        )
    captured = recapture(
        deps.trails,
        deps.baselines,
        ref,
        captured_at=deps.clock().isoformat(),
        captured_by=principal,
        reason=f"{event.event_name} by allow-listed principal, event {event.event_id}",
    )
    if captured is None:
        why.note("The trail vanished before it could be recaptured.", Severity.HIGH)
        return None
    alert = capture_alert(
        read.baseline.snapshot,
        captured,
        severity_if_changed=Severity.WARNING,
        event=event,
        detail="Not reverted: the principal is on the allow-list, the event is in CloudTrail "
        "Event history and the live trail shows the change. The baseline was updated to "
        "the trail's new configuration.",
    )
    return Result(Outcome.ALLOWED, ref.arn, "recaptured", alert_id=notify(deps, alert))


def _delegated_admin_change(event: ApiCallEvent, deps: Dependencies) -> Result:
    account = event.parameter("memberAccountId", limit=12) or event.parameter(
        "delegatedAdminAccountId", limit=12
    )
    return delegated_admin_changed(event, deps, account)
