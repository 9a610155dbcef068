"""Drill scenarios of issue 11: is the trail really recording? Delivery health (I7),
blind windows and what happened inside them, degraded repair, and organization
trails without a baseline. drill/emulation supplies what moto lacks (Event history,
delivery errors, CreateTrail's checks of its dependencies)."""

from __future__ import annotations

import json
from typing import Any

from drill.scenarios import BY_SCHEDULE, Attack, Scenario, _client
from drill.world import (
    DRILL_USER,
    LOG_BUCKET,
    STACK,
    TRAIL_NAME,
    DeliveredAlert,
    World,
    trail_bucket_policy,
)

LOGS_ROLE = "CloudTrailToCloudWatchLogs"  # the trail's CloudWatch Logs role (drill/world.py)
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:111111111111:trail/{TRAIL_NAME}"
DENY_CLOUDTRAIL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "NoMoreCloudTrail",
            "Effect": "Deny",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
        }
    ],
}


def _create_drill_user() -> None:
    iam = _client("iam")
    try:
        iam.get_user(UserName=DRILL_USER)
    except iam.exceptions.NoSuchEntityException:
        iam.create_user(UserName=DRILL_USER)


def _delete_baseline_versions() -> None:
    table = f"{STACK}-BaselineTable-EXAMPLE"
    dynamodb = _client("dynamodb")
    versions = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :v)",
        ExpressionAttributeValues={":pk": {"S": TRAIL_ARN}, ":v": {"S": "V#"}},
    )["Items"]
    for item in versions:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def _put_policy_back(world: World) -> None:
    """The on-call engineer restores the bucket policy by hand, as the alert said."""
    del world
    _client("s3").put_bucket_policy(Bucket=LOG_BUCKET, Policy=json.dumps(trail_bucket_policy()))


