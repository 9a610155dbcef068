"""What each log-archive scenario (drill/scenarios_archive.py) must leave behind,
read from moto's state in the account that owns the link, and its alerts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from drill.runner import Play
from drill.world import (
    LOG_ARCHIVE_ACCOUNT,
    LOG_BUCKET,
    TRAIL_LOG_GROUP,
    TRAIL_LOG_RETENTION_DAYS,
    DeliveredAlert,
    World,
    aws_client,
)


def _calls(alert: DeliveredAlert) -> list[str]:
    return [action["call"] for action in alert.document["actions"]]


def _repaired(play: Play, calls: list[str]) -> DeliveredAlert:
    alert = play.alerts[0]
    assert (alert.severity, alert.outcome) == ("HIGH", "repaired")
    assert 0 <= alert.document["secondsToRepair"] < 30
    assert _calls(alert) == calls
    # The actor named is the one in the S3, KMS or Logs event.
    assert alert.document["actor"]["arn"].endswith("/mallory")
    return alert


def _bucket_policy(world: World) -> dict[str, Any]:
    s3 = world.chain_client("s3")
    return dict(json.loads(s3.get_bucket_policy(Bucket=LOG_BUCKET)["Policy"]))


def _sids(policy: dict[str, Any]) -> list[str]:
    return [s.get("Sid", "") for s in policy["Statement"]]


def _bucket_policy_denies_cloudtrail(world: World, play: Play) -> None:
    [alert] = play.alerts
    _repaired(play, ["PutBucketPolicy"])
    assert alert.document["account"] == LOG_ARCHIVE_ACCOUNT
    sids = _sids(_bucket_policy(world))
    assert "Maintenance" not in sids
    # CloudTrail's statements are back; the TLS-only Deny and the auditors' stay.
    assert set(sids) == {s["Sid"] for s in world.bucket_policy()["Statement"]}


def _bucket_lifecycle_expires_logs(world: World, play: Play) -> None:
    [alert] = play.alerts
    _repaired(play, ["PutBucketLifecycleConfiguration"])
    assert "expires log files after 1 day(s)" in alert.document["drift"][0]
    rules = world.chain_client("s3").get_bucket_lifecycle_configuration(Bucket=LOG_BUCKET)
    assert [r["ID"] for r in rules["Rules"]] == ["KeepSevenYears"]


def _bucket_versioning_suspended(world: World, play: Play) -> None:
    _repaired(play, ["PutBucketVersioning"])
    status = world.chain_client("s3").get_bucket_versioning(Bucket=LOG_BUCKET)["Status"]
    assert status == "Enabled"


def _bucket_deleted(world: World, play: Play) -> None:
    repaired, lost = play.alerts
    assert (repaired.severity, repaired.outcome) == ("HIGH", "repaired")
    assert _calls(repaired) == [
        "CreateBucket",
        "PutBucketEncryption",
        "PutBucketVersioning",
        "PutBucketPolicy",
        "PutBucketLifecycleConfiguration",
    ]
    assert lost.severity == "CRITICAL"
    assert "log files stored in it are gone" in lost.document["detail"]
    s3 = world.chain_client("s3")
    encryption = s3.get_bucket_encryption(Bucket=LOG_BUCKET)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert set(_sids(_bucket_policy(world))) == {
        s["Sid"] for s in world.bucket_policy()["Statement"]
    }


def _key_state(world: World) -> str:
    kms = world.chain_client("kms")
    return str(kms.describe_key(KeyId=world.trail_key_arn)["KeyMetadata"]["KeyState"])


def _kms_key_disabled(world: World, play: Play) -> None:
    _repaired(play, ["EnableKey"])
    assert _key_state(world) == "Enabled"


def _kms_key_deletion_scheduled(world: World, play: Play) -> None:
    _repaired(play, ["CancelKeyDeletion", "EnableKey"])
    assert _key_state(world) == "Enabled"


def _kms_key_policy_drops_cloudtrail(world: World, play: Play) -> None:
    _repaired(play, ["PutKeyPolicy"])
    kms = world.chain_client("kms")
    policy = json.loads(
        kms.get_key_policy(KeyId=world.trail_key_arn, PolicyName="default")["Policy"]
    )
    # Never locked out: the account's administration statement stays first.
    assert _sids(policy) == [s["Sid"] for s in world.key_policy()["Statement"]]


def _log_group_deleted(world: World, play: Play) -> None:
    [alert] = play.alerts
    _repaired(play, ["CreateLogGroup", "PutRetentionPolicy"])
    assert alert.document["account"] == "111111111111"
    groups = aws_client("logs").describe_log_groups(logGroupNamePrefix=TRAIL_LOG_GROUP)
    [group] = [g for g in groups["logGroups"] if g["logGroupName"] == TRAIL_LOG_GROUP]
    assert group["retentionInDays"] == TRAIL_LOG_RETENTION_DAYS


AFTERMATH: dict[str, Callable[[World, Play], None]] = {
    "bucket-policy-denies-cloudtrail": _bucket_policy_denies_cloudtrail,
    "bucket-lifecycle-expires-logs": _bucket_lifecycle_expires_logs,
    "bucket-versioning-suspended": _bucket_versioning_suspended,
    "bucket-deleted": _bucket_deleted,
    "kms-key-disabled": _kms_key_disabled,
    "kms-key-deletion-scheduled": _kms_key_deletion_scheduled,
    "kms-key-policy-drops-cloudtrail": _kms_key_policy_drops_cloudtrail,
    "log-group-deleted": _log_group_deleted,
}
