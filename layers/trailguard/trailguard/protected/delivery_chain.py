"""I8: the protected trail's delivery chain, its bucket, key and log group.

An admin can make the trail record nothing without one CloudTrail call: deny
CloudTrail in the bucket policy, expire the logs, suspend versioning, delete the
bucket, disable the key or schedule its deletion, drop CloudTrail from the key
policy, delete the log group. Each event names a bucket, key or log group; the
trails whose baseline chain holds it are checked link by link against that
baseline and repaired, one link at a time so that a link that cannot be repaired
(a key already deleted) does not hold back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.delivery_chain import (
    ChainDrift,
    ChainLocation,
    ChainStep,
    DeliveryChain,
    Part,
    bucket_lost_detail,
    chain_drift,
    log_group_name_of,
    repair_steps,
    repaired_policy,
    unreachable_advice,
)
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict
from trailguard.domain.trails import TrailBaseline, TrailSnapshot
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
from trailguard.ports import DeliveryChains

logger = logging.getLogger("trailguard")

INVARIANT = "I8 delivery chain"
# The calls that break the chain, as CloudTrail records them (the API
# PutBucketLifecycleConfiguration is recorded as PutBucketLifecycle).
PART_BY_EVENT: dict[str, Part] = {
    "PutBucketPolicy": Part.BUCKET,
    "DeleteBucketPolicy": Part.BUCKET,
    "PutBucketLifecycle": Part.BUCKET,
    "DeleteBucketLifecycle": Part.BUCKET,
    "PutBucketVersioning": Part.BUCKET,
    "PutObjectLockConfiguration": Part.BUCKET,
    "DeleteBucket": Part.BUCKET,
    "DisableKey": Part.KEY,
    "ScheduleKeyDeletion": Part.KEY,
    "PutKeyPolicy": Part.KEY,
    "DeleteLogGroup": Part.LOG_GROUP,
    "PutRetentionPolicy": Part.LOG_GROUP,
    "DeleteRetentionPolicy": Part.LOG_GROUP,
}
_PARAMETER = {Part.BUCKET: "bucketName", Part.KEY: "keyId", Part.LOG_GROUP: "logGroupName"}
_LABEL = {Part.BUCKET: "bucket", Part.KEY: "KMS key", Part.LOG_GROUP: "log group"}


def location_of(snapshot: TrailSnapshot, bucket_account: str) -> ChainLocation:
    settings = snapshot.settings
    return ChainLocation(
        bucket_name=settings.s3_bucket_name,
        bucket_account=bucket_account,
        # GetTrail reports the key as its full ARN; anything else names no key we can read.
        key_arn=settings.kms_key_id if settings.kms_key_id.startswith("arn:") else "",
        log_group_name=log_group_name_of(settings.cloud_watch_logs_log_group_arn),
        logs_role_arn=settings.cloud_watch_logs_role_arn,
    )


def read_baseline_chain(chains: DeliveryChains, snapshot: TrailSnapshot) -> DeliveryChain:
    """The chain to store with a trail's baseline (engine/capture.py)."""
    home = snapshot.ref.account_id
    location = location_of(snapshot, chains.bucket_account(home))
    return chains.read(location, location.parts(), home)


def _names(location: ChainLocation, part: Part, named: str) -> bool:
    if part is Part.BUCKET:
        return named == location.bucket_name
    if part is Part.KEY:
        # keyId is a key id or a key ARN (an alias cannot be disabled or scheduled).
        return bool(location.key_arn) and named in (location.key_arn, location.key_id)
    return bool(location.log_group_name) and named == location.log_group_name


def _chained(deps: Dependencies, part: Part, named: str) -> Iterator[TrailBaseline]:
    for baseline in deps.baselines.all():
        if baseline.chain is not None and _names(baseline.chain.location, part, named):
            yield baseline


# What each step restores, named in the alert's invariant: repairs of different
# settings of one bucket are different drifts, and storm damping must not count
# a lifecycle repair against a policy repair (domain/storm.py keys on it).
_ASPECT = {
    ChainStep.CREATE_BUCKET: "existence",
    ChainStep.PUT_BUCKET_POLICY: "policy",
    ChainStep.PUT_BUCKET_LIFECYCLE: "lifecycle",
    ChainStep.DELETE_BUCKET_LIFECYCLE: "lifecycle",
    ChainStep.PUT_BUCKET_VERSIONING: "versioning",
    ChainStep.PUT_OBJECT_LOCK: "Object Lock",
    ChainStep.CANCEL_KEY_DELETION: "state",
    ChainStep.ENABLE_KEY: "state",
    ChainStep.PUT_KEY_POLICY: "policy",
    ChainStep.CREATE_LOG_GROUP: "existence",
    ChainStep.PUT_RETENTION_POLICY: "retention",
}


