"""The trail's delivery chain (I8) repaired by RestoreDeliveryChainFunction and the
reconciler, with the bucket and key in the management account and in the
log-archive account (through the companion's role). Each test asserts on the
state in the account that owns the link and on the alert on-call received."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from drill.emulation.cross_account_s3 import s3_refuses_other_accounts
from drill.world import (
    ACCOUNT,
    LOG_ARCHIVE_ACCOUNT,
    LOG_ARCHIVE_LAYOUT,
    LOG_BUCKET,
    MANAGEMENT_LAYOUT,
    TRAIL_LOG_GROUP,
    World,
    seeded_world,
)
from tests.conftest import load_event
from tests.functional.helpers import aws, fresh
from trailguard.errors import RemediationFailed

FUNCTION = "RestoreDeliveryChainFunction"
RECONCILE = "ReconcileInvariantsFunction"
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@pytest.fixture(params=[LOG_ARCHIVE_LAYOUT, MANAGEMENT_LAYOUT])
def chain_world(request: pytest.FixtureRequest) -> Iterator[World]:
    with seeded_world(layout=request.param) as seeded:
        yield seeded


def _event(world: World, name: str) -> dict[str, Any]:
    """A sample event from the account that owns the chain in this layout."""
    event = fresh(load_event(name))
    if event["account"] == LOG_ARCHIVE_ACCOUNT and world.chain_account == ACCOUNT:
        text = json.dumps(event).replace(LOG_ARCHIVE_ACCOUNT, ACCOUNT)
        event = json.loads(text)
    return event


def _policy(world: World) -> dict[str, Any]:
    raw = world.chain_client("s3").get_bucket_policy(Bucket=LOG_BUCKET)["Policy"]
    return dict(json.loads(raw))


def _sids(policy: dict[str, Any]) -> list[str]:
    return [str(s.get("Sid", "")) for s in policy["Statement"]]


def _key_state(world: World) -> str:
    key = world.chain_client("kms").describe_key(KeyId=world.trail_key_arn)["KeyMetadata"]
    return str(key["KeyState"])


def _key_id(world: World) -> str:
    return str(world.trail_key_arn.rsplit("/", 1)[-1])


def test_baseline_holds_the_chain_where_it_lives(chain_world: World) -> None:
    chain = chain_world.baseline().chain

    assert chain.location.bucket_account == chain_world.chain_account
    assert chain.location.key_arn == chain_world.trail_key_arn
    assert chain.location.log_group_name == TRAIL_LOG_GROUP
    assert chain.unreadable == {}
    assert chain.bucket.versioning == "Enabled"
    assert _sids(dict(chain.bucket.policy)) == _sids(chain_world.bucket_policy())
    assert chain.key.state == "Enabled"
    assert chain.log_group.retention_days == 365


def test_deny_statement_removed_cloudtrail_restored_others_kept(chain_world: World) -> None:
    seeded = chain_world.bucket_policy()
    attacked = [s for s in seeded["Statement"] if "Write" not in s["Sid"]]
    attacked.append(
        {
            "Sid": "Maintenance",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
        }
    )
    attacked.append(
        {
            "Sid": "AddedByOwner",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{chain_world.chain_account}:root"},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
        }
    )
    chain_world.chain_client("s3").put_bucket_policy(
        Bucket=LOG_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": attacked})
    )

    result = chain_world.invoke(
        FUNCTION, _event(chain_world, "put_bucket_policy_deny_cloudtrail.json")
    )

    assert result["outcome"] == "repaired"
    sids = _sids(_policy(chain_world))
    assert "Maintenance" not in sids
    assert {"AWSCloudTrailWrite", "AWSCloudTrailOrganizationWrite", "AddedByOwner"} <= set(sids)
    assert {"DenyInsecureTransport", "AuditorsRead"} <= set(sids)  # kept
    [alert] = chain_world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("HIGH", "repaired")
    assert alert.document["account"] == chain_world.chain_account
    assert alert.document["actor"]["arn"].endswith("assumed-role/LogArchiveAdmin/mallory")
    assert "bucket policy: statement 'Maintenance' denies CloudTrail" in alert.document["drift"]


def test_lifecycle_that_expires_logs_is_reverted(chain_world: World) -> None:
    chain_world.chain_client("s3").put_bucket_lifecycle_configuration(
        Bucket=LOG_BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "x",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": 1},
                }
            ]
        },
    )

    chain_world.invoke(FUNCTION, _event(chain_world, "put_bucket_lifecycle_expire_logs.json"))

    rules = chain_world.chain_client("s3").get_bucket_lifecycle_configuration(Bucket=LOG_BUCKET)
    assert rules["Rules"] == [chain_world.lifecycle_rule()]
    [alert] = chain_world.drain_alerts()
    assert alert.document["drift"] == [
        "bucket lifecycle expires log files after 1 day(s); baseline: expired after 2557 day(s)"
    ]


def test_lifecycle_removed_is_put_back(chain_world: World) -> None:
    # DeleteBucketLifecycle: no expiry at all is drift too, the baseline's rule returns.
    chain_world.chain_client("s3").delete_bucket_lifecycle(Bucket=LOG_BUCKET)
    event = _event(chain_world, "put_bucket_lifecycle_expire_logs.json")
    event["detail"]["eventName"] = "DeleteBucketLifecycle"

    assert chain_world.invoke(FUNCTION, event)["outcome"] == "repaired"
    rules = chain_world.chain_client("s3").get_bucket_lifecycle_configuration(Bucket=LOG_BUCKET)
    assert rules["Rules"] == [chain_world.lifecycle_rule()]


def test_deleted_bucket_is_recreated_and_the_loss_is_critical(chain_world: World) -> None:
    chain_world.chain_client("s3").delete_bucket(Bucket=LOG_BUCKET)

    result = chain_world.invoke(FUNCTION, _event(chain_world, "delete_bucket.json"))

    assert result["outcome"] == "repaired"
    s3 = chain_world.chain_client("s3")
    assert s3.get_bucket_versioning(Bucket=LOG_BUCKET)["Status"] == "Enabled"
    assert _sids(_policy(chain_world)) == _sids(chain_world.bucket_policy())
    assert s3.get_bucket_lifecycle_configuration(Bucket=LOG_BUCKET)["Rules"] == [
        chain_world.lifecycle_rule()
    ]
    assert s3.get_bucket_encryption(Bucket=LOG_BUCKET)["ServerSideEncryptionConfiguration"]
    repaired, lost = chain_world.drain_alerts()
    assert (repaired.severity, lost.severity) == ("HIGH", "CRITICAL")
    assert lost.document["headline"] == "bucket recreated; the log files stored in it are gone"
    assert "no one, not AWS either, can bring them back" in lost.document["detail"]
    assert lost.document["actor"]["arn"].endswith("/mallory")


def test_key_scheduled_for_deletion_is_cancelled_and_enabled(chain_world: World) -> None:
    chain_world.chain_client("kms").schedule_key_deletion(
        KeyId=_key_id(chain_world), PendingWindowInDays=7
    )

    chain_world.invoke(FUNCTION, _event(chain_world, "schedule_key_deletion.json"))

    assert _key_state(chain_world) == "Enabled"
    [alert] = chain_world.drain_alerts()
    assert [a["call"] for a in alert.document["actions"]] == ["CancelKeyDeletion", "EnableKey"]
    assert alert.document["drift"] == ["KMS key is PendingDeletion, baseline Enabled"]


def test_key_policy_gets_cloudtrail_back_and_keeps_its_administrators(
    chain_world: World,
) -> None:
    kms = chain_world.chain_client("kms")
    policy = chain_world.key_policy()
    policy["Statement"] = [policy["Statement"][0]]
    kms.put_key_policy(
        KeyId=chain_world.trail_key_arn, PolicyName="default", Policy=json.dumps(policy)
    )

    chain_world.invoke(FUNCTION, _event(chain_world, "put_key_policy_drop_cloudtrail.json"))

    live = json.loads(
        kms.get_key_policy(KeyId=chain_world.trail_key_arn, PolicyName="default")["Policy"]
    )
    assert _sids(live) == _sids(chain_world.key_policy())
    assert live["Statement"][0] == chain_world.key_policy()["Statement"][0]


def test_log_group_deleted_is_recreated_with_its_retention(chain_world: World) -> None:
    aws("logs").delete_log_group(logGroupName=TRAIL_LOG_GROUP)

    chain_world.invoke(FUNCTION, fresh(load_event("delete_log_group.json")))

    [group] = aws("logs").describe_log_groups(logGroupNamePrefix=TRAIL_LOG_GROUP)["logGroups"]
    assert group["retentionInDays"] == 365
    [alert] = chain_world.drain_alerts()
    assert alert.document["account"] == ACCOUNT


def test_trailguards_own_repair_echo_is_ignored(chain_world: World) -> None:
    event = _event(chain_world, "put_bucket_policy_by_trailguard.json")
    issuer = event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]
    if chain_world.chain_account == ACCOUNT:
        # In the management account trailguard acts with its function's own role.
        issuer["arn"] = chain_world.role_arns["RestoreDeliveryChainRole"]

    result = chain_world.invoke(FUNCTION, event)

    # Checked with reads, not ignored (issue 10): the echo finds the chain as repaired.
    assert (result["outcome"], result["reason"]) == ("in_sync", "matches the baseline")
    assert result["actions"] == []
    assert chain_world.drain_alerts() == []


def test_another_bucket_is_not_trailguards_business(chain_world: World) -> None:
    result = chain_world.invoke(
        FUNCTION, _event(chain_world, "put_bucket_policy_other_bucket.json")
    )

    assert result["outcome"] == "notice"
    assert chain_world.drain_alerts() == []


def test_refused_attempt_is_a_warning_and_changes_nothing(chain_world: World) -> None:
    event = _event(chain_world, "disable_key.json")
    event["detail"]["errorCode"] = "AccessDenied"

    result = chain_world.invoke(FUNCTION, event)

    assert result["outcome"] == "attempt_failed"
    assert _key_state(chain_world) == "Enabled"
    [alert] = chain_world.drain_alerts()
    assert alert.severity == "WARNING"


def test_reconciler_repairs_the_chain_before_the_trail(chain_world: World) -> None:
    """No event arrives: the bucket, key and log group are repaired by the schedule,
    the bucket first, so that the deleted trail can be recreated into it."""
    aws("cloudtrail").delete_trail(Name=chain_world.trail_name)
    chain_world.chain_client("s3").delete_bucket(Bucket=LOG_BUCKET)
    chain_world.chain_client("kms").disable_key(KeyId=_key_id(chain_world))
    aws("logs").put_retention_policy(logGroupName=TRAIL_LOG_GROUP, retentionInDays=1)

    summary = chain_world.invoke(RECONCILE, SCHEDULED)

    assert summary["failures"] == []
    assert chain_world.trail() is not None and chain_world.is_logging()
    assert _key_state(chain_world) == "Enabled"
    alerts = chain_world.drain_alerts()
    resources = [a.document["resource"] for a in alerts]
    assert resources == [
        f"arn:aws:s3:::{LOG_BUCKET}",
        f"arn:aws:s3:::{LOG_BUCKET}",  # the CRITICAL: its log files are gone
        chain_world.trail_key_arn,
        "log group org-trail",
        chain_world.trail_arn,
    ]
    assert [a.severity for a in alerts] == ["HIGH", "CRITICAL", "HIGH", "HIGH", "HIGH"]
    assert all(a.document["detectedBy"] == "schedule" for a in alerts)


def test_deleted_key_cannot_be_repaired_and_says_so(
    chain_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A key past its waiting period is gone: DescribeKey answers NotFoundException.
    from trailguard.adapters.kms import KmsGateway
    from trailguard.domain.delivery_chain import KeyState

    monkeypatch.setattr(KmsGateway, "read", lambda self, key_arn: KeyState(exists=False))

    with pytest.raises(RemediationFailed):
        chain_world.invoke(RECONCILE, SCHEDULED)

    [alert] = chain_world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("CRITICAL", "remediation_failed")
    assert alert.document["drift"] == [f"KMS key {chain_world.trail_key_arn} no longer exists"]


# ------------------------------------------------------------------ without the companion


@pytest.fixture
def unreachable_world() -> Iterator[World]:
    """The chain in the log-archive account, trailguard deployed without being told
    (no LogArchiveAccountId, no companion): S3 refuses another account's bucket, as
    AWS does (drill/emulation/cross_account_s3.py)."""
    with seeded_world(layout=LOG_ARCHIVE_LAYOUT) as world, s3_refuses_other_accounts():
        world.apply_environment(LOG_ARCHIVE_ACCOUNT_ID="", LOG_ARCHIVE_ROLE_ARN="")
        world.invoke("CaptureBaselineFunction", {"action": "capture", "reason": "test"})
        yield world


def test_without_the_companion_the_alert_names_account_resource_and_companion(
    unreachable_world: World,
) -> None:
    chain = unreachable_world.baseline().chain
    assert set(chain.unreadable) == {"bucket", "key"}

    unreachable_world.invoke(RECONCILE, SCHEDULED)

    alerts = {a.document["resource"]: a for a in unreachable_world.drain_alerts()}
    key = alerts[unreachable_world.trail_key_arn]
    assert key.document["headline"] == "delivery chain is in an account trailguard cannot reach"
    assert f"in account {LOG_ARCHIVE_ACCOUNT}" in key.document["manualAction"]
    assert "companions/log-archive/" in key.document["manualAction"]
    bucket = alerts[f"arn:aws:s3:::{LOG_BUCKET}"]
    assert "the account that owns it (not 111111111111" in bucket.document["manualAction"]
    assert "LogArchiveAccountId" in bucket.document["manualAction"]


def test_detect_only_alerts_and_changes_nothing(chain_world: World) -> None:
    chain_world.apply_environment(DETECT_ONLY="true")
    chain_world.chain_client("s3").put_bucket_versioning(
        Bucket=LOG_BUCKET, VersioningConfiguration={"Status": "Suspended"}
    )

    result = chain_world.invoke(
        FUNCTION, _event(chain_world, "put_bucket_versioning_suspended.json")
    )

    assert result["outcome"] == "detected"
    status = chain_world.chain_client("s3").get_bucket_versioning(Bucket=LOG_BUCKET)["Status"]
    assert status == "Suspended"
    [alert] = chain_world.drain_alerts()
    assert alert.document["drift"] == ["bucket versioning is Suspended, baseline Enabled"]


def test_an_event_whose_change_is_already_undone_finds_nothing_to_do(chain_world: World) -> None:
    result = chain_world.invoke(FUNCTION, _event(chain_world, "disable_key.json"))

    assert (result["outcome"], result["actions"]) == ("in_sync", [])
    assert chain_world.drain_alerts() == []


def test_a_capture_that_cannot_read_a_link_keeps_the_one_recorded_before(
    chain_world: World,
) -> None:
    """The operator command line reads no chain (the companion does not trust it), and a
    capture whose read of a link fails keeps that link of the last baseline."""
    from trailguard.adapters.baseline_store import DynamoBaselineStore
    from trailguard.adapters.cloudtrail import CloudTrailGateway
    from trailguard.adapters.delivery_chain import DeliveryChainGateway
    from trailguard.adapters.signing import KmsSigner
    from trailguard.engine.capture import capture
    from trailguard.settings import get_settings

    settings = get_settings()
    store = DynamoBaselineStore(
        chain_world.table_name, "us-east-1", KmsSigner(chain_world.signing_key_arn, "us-east-1")
    )
    before = store.get(chain_world.baseline().ref).chain

    def run(chains: Any, at: str = "2099-12-01T00:00:00+00:00") -> Any:
        # Each capture its own, later time: versions are never overwritten, and the
        # newest is the one in force (baseline_store.py).
        return capture(
            CloudTrailGateway(),
            store,
            settings,
            captured_at=at,
            captured_by="test",
            reason="test",
            replace_existing=True,
            chains=chains,
        )

    run(None)
    assert store.get(chain_world.baseline().ref).chain == before
    # No companion role configured for the key's account: the key cannot be read now.
    blind = DeliveryChainGateway("us-east-1", "999999999999", "arn:aws:iam::999999999999:role/x")
    if chain_world.chain_account == ACCOUNT:
        return  # nothing is in another account: every link is read again
    run(blind, "2099-12-01T00:01:00+00:00")
    after = store.get(chain_world.baseline().ref).chain
    assert after.key == before.key
    assert "key" in after.unreadable


def test_a_bucket_with_object_lock_is_recreated_with_it(world: World) -> None:
    """Object Lock can only be switched on at creation: the recreation asks for it."""
    from trailguard.adapters.s3 import S3Gateway
    from trailguard.domain.delivery_chain import BucketState

    lock = {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}},
    }
    baseline = BucketState(True, "us-east-1", object_lock=lock, versioning="Enabled")
    gateway = S3Gateway()

    gateway.create("org-trail-locked-logs", baseline)
    gateway.put_object_lock("org-trail-locked-logs", baseline)

    live = gateway.read("org-trail-locked-logs")
    retention = live.object_lock["Rule"]["DefaultRetention"]
    # moto adds "Years": 0 beside "Days"; AWS answers with the one that was set.
    assert (retention["Mode"], retention["Days"]) == ("GOVERNANCE", 30)
    assert live.object_lock["ObjectLockEnabled"] == "Enabled"
    assert live.versioning == "Enabled"  # S3 turns versioning on with Object Lock


def test_logs_role_deleted_still_gets_the_rest_of_the_chain_repaired(world: World) -> None:
    """Partial repair first: the retention is put back although the role cannot be. The
    role itself is reported by I7 (CloudTrail's CloudWatch Logs delivery error), once."""
    assert world.baseline().chain.log_group.role_exists is True
    aws("iam").delete_role(RoleName="CloudTrailToCloudWatchLogs")
    aws("logs").put_retention_policy(logGroupName=TRAIL_LOG_GROUP, retentionInDays=1)

    world.invoke(RECONCILE, SCHEDULED)

    [group] = aws("logs").describe_log_groups(logGroupNamePrefix=TRAIL_LOG_GROUP)["logGroups"]
    assert group["retentionInDays"] == 365
    alerts = world.drain_alerts()
    repaired = [a for a in alerts if a.outcome == "repaired"]
    assert [a.severity for a in repaired] == ["HIGH"]
    [delivery] = [a for a in alerts if a.document["invariant"] == "I7 trail delivers"]
    assert delivery.severity == "CRITICAL"
    assert "CloudWatch Logs" in " ".join(delivery.document["drift"])


def test_a_deleted_bucket_policy_comes_back_whole(chain_world: World) -> None:
    chain_world.chain_client("s3").delete_bucket_policy(Bucket=LOG_BUCKET)
    event = _event(chain_world, "put_bucket_policy_deny_cloudtrail.json")
    event["detail"]["eventName"] = "DeleteBucketPolicy"

    assert chain_world.invoke(FUNCTION, event)["outcome"] == "repaired"
    assert _policy(chain_world)["Statement"] == chain_world.bucket_policy()["Statement"]
