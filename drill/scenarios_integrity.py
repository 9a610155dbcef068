"""Attacks on trailguard's integrity: its baselines, its own role, its alerts.

An admin of the management account cannot be stopped from deleting trailguard,
but must not be able to make it lie or look away. Each scenario here is one way
the red team of issue 10 did, played against the real handlers.
"""

from __future__ import annotations

from typing import Any

from drill.events import fresh_event, now
from drill.routing import deliver
from drill.scenarios import Attack, Scenario
from drill.world import ACCOUNT, REGION, STACK, TRAIL_NAME, aws_client

# The weaken-trail scenario's bucket (drill.scenarios.ATTACKER_BUCKET); named again here
# because drill.scenarios is still being imported when this module is.
ATTACKER_BUCKET = f"attacker-bucket-{ACCOUNT}"

BASELINE_TABLE = f"{STACK}-BaselineTable-EXAMPLE"  # the world's table, as CloudFormation names it
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL_NAME}"
IAC_DEPLOY = f"arn:aws:iam::{ACCOUNT}:role/iac-deploy"  # the deployer of the allowed sample
WEAKENING = {
    "Name": TRAIL_NAME,
    "S3BucketName": ATTACKER_BUCKET,
    "IsMultiRegionTrail": False,
    "IsOrganizationTrail": False,
}
# The same change as the event's requestParameters say it.
WEAKENING_PARAMETERS = {
    "s3BucketName": ATTACKER_BUCKET,
    "isMultiRegionTrail": False,
    "isOrganizationTrail": False,
}
# A second admin, who makes harmless changes before the attack (damper-hides-second-actor).
COSMETIC_ADMIN = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEID00000002:alice",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/PlatformAdmin/alice",
    "accountId": ACCOUNT,
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEID00000002",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/PlatformAdmin",
            "accountId": ACCOUNT,
            "userName": "PlatformAdmin",
        }
    },
}
COSMETIC_CHANGES = 3


def _create_attacker_bucket() -> None:
    s3 = aws_client("s3")
    if ATTACKER_BUCKET not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=ATTACKER_BUCKET)


WEAKEN = Attack("cloudtrail", "UpdateTrail", WEAKENING, prepare=_create_attacker_bucket)


def _allow_list_the_deployer(world: Any, output: Any) -> list[str]:
    """The deployment allow-lists its IaC role, whose name the forger borrows."""
    world.apply_environment(ALLOWED_PRINCIPAL_ARNS=IAC_DEPLOY)
    return []


def _cosmetic_changes(world: Any, output: Any) -> list[str]:
    """One admin changes the key prefix three times; each is repaired and alerted."""
    problems = []
    for number in range(1, COSMETIC_CHANGES + 1):
        aws_client("cloudtrail").update_trail(Name=TRAIL_NAME, S3KeyPrefix="org-cosmetic")
        event = fresh_event(
            "update_trail_by_allowed_deployer.json",
            now(),
            {"name": TRAIL_NAME, "s3KeyPrefix": "org-cosmetic"},
        )
        event["detail"]["userIdentity"] = COSMETIC_ADMIN
        event["detail"]["requestParameters"].pop("enableLogFileValidation", None)
        delivery = deliver(world, event, output)
        outcomes = [i.outcome for i in delivery.invocations]
        alerts = [f"{a.severity} {a.outcome}" for a in delivery.alerts]
        if outcomes != ["repaired"] or alerts != ["HIGH repaired"]:
            problems.append(
                f"cosmetic change {number}: outcomes {outcomes}, alerts {alerts}, "
                "expected ['repaired'] and ['HIGH repaired']"
            )
    return problems


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="delete-baseline-then-delete-trail",
        title="Delete the trail's baseline item, then delete the trail",
        sample="delete_trail.json",
        attacks=(
            Attack(
                "dynamodb",
                "DeleteItem",
                {
                    "TableName": BASELINE_TABLE,
                    "Key": {"pk": {"S": TRAIL_ARN}, "sk": {"S": "CURRENT"}},
                },
            ),
            Attack("cloudtrail", "DeleteTrail", {"Name": TRAIL_NAME}),
        ),
        watches=("trail-exists", "trail-baseline"),
        function_id="RestoreTrailFunction",
        expected_outcomes=(("repaired",),),
        expected_alerts=("CRITICAL repaired",),
        note="the baseline in force is gone (the table's policy would refuse this write in "
        "AWS; moto does not enforce it): trailguard rebuilds the trail from the newest "
        "version whose signature holds, puts that version back in force, and says so",
    ),
    Scenario(
        name="forge-allowed-update",
        title="Weaken the trail, then invoke trailguard with a forged allow-listed UpdateTrail",
        sample="update_trail_by_allowed_deployer.json",
        attacks=(WEAKEN,),
        watches=("trail-baseline",),
        function_id="RestoreTrailFunction",
        expected_outcomes=(("repaired",),),
        expected_alerts=("CRITICAL repaired",),
        note="the event names the allow-listed deploy role, but CloudTrail's Event history "
        "has no such event: the baseline is not replaced and the trail is reverted",
        request_parameters=WEAKENING_PARAMETERS,
        prelude=_allow_list_the_deployer,
    ),
    Scenario(
        name="misuse-trailguard-role",
        title="UpdateTrail made under trailguard's own restore role",
        sample="update_trail_by_remediator.json",
        attacks=(WEAKEN,),
        watches=("trail-baseline",),
        function_id="RestoreTrailFunction",
        expected_outcomes=(("repaired",),),
        expected_alerts=("CRITICAL repaired",),
        note="events under trailguard's roles are checked, not ignored: its own repairs "
        "leave no drift, so drift left under its role means someone else used it",
        request_parameters=WEAKENING_PARAMETERS,
    ),
    Scenario(
        name="damper-hides-second-actor",
        title="Three cosmetic changes by one admin, then a harmful one by another",
        sample="update_trail_weaken.json",
        attacks=(WEAKEN,),
        watches=("trail-baseline",),
        function_id="RestoreTrailFunction",
        expected_outcomes=(("repaired",),),
        expected_alerts=("HIGH repaired",),
        note="storm damping counts the same drift by the same actor only: the fourth "
        "change is another admin's and another drift, and it alerts",
        prelude=_cosmetic_changes,
    ),
)