def _aspects(drifts: list[ChainDrift]) -> str:
    steps = [s for d in drifts for s in d.steps]
    if ChainStep.CREATE_BUCKET in steps or ChainStep.CREATE_LOG_GROUP in steps:
        return "existence"
    return ", ".join(dict.fromkeys(_ASPECT[s] for s in steps if s in _ASPECT))


def subject_for(
    baseline: TrailBaseline,
    part: Part,
    region: str,
    event: ApiCallEvent | None,
    *,
    detected_by: str = "event",
    aspects: str = "",
) -> Subject:
    assert baseline.chain is not None
    location = baseline.chain.location
    home = baseline.ref.account_id
    what = f"{_LABEL[part]} {aspects}" if aspects else _LABEL[part]
    return Subject(
        f"{INVARIANT}: {what} of trail {baseline.ref.name}",
        location.resource_of(part),
        location.account_of(part, home) or home,
        region,
        event,
        detected_by,
    )


@dataclass(frozen=True)
class ChainCheck:
    """One link checked: the repair to run, or why there is nothing to run."""

    subject: Subject
    repair: Repair | None = None
    unreachable: str = ""  # the link could not be read: the advice for on-call
    unrepairable: tuple[str, ...] = ()  # drift no API call can undo
    recreates_bucket: bool = False


def check_link(
    deps: Dependencies,
    baseline: TrailBaseline,
    part: Part,
    event: ApiCallEvent | None,
    detected_by: str = "event",
) -> ChainCheck:
    """Read one link, compare it with the baseline, plan its repair."""
    assert baseline.chain is not None and deps.chain is not None
    home = baseline.ref.account_id
    region = event.region if event is not None else deps.settings.region
    live = deps.chain.read(baseline.chain.location, frozenset({part}), home)
    if part.value in live.unreadable:
        subject = subject_for(baseline, part, region, event, detected_by=detected_by)
        return ChainCheck(subject, unreachable=live.unreadable[part.value])
    drifts = chain_drift(baseline.chain, live, frozenset({part}))
    subject = subject_for(
        baseline, part, region, event, detected_by=detected_by, aspects=_aspects(drifts)
    )
    if not drifts:
        return ChainCheck(subject)
    # What can be repaired is, even when something else of the link cannot be.
    unrepairable = tuple(d.summary for d in drifts if not d.steps)
    repairable = [d for d in drifts if d.steps]
    repair = None
    if repairable:
        repair = chain_repair(
            deps, subject, baseline=baseline, live=live, drifts=repairable, part=part
        )
    return ChainCheck(
        subject,
        repair=repair,
        unrepairable=unrepairable,
        recreates_bucket=ChainStep.CREATE_BUCKET in repair_steps(repairable),
    )


