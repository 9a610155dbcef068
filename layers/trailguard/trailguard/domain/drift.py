"""Comparing live state with the baseline, and ordering the repair. Pure logic.

Invariants (docs/architecture.md):
I1 trusted access, I2 logging, I3 trail exists, I4 settings, I5 selectors,
I6 service-linked role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from trailguard.domain.delivery import TrailStatus
from trailguard.domain.trails import TrailSnapshot


class Aspect(Enum):
    """What a check reads. Each event reads only what it can have changed."""

    EXISTS = "exists"
    SETTINGS = "settings"
    EVENT_SELECTORS = "event_selectors"
    INSIGHT_SELECTORS = "insight_selectors"
    TAGS = "tags"
    LOGGING = "logging"


EVERY_ASPECT = frozenset(Aspect)


class Step(Enum):
    """Repair steps, declared in the order they must run.

    Logging starts as soon as the trail exists with its baseline destination: a trail
    that logs with default selectors for a moment records more, not less, and every
    call before StartLogging is time the organization is blind. Tags and selectors
    follow, made together (they do not depend on each other)."""

    ENABLE_TRUSTED_ACCESS = "EnableAWSServiceAccess"
    CREATE_SERVICE_LINKED_ROLE = "CreateServiceLinkedRole"
    CREATE_TRAIL = "CreateTrail"
    UPDATE_TRAIL = "UpdateTrail"
    START_LOGGING = "StartLogging"
    RESTORE_TAGS = "AddTags/RemoveTags"
    PUT_EVENT_SELECTORS = "PutEventSelectors"
    PUT_INSIGHT_SELECTORS = "PutInsightSelectors"


# Steps that may run at the same time as each other, once the trail exists.
INDEPENDENT_STEPS = frozenset(
    {Step.RESTORE_TAGS, Step.PUT_EVENT_SELECTORS, Step.PUT_INSIGHT_SELECTORS}
)


_STEP_ORDER = {step: index for index, step in enumerate(Step)}


@dataclass(frozen=True)
class Drift:
    invariant: str
    aspect: Aspect
    summary: str
    step: Step


@dataclass(frozen=True)
class LiveTrail:
    """Live state as read. `snapshot` is None when the trail is missing or only
    its status was read; `is_logging` and `status` are None when the status was not read.
    `stopped_at` is GetTrailStatus's StopLoggingTime, when the status says one."""

    exists: bool
    snapshot: TrailSnapshot | None = None
    is_logging: bool | None = None
    status: TrailStatus | None = None
    stopped_at: datetime | None = None


SETTING_LABELS = {
    "s3_bucket_name": "S3BucketName",
    "s3_key_prefix": "S3KeyPrefix",
    "sns_topic_name": "SnsTopicName",
    "include_global_service_events": "IncludeGlobalServiceEvents",
    "is_multi_region_trail": "IsMultiRegionTrail",
    "is_organization_trail": "IsOrganizationTrail",
    "log_file_validation_enabled": "LogFileValidationEnabled",
    "kms_key_id": "KmsKeyId",
    "cloud_watch_logs_log_group_arn": "CloudWatchLogsLogGroupArn",
    "cloud_watch_logs_role_arn": "CloudWatchLogsRoleArn",
}


def _shown(value: object) -> str:
    return "(not set)" if value == "" else repr(value)


def trail_drift(
    baseline: TrailSnapshot | None,
    live: LiveTrail,
    aspects: frozenset[Aspect],
) -> list[Drift]:
    """Every difference between baseline and live for the aspects asked.

    Without a baseline only logging can be judged: a trail's configuration is
    never trusted from live state, which may already be the attacker's.
    """
    if not live.exists:
        if Aspect.EXISTS in aspects:
            return [Drift("I3", Aspect.EXISTS, "the trail does not exist", Step.CREATE_TRAIL)]
        return []
    snapshot = live.snapshot
    drifts: list[Drift] = []
    if baseline is not None and snapshot is not None:
        if Aspect.SETTINGS in aspects:
            for key, expected, actual in baseline.settings.differences(snapshot.settings):
                drifts.append(
                    Drift(
                        "I4",
                        Aspect.SETTINGS,
                        f"{SETTING_LABELS[key]} is {_shown(actual)}, baseline {_shown(expected)}",
                        Step.UPDATE_TRAIL,
                    )
                )
        if Aspect.EVENT_SELECTORS in aspects and not baseline.selectors.event_selectors_equal(
            snapshot.selectors
        ):
            kind = "advanced" if baseline.selectors.uses_advanced else "basic"
            drifts.append(
                Drift(
                    "I5",
                    Aspect.EVENT_SELECTORS,
                    f"event selectors differ from the baseline ({kind} selectors)",
                    Step.PUT_EVENT_SELECTORS,
                )
            )
        if Aspect.INSIGHT_SELECTORS in aspects and not baseline.selectors.insight_selectors_equal(
            snapshot.selectors
        ):
            drifts.append(
                Drift(
                    "I5",
                    Aspect.INSIGHT_SELECTORS,
                    "insight selectors differ from the baseline",
                    Step.PUT_INSIGHT_SELECTORS,
                )
            )
        if Aspect.TAGS in aspects and dict(baseline.tags) != dict(snapshot.tags):
            drifts.append(
                Drift("I3", Aspect.TAGS, "tags differ from the baseline", Step.RESTORE_TAGS)
            )
    if Aspect.LOGGING in aspects and live.is_logging is False:
        drifts.append(Drift("I2", Aspect.LOGGING, "the trail is not logging", Step.START_LOGGING))
    return drifts


def repair_steps(drifts: list[Drift], baseline: TrailSnapshot | None) -> list[Step]:
    """The ordered steps that repair `drifts` (docs/architecture.md, 'Order').

    A recreated trail gets its selectors and logging back whether or not they
    were asked about: CreateTrail leaves default selectors and a stopped trail.
    """
    steps = {drift.step for drift in drifts}
    if Step.CREATE_TRAIL in steps:
        steps |= {Step.START_LOGGING}
        steps -= {Step.UPDATE_TRAIL, Step.RESTORE_TAGS}
        if baseline is not None:
            if baseline.selectors.event_selectors or baseline.selectors.advanced_event_selectors:
                steps.add(Step.PUT_EVENT_SELECTORS)
            if baseline.selectors.insight_selectors:
                steps.add(Step.PUT_INSIGHT_SELECTORS)
    return sorted(steps, key=_STEP_ORDER.__getitem__)