def _recreate_logs_role(world: World) -> None:
    """The on-call engineer recreates the CloudWatch Logs role the alert named."""
    del world
    _client("iam").create_role(
        RoleName=LOGS_ROLE,
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


def _record_baseline(world: World) -> None:
    """The on-call engineer checks the trail and records its baseline again."""
    world.capture_baseline()
    # Every capture announces itself (an INFO with its diff); this one is the human's
    # closing step, after the play's deliveries, so it must not be counted in the next.
    captured = [a for a in world.drain_alerts() if a.outcome == "allowed"]
    assert captured, "a capture always publishes its alert"


def _documents(alerts: list[DeliveredAlert]) -> list[dict[str, Any]]:
    return [a.document for a in alerts]


def _window_lists_the_access_key(alerts: list[DeliveredAlert]) -> list[str]:
    windows = [d["blindWindow"] for d in _documents(alerts) if "blindWindow" in d]
    if not windows:
        return ["no alert carries a blindWindow"]
    names = [c["eventName"] for w in windows for c in w["calls"]]
    if "CreateAccessKey" not in names:
        return [f"the blind window's calls {names} do not include CreateAccessKey"]
    return []


def _names_the_bucket_policy(alerts: list[DeliveredAlert]) -> list[str]:
    critical = [d for d in _documents(alerts) if d["severity"] == "CRITICAL"]
    if not critical or "bucket policy" not in critical[0]["headline"]:
        return ["the CRITICAL does not name the bucket policy as the cause"]
    return []


def _names_cloudwatch_logs(alerts: list[DeliveredAlert]) -> list[str]:
    critical = [d for d in _documents(alerts) if d["severity"] == "CRITICAL"]
    if not critical or "CloudWatch Logs not restored" not in critical[0]["headline"]:
        return ["the CRITICAL does not name CloudWatch Logs as not restored"]
    return []


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="stop-act-restart",
        title="Stop logging, create an IAM access key, start logging: no event delivered",
        sample=None,
        attacks=(
            Attack("cloudtrail", "StopLogging", {"Name": TRAIL_NAME}, prepare=_create_drill_user),
            Attack("iam", "CreateAccessKey", {"UserName": DRILL_USER}),
            Attack("cloudtrail", "StartLogging", {"Name": TRAIL_NAME}),
        ),
        watches=("access-keys",),
        function_id="ReconcileInvariantsFunction",
        expected_outcomes=(("detected",),),
        expected_alerts=("HIGH detected by schedule",),
        note="the trail logs again when the reconciler looks, but GetTrailStatus's "
        "StopLoggingTime and StartLoggingTime tell the stop; Event history lists the calls "
        "made in between (the access key is left for a human to judge)",
        detected_by=BY_SCHEDULE,
        check_alerts=_window_lists_the_access_key,
    ),
    Scenario(
        name="delivery-failing",
        title="Bucket policy changed to deny CloudTrail; then put back by hand",
        sample=None,
        attacks=(
            Attack(
                "s3",
                "PutBucketPolicy",
                {"Bucket": LOG_BUCKET, "Policy": json.dumps(DENY_CLOUDTRAIL)},
            ),
        ),
        watches=("trail-delivers",),
        function_id="ReconcileInvariantsFunction",
        # The run reads what CloudTrail reports before it touches the bucket: the CRITICAL
        # names the cause; the same run also puts the bucket policy back (I8, the delivery
        # chain), and the next run, delivery healthy again, says it recovered.
        expected_outcomes=(("repaired/detected",), ("recovered",)),
        expected_alerts=(
            "HIGH repaired by schedule",
            "CRITICAL detected by schedule",
            "INFO recovered by schedule",
        ),
        note="CloudTrail reports AccessDenied in GetTrailStatus: the CRITICAL names the cause "
        "and the manual action; the delivery chain's repair (I8) puts the policy back in the "
        "same run, the by-hand step finds it so, and the next run says delivery recovered",
        detected_by=BY_SCHEDULE,
        by_hand=(_put_policy_back,),
        check_alerts=_names_the_bucket_policy,
    ),
    Scenario(
        name="delete-trail-dependency-broken",
        title="Delete the trail's CloudWatch Logs role, then the trail",
        sample=None,
        attacks=(
            Attack("iam", "DeleteRole", {"RoleName": LOGS_ROLE}),
            Attack("cloudtrail", "DeleteTrail", {"Name": TRAIL_NAME}),
        ),
        watches=("trail-exists", "trail-logging", "trail-baseline"),
        function_id="ReconcileInvariantsFunction",
        expected_outcomes=(("degraded",), ("repaired",)),
        expected_alerts=("CRITICAL degraded by schedule", "HIGH repaired by schedule"),
        note="CreateTrail refuses the missing role: the trail is recreated and logging "
        "without CloudWatch Logs first; once the role is back, the next run restores it",
        detected_by=BY_SCHEDULE,
        by_hand=(_recreate_logs_role,),
        check_alerts=_names_cloudwatch_logs,
    ),
    Scenario(
        name="unprotected-org-trail",
        title="Delete the organization trail's baseline items, every version, then the current",
        sample=None,
        attacks=(
            Attack(
                "dynamodb",
                "DeleteItem",
                {
                    "TableName": f"{STACK}-BaselineTable-EXAMPLE",
                    "Key": {"pk": {"S": TRAIL_ARN}, "sk": {"S": "CURRENT"}},
                },
                # Any item of a trail keeps it protected (a deleted current baseline is
                # rebuilt from its versions): the attacker deletes the versions first.
                prepare=_delete_baseline_versions,
            ),
        ),
        watches=("trail-baseline",),
        function_id="ReconcileInvariantsFunction",
        expected_outcomes=(("detected",),),
        expected_alerts=("CRITICAL detected by schedule",),
        note="with ProtectedTrailNames empty every organization trail homed here is "
        "protected: one without a baseline is a CRITICAL; a human records the baseline again",
        detected_by=BY_SCHEDULE,
        by_hand=(_record_baseline,),
    ),
)