def chain_repair(
    deps: Dependencies,
    subject: Subject,
    *,
    baseline: TrailBaseline,
    live: DeliveryChain,
    drifts: list[ChainDrift],
    part: Part,
) -> Repair:
    assert baseline.chain is not None and deps.chain is not None
    chains = deps.chain
    home = baseline.ref.account_id
    want = baseline.chain
    where = want.location
    steps = repair_steps(drifts)
    recreate = ChainStep.CREATE_BUCKET in steps

    def bucket_policy() -> None:
        assert want.bucket is not None
        # A recreated bucket, or one whose policy was deleted, gets the whole baseline
        # policy; an existing policy keeps its other statements and gets CloudTrail's
        # back, without the denials.
        live_policy = live.bucket.policy if live.bucket else None
        if (recreate or not live_policy) and want.bucket.policy:
            policy = dict(want.bucket.policy)
        else:
            policy = repaired_policy(
                want.bucket.policy, live_policy, ("s3:PutObject", "s3:GetBucketAcl")
            )
        chains.bucket(where, home).put_policy(where.bucket_name, policy)

    def key_policy() -> None:
        assert want.key is not None
        live_policy = live.key.policy if live.key else None
        policy = repaired_policy(
            want.key.policy,
            live_policy,
            ("kms:GenerateDataKey", "kms:DescribeKey"),
            keep_admins=True,
        )
        chains.key(where, home).put_policy(where.key_arn, policy)

    def run(step: ChainStep) -> Callable[[], None]:
        bucket, key, logs = want.bucket, want.key, want.log_group
        name = where.bucket_name
        table: dict[ChainStep, Callable[[], None]] = {
            ChainStep.PUT_BUCKET_POLICY: bucket_policy,
            ChainStep.PUT_KEY_POLICY: key_policy,
        }
        if bucket is not None:
            table.update(
                {
                    ChainStep.CREATE_BUCKET: lambda: chains.bucket(where, home).create(
                        name, bucket
                    ),
                    ChainStep.PUT_BUCKET_ENCRYPTION: lambda: chains.bucket(
                        where, home
                    ).put_encryption(name, bucket),
                    ChainStep.PUT_BUCKET_VERSIONING: lambda: chains.bucket(
                        where, home
                    ).enable_versioning(name),
                    ChainStep.PUT_OBJECT_LOCK: lambda: chains.bucket(where, home).put_object_lock(
                        name, bucket
                    ),
                    ChainStep.PUT_BUCKET_LIFECYCLE: lambda: chains.bucket(
                        where, home
                    ).put_lifecycle(name, bucket),
                    ChainStep.DELETE_BUCKET_LIFECYCLE: lambda: chains.bucket(
                        where, home
                    ).delete_lifecycle(name),
                }
            )
        if key is not None:
            table.update(
                {
                    ChainStep.CANCEL_KEY_DELETION: lambda: chains.key(where, home).cancel_deletion(
                        where.key_arn
                    ),
                    ChainStep.ENABLE_KEY: lambda: chains.key(where, home).enable(where.key_arn),
                }
            )
        if logs is not None:
            group = where.log_group_name
            table.update(
                {
                    ChainStep.CREATE_LOG_GROUP: lambda: chains.logs().create(group),
                    ChainStep.PUT_RETENTION_POLICY: lambda: chains.logs().put_retention(
                        group, int(logs.retention_days or 0)
                    ),
                }
            )
        return table[step]

    def verify() -> list[str]:
        after = chains.read(where, frozenset({part}), home)
        if part.value in after.unreadable:
            return [f"could not re-read: {after.unreadable[part.value]}"]
        # What no call can undo is reported on its own (beyond_repair), not as this
        # repair's failure.
        return [d.summary for d in chain_drift(want, after, frozenset({part})) if d.steps]

    return Repair(
        subject=subject,
        drift=tuple(d.summary for d in drifts),
        actions=[Action(step.value, where.resource_of(part), run(step)) for step in steps],
        verify=verify,
        manual_action=(
            f"restore {where.resource_of(part)} in account "
            f"{where.account_of(part, home) or home} from the baseline of trail "
            f"{baseline.ref.name} (`trailguard baseline show {baseline.ref.name}`)"
        ),
    )


def run_check(deps: Dependencies, check: ChainCheck) -> Result:
    """Act on one checked link: repair and verify, or alert on what cannot be done."""
    subject = check.subject
    if check.unreachable:
        return report_only(
            deps,
            subject,
            Severity.HIGH,
            Outcome.REMEDIATION_FAILED,
            "delivery chain is in an account trailguard cannot reach",
            manual_action=check.unreachable,
        )
    result = Result(Outcome.IN_SYNC, subject.resource, "matches the baseline")
    if check.repair is not None:
        if deps.settings.detect_only:
            result = detected(deps, subject, check.repair.drift)
        else:
            result = execute(deps, check.repair)
            if check.recreates_bucket:
                bucket_lost(deps, subject)
    unfixable = beyond_repair(deps, check)
    return unfixable if check.repair is None and unfixable is not None else result


_BEYOND_REPAIR = {
    Part.KEY: (
        "the KMS key is gone: create a key whose policy grants CloudTrail, point the "
        "trail at it (UpdateTrail KmsKeyId) and capture a new baseline"
    ),
    Part.LOG_GROUP: (
        "recreate the role with a trust policy for cloudtrail.amazonaws.com and "
        "logs:CreateLogStream and logs:PutLogEvents on the log group (CloudTrail User Guide, "
        "'Sending events to CloudWatch Logs'), then capture a new baseline"
    ),
}


