"""I7, the trail delivers: the reconciler reads GetTrailStatus's delivery fields (as
drill/emulation derives them from the bucket, key, log group and role) and alerts
once per incident, then once when delivery recovers."""

from __future__ import annotations

import json
from typing import Any

from drill.events import now, renewed
from drill.world import LOG_BUCKET, World
from tests.functional.helpers import aws

FUNCTION = "ReconcileInvariantsFunction"
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
DENY_CLOUDTRAIL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
        }
    ],
}


def _delivery(alerts: list[dict[str, object]]) -> dict[str, object]:
    """The run's I7 alert; the delivery chain's own repair (I8) may come with it."""
    [alert] = [a for a in alerts if a["invariant"] == "I7 trail delivers"]
    return alert


def _chain_repaired(alerts: list[dict[str, object]]) -> bool:
    return any(a["outcome"] == "repaired" and str(a["invariant"]).startswith("I8") for a in alerts)


def _run(world: World) -> list[dict[str, object]]:
    world.invoke(FUNCTION, SCHEDULED)
    return [a.document for a in world.drain_alerts()]


def test_a_healthy_trail_sends_nothing(world: World) -> None:
    assert _run(world) == []
    assert _run(world) == []


def test_bucket_policy_denying_cloudtrail_is_one_incident_then_recovery(world: World) -> None:
    aws("s3").put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps(DENY_CLOUDTRAIL))
    status = aws("cloudtrail").get_trail_status(Name=world.trail_arn)
    assert status["LatestDeliveryError"] == "AccessDenied"

    alerts = _run(world)
    alert = _delivery(alerts)
    assert alert["severity"] == "CRITICAL" and alert["invariant"] == "I7 trail delivers"
    assert "bucket policy" in str(alert["headline"])
    assert "LatestDeliveryError = AccessDenied" in " ".join(alert["drift"])  # type: ignore[arg-type]
    assert "s3:PutObject" in str(alert["manualAction"])
    # The same run read CloudTrail's report first, then put the bucket policy back (I8).
    assert _chain_repaired(alerts)
    assert "AWSCloudTrailWrite" in json.dumps(
        json.loads(aws("s3").get_bucket_policy(Bucket=LOG_BUCKET)["Policy"])
    )

    [recovered] = _run(world)
    assert (recovered["severity"], recovered["outcome"]) == ("INFO", "recovered")
    assert recovered["headline"] == "delivery recovered"
    assert _run(world) == []


def test_kms_key_pending_deletion_names_the_key(world: World) -> None:
    key_id = world.trail_key_arn.rsplit("/", 1)[-1]  # moto wants the id here
    aws("kms").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    alerts = _run(world)
    alert = _delivery(alerts)
    assert _chain_repaired(alerts)  # CancelKeyDeletion, EnableKey in the same run
    assert alert["severity"] == "CRITICAL"
    assert "pending deletion" in str(alert["headline"])
    assert "cancel-key-deletion" in str(alert["manualAction"])


def test_missing_log_group_and_role_are_named(world: World) -> None:
    aws("logs").delete_log_group(logGroupName="org-trail")

    alerts = _run(world)
    [drift] = _delivery(alerts)["drift"]  # type: ignore[misc]
    assert drift.startswith("LatestCloudWatchLogsDeliveryError = ResourceNotFoundException")
    assert _chain_repaired(alerts)  # the log group, recreated empty in the same run

    [recovered] = _run(world)
    assert recovered["outcome"] == "recovered"


def test_delete_trail_with_its_logs_role_gone_is_restored_without_cloudwatch_logs(
    world: World, event: Any
) -> None:
    called_at = now()  # the event's time is the call's, as CloudTrail records it
    aws("iam").delete_role(RoleName="CloudTrailToCloudWatchLogs")
    aws("cloudtrail").delete_trail(Name=world.trail_name)

    result = world.invoke("RestoreTrailFunction", renewed(event("delete_trail.json"), called_at))

    assert result["outcome"] == "degraded"
    trail = world.trail()
    assert trail is not None and world.is_logging()
    assert "CloudWatchLogsRoleArn" not in trail and trail["IsOrganizationTrail"]
    assert trail["S3BucketName"] == LOG_BUCKET
    [alert] = world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("CRITICAL", "degraded")
    assert "CloudWatch Logs not restored" in alert.document["headline"]
    assert "InvalidCloudWatchLogsRoleArnException" in alert.document["manualAction"]
    assert alert.document["blindWindow"]["reason"].startswith("the trail was deleted")

    # The reconciler tries again every run, but the same incident is not re-sent; its
    # first run lists the calls of the repair's blind window.
    [follow_up] = _run(world)
    assert follow_up["blindWindow"]["followUp"]
    assert "DeleteTrail" in [c["eventName"] for c in follow_up["blindWindow"]["calls"]]
    assert _run(world) == []
    # The role comes back: the next run restores CloudWatch Logs from the baseline.
    world_role(world)
    [repaired] = _run(world)
    assert repaired["outcome"] == "repaired"
    assert world.snapshot() == world.baseline().snapshot


def world_role(world: World) -> None:
    aws("iam").create_role(
        RoleName="CloudTrailToCloudWatchLogs",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    del world


def test_an_organization_trail_without_baseline_is_one_critical(world: World) -> None:
    # Every item of the trail: any one left keeps it protected (its newest intact version
    # is put back in force, with a CRITICAL of its own: tests/functional/test_integrity.py).
    dynamodb = aws("dynamodb")
    for item in dynamodb.scan(TableName=world.table_name)["Items"]:
        if item["pk"]["S"] == world.trail_arn:
            dynamodb.delete_item(
                TableName=world.table_name, Key={"pk": item["pk"], "sk": item["sk"]}
            )

    [alert] = _run(world)
    assert (alert["severity"], alert["resource"]) == ("CRITICAL", world.trail_arn)
    assert "NO BASELINE" in str(alert["headline"])
    assert "baseline capture" in str(alert["manualAction"])
    assert _run(world) == [], "one incident, not one alert a minute"
