"""The attacks the drill plays: the real API call against moto, the event AWS
would emit for it, and what trailguard is expected to do about it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drill.world import ACCOUNT, REGION, TRAIL_NAME

ATTACKER_BUCKET = f"attacker-bucket-{ACCOUNT}"  # the bucket named in update_trail_weaken.json
# moto names the role after the lower-case service name; AWS says AWSServiceRoleForCloudTrail,
# and so does the event the drill sends (events/delete_service_linked_role.json).
MOTO_SERVICE_LINKED_ROLE = "AWSServiceRoleForcloudtrail"


def _client(service: str) -> Any:
    # Created on use: a client made before moto's mock starts would reach real AWS.
    import boto3

    make: Any = boto3.client  # the service is data here: the stubs' overloads cannot follow it
    return make(service, region_name=REGION)


def _snake(operation: str) -> str:
    from botocore import xform_name

    return str(xform_name(operation))


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Attack:
    """A real API call, made as the attacker would make it."""

    service: str
    operation: str  # the API name as CloudTrail records it
    parameters: Mapping[str, Any]
    prepare: Callable[[], None] | None = None  # what the attacker set up beforehand

    def perform(self) -> None:
        getattr(_client(self.service), _snake(self.operation))(**self.parameters)

    def describe(self) -> str:
        shown = " ".join(f"{key}={_shown(value)}" for key, value in self.parameters.items())
        return f"{self.service}:{self.operation} {shown}".strip()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    sample: str  # file in events/ the emitted event is made from
    attack: Attack | None  # None: the call was refused, nothing changed
    watches: tuple[str, ...]  # invariant checks shown before and after (invariants.CHECKS)
    function_id: str  # the function the template must route the event to
    expected_outcomes: tuple[tuple[str, ...], ...]  # per delivery: the outcomes that are right
    expected_alerts: tuple[str, ...]  # "SEVERITY outcome" of each alert on-call receives
    note: str = ""

    @property
    def deliveries(self) -> int:
        """How often the same event is delivered: EventBridge delivers at least once."""
        return len(self.expected_outcomes)


def _create_attacker_bucket() -> None:
    _client("s3").create_bucket(Bucket=ATTACKER_BUCKET)


REPAIRED = (("repaired",),)
HIGH_REPAIRED = ("HIGH repaired",)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="disable-trusted-access",
        title="Disable CloudTrail trusted access in AWS Organizations",
        sample="disable_trusted_access.json",
        attack=Attack(
            "organizations",
            "DisableAWSServiceAccess",
            {"ServicePrincipal": "cloudtrail.amazonaws.com"},
        ),
        watches=("trusted-access",),
        function_id="RestoreTrustedAccessFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="stop-logging",
        title="Stop logging of the organization trail",
        sample="stop_logging.json",
        attack=Attack("cloudtrail", "StopLogging", {"Name": TRAIL_NAME}),
        watches=("trail-logging",),
        function_id="RestoreTrailFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="delete-trail",
        title="Delete the organization trail (root user, console)",
        sample="delete_trail.json",
        attack=Attack("cloudtrail", "DeleteTrail", {"Name": TRAIL_NAME}),
        watches=("trail-exists", "trail-logging", "trail-baseline"),
        function_id="RestoreTrailFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="the event carries only the trail's name: the trail is rebuilt from its baseline",
    ),
    Scenario(
        name="weaken-trail",
        title="UpdateTrail: single-region, not organization-wide, attacker's bucket",
        sample="update_trail_weaken.json",
        attack=Attack(
            "cloudtrail",
            "UpdateTrail",
            {
                "Name": TRAIL_NAME,
                "S3BucketName": ATTACKER_BUCKET,
                "IsMultiRegionTrail": False,
                "IsOrganizationTrail": False,
            },
            prepare=_create_attacker_bucket,
        ),
        watches=("trail-baseline",),
        function_id="RestoreTrailFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="exclude-management-events",
        title="PutEventSelectors: stop recording management events",
        sample="put_event_selectors_exclude_management.json",
        attack=Attack(
            "cloudtrail",
            "PutEventSelectors",
            {
                "TrailName": TRAIL_NAME,
                "EventSelectors": [
                    {"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": []}
                ],
            },
        ),
        watches=("trail-baseline",),
        function_id="RestoreTrailFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="delete-service-linked-role",
        title="Delete the CloudTrail service-linked role",
        sample="delete_service_linked_role.json",
        attack=Attack("iam", "DeleteServiceLinkedRole", {"RoleName": MOTO_SERVICE_LINKED_ROLE}),
        watches=("service-linked-role",),
        function_id="RestoreServiceLinkedRoleFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
        note="moto names the role AWSServiceRoleForcloudtrail; the event says "
        "AWSServiceRoleForCloudTrail, as AWS does",
    ),
    Scenario(
        name="denied-attempt",
        title="Attempt to disable trusted access, refused with AccessDenied",
        sample="disable_trusted_access_denied.json",
        attack=None,
        watches=("trusted-access",),
        function_id="RestoreTrustedAccessFunction",
        expected_outcomes=(("attempt_failed",),),
        expected_alerts=("WARNING attempt_failed",),
        note="AWS refused the call, so nothing changed: alert on the attempt, take no action",
    ),
    Scenario(
        name="duplicate-delivery",
        title="Stop logging (console, SSO), event delivered twice",
        sample="stop_logging_console_sso.json",
        attack=Attack("cloudtrail", "StopLogging", {"Name": TRAIL_NAME}),
        watches=("trail-logging",),
        function_id="RestoreTrailFunction",
        # Without a delivery ledger the handler re-reads state and finds it in sync;
        # with one it recognises the eventID. Either way: no second repair, no second alert.
        expected_outcomes=(("repaired",), ("in_sync", "duplicate")),
        expected_alerts=HIGH_REPAIRED,
        note="EventBridge delivers at least once: the second delivery of the same event "
        "must neither repair nor alert again",
    ),
)

BY_NAME: dict[str, Scenario] = {scenario.name: scenario for scenario in SCENARIOS}