def beyond_repair(deps: Dependencies, check: ChainCheck) -> Result | None:
    """The CRITICAL for drift that no API call undoes (a deleted key, a deleted role)."""
    if not check.unrepairable:
        return None
    part = Part.KEY if check.subject.resource.startswith("arn:aws:kms") else Part.LOG_GROUP
    return report_only(
        deps,
        check.subject,
        Severity.CRITICAL,
        Outcome.REMEDIATION_FAILED,
        "delivery chain broken beyond repair by API",
        drift=check.unrepairable,
        manual_action=_BEYOND_REPAIR[part],
    )


def bucket_lost(deps: Dependencies, subject: Subject) -> None:
    """The CRITICAL that follows a recreated bucket: its log files are gone for good."""
    bucket = subject.resource.removeprefix("arn:aws:s3:::")
    report_only(
        deps,
        subject,
        Severity.CRITICAL,
        Outcome.REPAIRED,
        "bucket recreated; the log files stored in it are gone",
        detail=bucket_lost_detail(bucket),
        manual_action=(
            "find out who deleted the bucket and why; the trail's earlier records "
            "survive only in copies (replication, another trail, Event history for 90 days)"
        ),
    )


class _Report(Protocol):
    checked: list[str]
    results: list[Result]
    failures: list[str]
    plan_only: bool


def check_chain(
    deps: Dependencies,
    baseline: TrailBaseline,
    report: _Report,
    detected_by: str,
    run_repair: Callable[[Dependencies, Repair, Any], None],
) -> None:
    """The reconciler's look at one trail's chain: every link, each on its own."""
    if baseline.chain is None or deps.chain is None:
        return
    report.checked.append(f"{baseline.ref.arn} delivery chain")
    for part in sorted(baseline.chain.location.parts(), key=lambda p: p.value):
        try:
            check = check_link(deps, baseline, part, None, detected_by)
        except AwsCallFailed as exc:
            resource = baseline.chain.location.resource_of(part)
            report.failures.append(f"{resource}: {exc} ({exc.hint})")
            continue
        if check.repair is not None:
            before = len(report.results)
            run_repair(deps, check.repair, report)
            repaired = any(r.outcome is Outcome.REPAIRED for r in report.results[before:])
            if check.recreates_bucket and repaired:
                bucket_lost(deps, check.subject)
        if report.plan_only:
            continue
        if check.unreachable:
            report.results.append(run_check(deps, check))
        unfixable = beyond_repair(deps, check)
        if unfixable is not None:
            report.results.append(unfixable)
            report.failures.append(f"{check.subject.resource}: {'; '.join(check.unrepairable)}")


def protect_delivery_chain(event: ApiCallEvent, deps: Dependencies) -> Result:
    part = PART_BY_EVENT.get(event.event_name)
    if part is None:
        raise InvalidEvent(f"{event.event_name} is not a delivery-chain change trailguard handles")
    named = event.parameter(_PARAMETER[part], limit=1024)
    if not named:
        raise InvalidEvent(f"{event.event_name} request names no {_LABEL[part]}")
    if deps.chain is None:
        raise InvalidEvent("this deployment has no delivery-chain gateway")
    baselines = list(_chained(deps, part, named))
    if not baselines:
        logger.info("not part of a protected trail's delivery chain; no action")
        return Result(Outcome.NOTICE, _LABEL[part], "not in a protected trail's delivery chain")
    results = [_protect_link(event, deps, baseline, part) for baseline in baselines]
    # One trail is the usual case; with several sharing a bucket the first result
    # stands for the delivery, and each trail had its own alert.
    return results[0]


def _protect_link(
    event: ApiCallEvent, deps: Dependencies, baseline: TrailBaseline, part: Part
) -> Result:
    # Screened before anything is read: trailguard's own calls and refused ones cost nothing.
    subject = subject_for(baseline, part, event.region, event)
    verdict, screened = screen(
        event, deps, subject, f"{event.event_name} attempt was refused; nothing changed"
    )
    if screened is not None:
        return screened
    if verdict is Verdict.ALLOWED:
        return report_only(
            deps,
            subject,
            Severity.WARNING,
            Outcome.ALLOWED,
            f"allow-listed principal ran {event.event_name}; not reverted",
            detail="Not reverted: the principal is on the allow-list. Capture a new baseline "
            "(`trailguard baseline capture`) if the change is meant to stay.",
        )
    return run_check(deps, check_link(deps, baseline, part, event))


def advice_for(baseline: TrailBaseline, part: Part) -> str:
    """What the delivery-health alert tells on-call about a link it cannot reach."""
    assert baseline.chain is not None
    return unreachable_advice(baseline.chain.location, part, baseline.ref.account_id)
