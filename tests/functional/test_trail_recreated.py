"""I3: a deleted protected trail is recreated from its baseline, equal to it, and logging."""

from __future__ import annotations

import pytest

from drill.world import World
from tests.functional.helpers import aws, fresh
from trailguard.errors import RemediationFailed

FUNCTION = "RestoreTrailFunction"


def test_deleted_trail_is_recreated_equal_to_baseline(world: World, event) -> None:
    baseline = world.baseline().snapshot
    aws("cloudtrail").delete_trail(Name=world.trail_name)
    assert world.trail() is None

    result = world.invoke(FUNCTION, fresh(event("delete_trail.json")))

    assert result["outcome"] == "repaired"
    assert world.snapshot() == baseline
    assert world.is_logging()
    trail = world.trail()
    assert trail is not None and trail["TrailARN"] == world.trail_arn
    [alert] = world.drain_alerts()
    assert [a["call"] for a in alert.document["actions"]] == [
        "CreateTrail",
        "StartLogging",
        "PutEventSelectors",
        "PutInsightSelectors",
    ]
    assert alert.document["actor"]["type"] == "Root"
    assert alert.document["actor"]["userAgent"] == "signin.amazonaws.com"


def test_recreation_enables_trusted_access_first(world: World, event) -> None:
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")
    aws("cloudtrail").delete_trail(Name=world.trail_name)

    world.invoke(FUNCTION, fresh(event("delete_trail.json")))

    assert world.trusted_access_enabled()
    assert world.snapshot() == world.baseline().snapshot
    [alert] = world.drain_alerts()
    assert [a["call"] for a in alert.document["actions"]][:2] == [
        "EnableAWSServiceAccess",
        "CreateTrail",
    ]


def test_advanced_event_selectors_are_restored(world: World, event) -> None:
    ct = aws("cloudtrail")
    advanced = [
        {
            "Name": "management and S3 writes",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "readOnly", "Equals": ["false"]},
            ],
        }
    ]
    ct.put_event_selectors(TrailName=world.trail_name, AdvancedEventSelectors=advanced)
    world.capture_baseline()
    ct.delete_trail(Name=world.trail_name)

    world.invoke(FUNCTION, fresh(event("delete_trail.json")))

    restored = ct.get_event_selectors(TrailName=world.trail_arn)
    assert restored["AdvancedEventSelectors"] == advanced
    assert world.snapshot() == world.baseline().snapshot


def test_missing_bucket_is_critical_and_names_the_fix(world: World, event) -> None:
    aws("cloudtrail").delete_trail(Name=world.trail_name)
    s3 = aws("s3")
    s3.delete_bucket(Bucket="org-trail-logs-111111111111")

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, fresh(event("delete_trail.json")))

    assert world.trail() is None
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert alert.outcome == "remediation_failed"
    assert alert.document["actions"][0] == {
        "call": "CreateTrail",
        "target": world.trail_arn,
        "result": "S3BucketDoesNotExistException",
    }
    assert "S3 bucket does not exist" in alert.document["manualAction"]
    assert "MANUAL ACTION" not in alert.subject


def test_deleted_trail_without_baseline_is_critical(world: World, event) -> None:
    items = aws("dynamodb").scan(TableName=world.table_name)["Items"]
    for item in items:  # every version too: nothing intact is left to rebuild from
        aws("dynamodb").delete_item(
            TableName=world.table_name, Key={"pk": item["pk"], "sk": item["sk"]}
        )
    world.apply_environment(PROTECTED_TRAIL_NAMES="org-trail")
    aws("cloudtrail").delete_trail(Name=world.trail_name)

    result = world.invoke(FUNCTION, fresh(event("delete_trail.json")))

    assert result["outcome"] == "remediation_failed"
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "NO BASELINE" in alert.document["headline"]
    assert "trailguard baseline capture" in alert.document["manualAction"]
