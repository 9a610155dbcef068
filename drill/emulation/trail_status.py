"""GetTrailStatus's delivery fields, which moto 5.2 never reports.

What AWS does (CloudTrail API Reference, GetTrailStatus; User Guide, "How
CloudTrail delivers log files", "CloudTrail digest files"):
- An error field is absent while deliveries succeed. `LatestDeliveryError` and
  `LatestDigestDeliveryError` carry the S3 error code (`NoSuchBucket` when the
  bucket is gone, `AccessDenied` when its policy does not let CloudTrail write).
  Errors from the trail's KMS key are reported in the same fields; their strings
  are not documented, so this emulation uses `KMS.DisabledException` (key
  disabled), `KMS.KMSInvalidStateException` (pending deletion), `KMS.NotFoundException`
  (gone) and `KMS.AccessDeniedException` (key policy without CloudTrail), and
  trailguard treats any value as a failure.
- `LatestCloudWatchLogsDeliveryError`: the log group or the role CloudTrail
  assumes is gone (`ResourceNotFoundException`, `AccessDeniedException`).
- `LatestNotificationError`: the SNS topic is gone (`NotFound`).
- `Latest*Time` is the last successful delivery: it stops moving while a channel
  fails, and nothing is delivered while the trail is stopped. Digest files go out
  hourly, and only with log file validation on; log files only when there are
  events. Here a healthy channel of a logging trail counts as delivered at the
  moment of each status read (the drill's runs last seconds).

The fields are computed from the world's state on every GetTrailStatus: a repair
of the bucket, key, log group or role clears them, as AWS's next delivery would.
Bucket and key policies are evaluated simply: an explicit Deny of the action to
CloudTrail (or to everyone) denies; otherwise an Allow to cloudtrail.amazonaws.com
is needed. Conditions are not evaluated.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CLOUDTRAIL = "cloudtrail.amazonaws.com"


_CHANNELS = ("Delivery", "DigestDelivery", "CloudWatchLogs", "Notif")


@dataclass
class _Channel:
    time: float | None = None
    error: str = ""


@dataclass
class DeliveryState:
    """Per trail ARN: each channel's last success and current error."""

    channels: dict[str, dict[str, _Channel]] = field(default_factory=dict)

    def of(self, trail_arn: str) -> dict[str, _Channel]:
        return self.channels.setdefault(
            trail_arn,
            {name: _Channel() for name in _CHANNELS},
        )


def _statements(policy: Any) -> list[dict[str, Any]]:
    if not policy:
        return []
    if isinstance(policy, bytes):
        policy = policy.decode()
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _names_cloudtrail(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return CLOUDTRAIL in _listed(principal.get("Service")) or "*" in _listed(
            principal.get("AWS")
        )
    return False


def _covers(statement: dict[str, Any], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action, a) for a in _listed(statement.get("Action")))


def _denies_over_tls(statement: dict[str, Any]) -> bool:
    """Whether a Deny applies to CloudTrail's requests, which are made over TLS: a Deny
    conditioned only on `aws:SecureTransport` false (the usual TLS-only guard) does not.
    Any other condition is taken to apply, as its values are not evaluated here."""
    condition = statement.get("Condition")
    if not condition:
        return True
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    normalised = {
        op: {key: str(value).lower() for key, value in keys.items()}
        for op, keys in condition.items()
        if isinstance(keys, dict)
    }
    return normalised != tls_only


def policy_allows_cloudtrail(policy: Any, action: str) -> bool:
    statements = _statements(policy)
    for statement in statements:
        if (
            statement.get("Effect") == "Deny"
            and _names_cloudtrail(statement.get("Principal"))
            and _covers(statement, action)
            and _denies_over_tls(statement)
        ):
            return False
    return any(
        statement.get("Effect") == "Allow"
        and isinstance(statement.get("Principal"), dict)
        and CLOUDTRAIL in _listed(statement["Principal"].get("Service"))
        and _covers(statement, action)
        for statement in statements
    )


def _bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    for account in list(s3_backends.keys()):
        backend = s3_backends[account]["aws"]
        if name in backend.buckets:
            return backend.buckets[name]
    return None


def _key(key_id: str, region: str, default_account: str) -> Any:
    from moto.kms.models import kms_backends

    parts = key_id.split(":")
    if len(parts) >= 6:
        region, account, key_id = parts[3], parts[4], parts[5].split("/", 1)[-1]
    else:
        account = default_account
    backend = kms_backends[account][region]
    return backend.keys.get(key_id)


