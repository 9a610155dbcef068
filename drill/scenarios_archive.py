"""The log-archive side: attacks on the bucket, key and log group the trail writes to.

None of them is a CloudTrail call. In the drill's world the bucket and key are in
the log-archive account (222222222222): the attacker is that account's
administrator, the events land on its default bus, the companion's rules forward
them to trailguard's bus, and trailguard repairs through the companion's role.
The log group is always in the management account, with the trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drill.scenarios import Attack, Scenario
from drill.world import ACCOUNT, LOG_BUCKET, TRAIL_LOG_GROUP, active_world, aws_client

FUNCTION = "RestoreDeliveryChainFunction"
REPAIRED = (("repaired",),)
HIGH_REPAIRED = ("HIGH repaired",)


@dataclass(frozen=True)
class ChainAttack(Attack):
    """An attack in the account that owns the chain (the world's layout decides it).

    `method` is the boto3 method when it is not the recorded event name's (CloudTrail
    records PutBucketLifecycleConfiguration as PutBucketLifecycle); `arguments`
    computes parameters that need the world (its key's ARN, its trail's ARN)."""

    method: str = ""
    arguments: Callable[[], Mapping[str, Any]] | None = field(default=None, compare=False)
    in_management_account: bool = False

    def _parameters(self) -> Mapping[str, Any]:
        return self.arguments() if self.arguments is not None else self.parameters

    def perform(self) -> None:
        world = active_world()
        if self.in_management_account:
            client = aws_client(self.service)
        else:
            client = world.chain_client(self.service)
        method = self.method or _snake(self.operation)
        getattr(client, method)(**self._parameters())

    def describe(self) -> str:
        account = ACCOUNT if self.in_management_account else active_world().chain_account
        return f"[{account}] {super().describe()}"


def _snake(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def _deny_policy() -> dict[str, Any]:
    """CloudTrail's write statements dropped and a Deny of PutObject for CloudTrail
    added; the rest (the ACL check, the TLS-only Deny, the auditors) kept, so that
    the change looks harmless and the repair must keep it."""
    seeded = active_world().bucket_policy()
    kept = [s for s in seeded["Statement"] if "Write" not in s["Sid"]]
    deny = {
        "Sid": "Maintenance",
        "Effect": "Deny",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
    }
    return {
        "Bucket": LOG_BUCKET,
        "Policy": json.dumps({"Version": "2012-10-17", "Statement": [*kept, deny]}),
    }


def _key(**more: Any) -> Callable[[], Mapping[str, Any]]:
    def arguments() -> Mapping[str, Any]:
        # The key's id, as an administrator of its own account passes it (moto takes
        # only the id for DisableKey and ScheduleKeyDeletion).
        return {"KeyId": active_world().trail_key_arn.rsplit("/", 1)[-1], **more}

    return arguments


def _key_policy_without_cloudtrail() -> Mapping[str, Any]:
    world = active_world()
    policy = world.key_policy()
    policy["Statement"] = policy["Statement"][:1]  # the account's administration only
    return {
        "KeyId": world.trail_key_arn,
        "PolicyName": "default",
        "Policy": json.dumps(policy),
        "BypassPolicyLockoutSafetyCheck": False,
    }


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="bucket-policy-denies-cloudtrail",
        title="Bucket policy: CloudTrail's write statements dropped, a Deny of PutObject added",
        sample="put_bucket_policy_deny_cloudtrail.json",
        attacks=(
            ChainAttack("s3", "PutBucketPolicy", {"Bucket": LOG_BUCKET}, arguments=_deny_policy),
        ),
        watches=("delivery-bucket",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="CloudTrail's statements come back, the Deny goes, the TLS-only Deny and the "
        "auditors' statement stay",
    ),
    Scenario(
        name="bucket-lifecycle-expires-logs",
        title="Lifecycle rule that expires every log file after 1 day (Stratus Red Team)",
        sample="put_bucket_lifecycle_expire_logs.json",
        attacks=(
            ChainAttack(
                "s3",
                "PutBucketLifecycle",
                {
                    "Bucket": LOG_BUCKET,
                    "LifecycleConfiguration": {
                        "Rules": [
                            {
                                "ID": "nuke-1-day",
                                "Status": "Enabled",
                                "Filter": {"Prefix": ""},
                                "Expiration": {"Days": 1},
                            }
                        ]
                    },
                },
                method="put_bucket_lifecycle_configuration",
            ),
        ),
        watches=("delivery-bucket",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="the API PutBucketLifecycleConfiguration is recorded as PutBucketLifecycle",
    ),
    Scenario(
        name="bucket-versioning-suspended",
        title="Suspend versioning of the trail's bucket",
        sample="put_bucket_versioning_suspended.json",
        attacks=(
            ChainAttack(
                "s3",
                "PutBucketVersioning",
                {"Bucket": LOG_BUCKET, "VersioningConfiguration": {"Status": "Suspended"}},
            ),
        ),
        watches=("delivery-bucket",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="bucket-deleted",
        title="Delete the trail's bucket",
        sample="delete_bucket.json",
        attacks=(ChainAttack("s3", "DeleteBucket", {"Bucket": LOG_BUCKET}),),
        watches=("delivery-bucket",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=("HIGH repaired", "CRITICAL repaired"),
        note="recreated with its baseline policy, encryption, versioning and lifecycle so "
        "that delivery resumes; the CRITICAL says the log files it held are gone for good",
    ),
    Scenario(
        name="kms-key-disabled",
        title="Disable the trail's KMS key",
        sample="disable_key.json",
        attacks=(ChainAttack("kms", "DisableKey", {}, arguments=_key()),),
        watches=("delivery-key",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="kms-key-deletion-scheduled",
        title="Schedule deletion of the trail's KMS key (7 days)",
        sample="schedule_key_deletion.json",
        attacks=(
            ChainAttack("kms", "ScheduleKeyDeletion", {}, arguments=_key(PendingWindowInDays=7)),
        ),
        watches=("delivery-key",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="CancelKeyDeletion leaves the key disabled: EnableKey follows",
    ),
    Scenario(
        name="kms-key-policy-drops-cloudtrail",
        title="Key policy rewritten without CloudTrail's statements",
        sample="put_key_policy_drop_cloudtrail.json",
        attacks=(ChainAttack("kms", "PutKeyPolicy", {}, arguments=_key_policy_without_cloudtrail),),
        watches=("delivery-key",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="CloudTrail's statements come back; the account's administration statement stays",
    ),
    Scenario(
        name="log-group-deleted",
        title="Delete the trail's CloudWatch Logs group",
        sample="delete_log_group.json",
        attacks=(
            ChainAttack(
                "logs",
                "DeleteLogGroup",
                {"logGroupName": TRAIL_LOG_GROUP},
                in_management_account=True,
            ),
        ),
        watches=("delivery-log-group",),
        function_id=FUNCTION,
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="recreated empty with its baseline retention; the events it held are gone",
    ),
)
