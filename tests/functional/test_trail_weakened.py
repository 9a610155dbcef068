"""I4/I5: UpdateTrail, PutEventSelectors and PutInsightSelectors are reverted to the baseline."""

from __future__ import annotations

from drill.world import World
from tests.functional.helpers import aws, fresh

FUNCTION = "RestoreTrailFunction"


def test_weakening_update_is_reverted(world: World, event) -> None:
    aws("s3").create_bucket(Bucket="attacker-bucket-111111111111")
    aws("cloudtrail").update_trail(
        Name=world.trail_name,
        S3BucketName="attacker-bucket-111111111111",
        IsMultiRegionTrail=False,
        IsOrganizationTrail=False,
    )

    result = world.invoke(FUNCTION, fresh(event("update_trail_weaken.json")))

    assert result["outcome"] == "repaired"
    assert world.snapshot() == world.baseline().snapshot
    trail = world.trail()
    assert trail is not None
    assert trail["IsOrganizationTrail"] and trail["IsMultiRegionTrail"]
    assert trail["S3BucketName"] == "org-trail-logs-111111111111"
    [alert] = world.drain_alerts()
    assert sorted(alert.document["drift"]) == [
        "IsMultiRegionTrail is False, baseline True",
        "IsOrganizationTrail is False, baseline True",
        "S3BucketName is 'attacker-bucket-111111111111', baseline 'org-trail-logs-111111111111'",
    ]
    assert [a["call"] for a in alert.document["actions"]] == ["UpdateTrail"]


def test_cleared_encryption_and_prefix_are_restored(world: World, event) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, KmsKeyId="", S3KeyPrefix="")

    world.invoke(FUNCTION, fresh(event("update_trail_weaken.json")))

    assert world.snapshot() == world.baseline().snapshot


def test_update_that_keeps_the_baseline_does_nothing(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("update_trail_weaken.json")))

    assert result["outcome"] == "in_sync"
    assert result["actions"] == []
    assert world.drain_alerts() == []


def test_management_events_excluded_are_restored(world: World, event) -> None:
    ct = aws("cloudtrail")
    ct.put_event_selectors(
        TrailName=world.trail_name,
        EventSelectors=[
            {"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": []}
        ],
    )

    result = world.invoke(FUNCTION, fresh(event("put_event_selectors_exclude_management.json")))

    assert result["outcome"] == "repaired"
    selectors = ct.get_event_selectors(TrailName=world.trail_arn)["EventSelectors"]
    assert selectors[0]["IncludeManagementEvents"] is True
    assert world.snapshot() == world.baseline().snapshot
    [alert] = world.drain_alerts()
    assert alert.document["invariant"] == "I5 event selectors"


def test_allow_listed_deployer_change_becomes_the_baseline(world: World, event) -> None:
    from tests.fakes import FakeEventRecords
    from trailguard.runtime import dependencies

    world.apply_environment(ALLOWED_PRINCIPAL_ARNS="arn:aws:iam::111111111111:role/iac-deploy")
    history = dependencies().event_records = FakeEventRecords()
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="org-v2")

    sample = history.record(fresh(event("update_trail_by_allowed_deployer.json")))
    result = world.invoke(FUNCTION, sample)

    assert result["outcome"] == "allowed"
    assert world.snapshot().settings.s3_key_prefix == "org-v2"
    baseline = world.baseline()
    assert baseline.snapshot.settings.s3_key_prefix == "org-v2"
    assert baseline.captured_by == "arn:aws:iam::111111111111:role/iac-deploy"
    [alert] = world.drain_alerts()
    assert alert.outcome == "allowed"
    assert "baseline was updated" in alert.document["detail"]


def test_own_role_update_that_left_drift_is_reverted_and_critical(world: World, event) -> None:
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="changed")

    result = world.invoke(FUNCTION, fresh(event("update_trail_by_remediator.json")))

    assert result["outcome"] == "repaired"
    assert world.snapshot() == world.baseline().snapshot
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "TRAILGUARD'S ROLE WAS USED" in alert.document["detail"]


def test_own_repair_echo_verifies_clean_and_never_loops(world: World, event) -> None:
    # trailguard's own UpdateTrail comes back as an event under its role: it reads,
    # finds the baseline, and stops there, with no call and no alert.
    result = world.invoke(FUNCTION, fresh(event("update_trail_by_remediator.json")))

    assert (result["outcome"], result["actions"]) == ("in_sync", [])
    assert world.drain_alerts() == []


def test_delegated_admin_registration_is_alerted(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("register_delegated_admin.json")))

    assert result["outcome"] == "notice"
    [alert] = world.drain_alerts()
    assert alert.severity == "HIGH"
    assert alert.document["resource"] == "account 222222222222"