def s3_error(trail: Any) -> str:
    bucket = _bucket(trail.bucket_name)
    if bucket is None:
        return "NoSuchBucket"
    if not policy_allows_cloudtrail(bucket.policy, "s3:PutObject"):
        return "AccessDenied"
    return ""


def kms_error(trail: Any) -> str:
    if not trail.kms_key_id:
        return ""
    key = _key(trail.kms_key_id, trail.region_name, trail.account_id)
    if key is None:
        return "KMS.NotFoundException"
    if key.key_state == "PendingDeletion":
        return "KMS.KMSInvalidStateException"
    if key.key_state != "Enabled":
        return "KMS.DisabledException"
    if not policy_allows_cloudtrail(key.policy, "kms:GenerateDataKey"):
        return "KMS.AccessDeniedException"
    return ""


def cloudwatch_logs_error(trail: Any) -> str:
    if not trail.cw_log_group_arn:
        return ""
    from moto.iam.models import iam_backends
    from moto.logs.models import logs_backends

    parts = trail.cw_log_group_arn.split(":")
    region, account, group = parts[3], parts[4], parts[6]
    if group not in logs_backends[account][region].groups:
        return "ResourceNotFoundException"
    role_arn = trail.cw_role_arn or ""
    role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else account
    try:
        iam_backends[role_account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # moto raises its IAMNotFoundException: CloudTrail cannot assume it
        return "AccessDeniedException"
    return ""


def notification_error(trail: Any) -> str:
    if not trail.sns_topic_name:
        return ""
    from moto.sns.models import sns_backends

    topic_arn = str(trail.sns_topic_name)
    if not topic_arn.startswith("arn:"):
        topic_arn = str(trail.topic_arn)
    parts = topic_arn.split(":")
    if topic_arn not in sns_backends[parts[4]][parts[3]].topics:
        return "NotFound"
    return ""


def describe(trail: Any, state: DeliveryState, base: dict[str, Any]) -> dict[str, Any]:
    """`base` (moto's answer) with the delivery fields as AWS would report them."""
    for stale in ("LatestDeliveryTime", "LatestDeliveryAttemptTime"):
        base.pop(stale, None)
    # AWS reports these with milliseconds; moto truncates them to seconds.
    for name, moment in (
        ("StartLoggingTime", trail.status.started),
        ("StopLoggingTime", trail.status.stopped),
    ):
        if moment is not None:
            base[name] = moment.replace(tzinfo=UTC).timestamp()
    channels = state.of(trail.arn)
    if trail.status.is_logging:
        s3_or_kms = s3_error(trail) or kms_error(trail)
        now = datetime.now(UTC).timestamp()
        current = {
            "Delivery": s3_or_kms,
            "DigestDelivery": s3_or_kms if trail.log_validation else None,
            "CloudWatchLogs": cloudwatch_logs_error(trail) if trail.cw_log_group_arn else None,
            "Notif": notification_error(trail) if trail.sns_topic_name else None,
        }
        for name, error in current.items():
            if error is None:
                continue
            channel = channels[name]
            channel.error = error
            if not error:
                channel.time = now
    fields = {
        "Delivery": ("LatestDeliveryTime", "LatestDeliveryError"),
        "DigestDelivery": ("LatestDigestDeliveryTime", "LatestDigestDeliveryError"),
        "CloudWatchLogs": ("LatestCloudWatchLogsDeliveryTime", "LatestCloudWatchLogsDeliveryError"),
        "Notif": ("LatestNotificationTime", "LatestNotificationError"),
    }
    for name, (time_field, error_field) in fields.items():
        channel = channels[name]
        if channel.time is not None:
            base[time_field] = channel.time
        if channel.error:
            base[error_field] = channel.error
    return base


@contextmanager
def installed(state: DeliveryState) -> Iterator[DeliveryState]:
    from moto.cloudtrail.responses import CloudTrailResponse

    original = CloudTrailResponse.get_trail_status

    def get_trail_status(self: Any) -> str:
        answer = json.loads(original(self))
        name = self._get_param("Name")
        backend = self.cloudtrail_backend
        trail = next(
            (
                t
                for t in backend.describe_trails(include_shadow_trails=True)
                if name in (t.trail_name, t.arn)
            ),
            None,
        )
        if trail is not None:
            answer = describe(trail, state, answer)
        return json.dumps(answer)

    CloudTrailResponse.get_trail_status = get_trail_status  # type: ignore[method-assign]
    try:
        yield state
    finally:
        CloudTrailResponse.get_trail_status = original  # type: ignore[method-assign]
