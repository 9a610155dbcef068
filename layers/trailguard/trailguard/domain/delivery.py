"""I7, the trail delivers: GetTrailStatus's delivery fields judged. Pure logic.

CloudTrail reports each delivery channel's last success and last error
(GetTrailStatus). An error field is absent while deliveries succeed; any value
is a failure (the strings for KMS failures are not documented). A trail can
also fail silently: logging is on, no error is reported, and nothing arrives.
The digest file is the heartbeat for that: CloudTrail delivers one every hour,
even when there was no activity, as long as log file validation is on
(CloudTrail User Guide, "CloudTrail digest files"). Log files arrive about every
5 minutes, but only when there are events, so their age alone proves nothing in
a quiet account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

# Digest files are hourly: two missed ones (one hour late, plus an hour of margin for
# CloudTrail's delivery delay) mean the heartbeat has stopped.
DEFAULT_STALE_AFTER = timedelta(hours=2)


@dataclass(frozen=True)
class TrailStatus:
    """GetTrailStatus as trailguard uses it. Times are None when never reported."""

    is_logging: bool
    start_logging_time: datetime | None = None
    stop_logging_time: datetime | None = None
    latest_delivery_time: datetime | None = None
    latest_delivery_error: str = ""
    latest_digest_delivery_time: datetime | None = None
    latest_digest_delivery_error: str = ""
    latest_cloudwatch_logs_delivery_time: datetime | None = None
    latest_cloudwatch_logs_delivery_error: str = ""
    latest_notification_time: datetime | None = None
    latest_notification_error: str = ""


class Channel(Enum):
    """Where CloudTrail delivers, named as GetTrailStatus names its error field."""

    LOG_FILES = "LatestDeliveryError"
    DIGEST_FILES = "LatestDigestDeliveryError"
    CLOUDWATCH_LOGS = "LatestCloudWatchLogsDeliveryError"
    NOTIFICATION = "LatestNotificationError"
    HEARTBEAT = "LatestDigestDeliveryTime"


@dataclass(frozen=True)
class DeliveryProblem:
    channel: Channel
    code: str  # the error as AWS reported it, or "stale" for a missing heartbeat
    cause: str  # in plain words
    manual_action: str

    @property
    def summary(self) -> str:
        if self.channel is Channel.HEARTBEAT:
            return f"{self.channel.value}: {self.cause}"
        return f"{self.channel.value} = {self.code}: {self.cause}"


@dataclass(frozen=True)
class Destination:
    """Where the trail delivers, from its baseline: named in the causes and actions."""

    bucket: str
    kms_key: str = ""
    log_group: str = ""
    logs_role: str = ""
    topic: str = ""
    log_file_validation: bool = False


def _storage_problem(channel: Channel, code: str, where: Destination) -> DeliveryProblem:
    kms = code.startswith("KMS") or "kms" in code.lower()
    if kms:
        key = where.kms_key or "the trail's KMS key"
        if "InvalidState" in code:
            cause = f"the KMS key {key} is pending deletion (or otherwise unusable)"
            action = (
                f"cancel the key's deletion and enable it: `aws kms cancel-key-deletion "
                f"--key-id {key}` then `aws kms enable-key --key-id {key}`"
            )
        elif "Disabled" in code:
            cause = f"the KMS key {key} is disabled"
            action = f"enable the key: `aws kms enable-key --key-id {key}`"
        elif "NotFound" in code:
            cause = f"the KMS key {key} no longer exists"
            action = (
                "create a key whose policy lets cloudtrail.amazonaws.com use it, then "
                "record a new baseline with `trailguard baseline capture`"
            )
        else:
            cause = f"the key policy of {key} does not let CloudTrail use the key"
            action = (
                "add the CloudTrail statement (kms:GenerateDataKey* for "
                "cloudtrail.amazonaws.com) back to the key policy"
            )
    elif code == "NoSuchBucket":
        cause = f"the S3 bucket {where.bucket} does not exist"
        action = (
            f"recreate the bucket {where.bucket} in the log archive account with its "
            "CloudTrail bucket policy"
        )
    elif code in ("AccessDenied", "AccessDeniedException", "AllAccessDisabled"):
        cause = f"the bucket policy of {where.bucket} denies CloudTrail (or no longer allows it)"
        action = (
            f"restore the CloudTrail statements of the bucket policy of {where.bucket} "
            "(s3:GetBucketAcl and s3:PutObject for cloudtrail.amazonaws.com)"
        )
    else:
        cause = f"CloudTrail could not write to the bucket {where.bucket}"
        action = f"check the bucket {where.bucket}, its policy and the trail's KMS key"
    files = "digest files" if channel is Channel.DIGEST_FILES else "log files"
    return DeliveryProblem(channel, code, f"{files} are not delivered: {cause}", action)


def _logs_problem(code: str, where: Destination) -> DeliveryProblem:
    if "NotFound" in code:
        cause = f"the CloudWatch Logs group {where.log_group or '(unknown)'} does not exist"
        action = (
            "recreate the log group (or restore the trail's CloudWatch Logs settings "
            "from the baseline)"
        )
    else:
        cause = (
            f"CloudTrail cannot use the role {where.logs_role or '(unknown)'} to write to "
            "CloudWatch Logs: the role is missing or no longer trusts cloudtrail.amazonaws.com"
        )
        action = (
            "recreate the role with its trust policy for cloudtrail.amazonaws.com and "
            "logs:CreateLogStream/PutLogEvents on the group"
        )
    return DeliveryProblem(Channel.CLOUDWATCH_LOGS, code, cause, action)


def _notification_problem(code: str, where: Destination) -> DeliveryProblem:
    return DeliveryProblem(
        Channel.NOTIFICATION,
        code,
        f"CloudTrail cannot publish to the SNS topic {where.topic or '(unknown)'}: "
        "the topic is missing or its policy denies CloudTrail",
        "recreate the topic or restore its policy (sns:Publish for cloudtrail.amazonaws.com)",
    )


def delivery_problems(
    status: TrailStatus,
    where: Destination,
    now: datetime,
    stale_after: timedelta = DEFAULT_STALE_AFTER,
) -> list[DeliveryProblem]:
    """What stops the trail from delivering, as GetTrailStatus tells it.

    Only judged while the trail logs: a stopped trail delivers nothing, and that is
    I2's drift, not I7's.
    """
    if not status.is_logging:
        return []
    problems: list[DeliveryProblem] = []
    if status.latest_delivery_error:
        problems.append(_storage_problem(Channel.LOG_FILES, status.latest_delivery_error, where))
    if status.latest_digest_delivery_error:
        problems.append(
            _storage_problem(Channel.DIGEST_FILES, status.latest_digest_delivery_error, where)
        )
    if status.latest_cloudwatch_logs_delivery_error:
        problems.append(_logs_problem(status.latest_cloudwatch_logs_delivery_error, where))
    if status.latest_notification_error:
        problems.append(_notification_problem(status.latest_notification_error, where))
    if where.log_file_validation and not status.latest_digest_delivery_error:
        # The heartbeat: the last digest, or the start of logging if none came since.
        marks = [t for t in (status.latest_digest_delivery_time, status.start_logging_time) if t]
        last = max(marks) if marks else None
        if last is not None and now - last > stale_after:
            hours = (now - last).total_seconds() / 3600
            problems.append(
                DeliveryProblem(
                    Channel.HEARTBEAT,
                    "stale",
                    f"no digest file delivered for {hours:.1f} h (expected hourly; "
                    f"threshold {stale_after.total_seconds() / 3600:g} h) and no error reported",
                    "check the trail in the CloudTrail console and the bucket's newest "
                    "CloudTrail-Digest object; stop and start logging if nothing arrives",
                )
            )
    return problems


def signature(problems: list[DeliveryProblem]) -> str:
    """What makes an incident the same incident: the channels and their errors."""
    return ";".join(sorted(f"{p.channel.value}={p.code}" for p in problems))
