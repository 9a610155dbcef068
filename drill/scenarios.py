"""The attacks the drill plays: the real API calls against moto, the event AWS
would emit for them (or none, when it is lost), and what trailguard is expected
to do about it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drill.invariants import WATCHED_RULE, WATCHED_RULE_OF
from drill.world import ACCOUNT, REGION, TRAIL_NAME, DeliveredAlert, World, aws_client

BY_EVENT = "event"  # the attack's event is delivered to the rules of the template
BY_SCHEDULE = "schedule"  # no event arrives: the template's schedule fires

ATTACKER_BUCKET = f"attacker-bucket-{ACCOUNT}"  # the bucket named in update_trail_weaken.json
# moto names the role after the lower-case service name; AWS says AWSServiceRoleForCloudTrail,
# and so does the event the drill sends (events/delete_service_linked_role.json).
MOTO_SERVICE_LINKED_ROLE = "AWSServiceRoleForcloudtrail"


def _client(service: str) -> Any:
    return aws_client(service, REGION)


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
    # What exists before the attack: the attacker's own resources, or a part of the
    # stack the seeded world does not model. Runs before the "before" state is read.
    prepare: Callable[[], None] | None = None

    def perform(self) -> None:
        getattr(_client(self.service), _snake(self.operation))(**self.parameters)

    def describe(self) -> str:
        shown = " ".join(f"{key}={_shown(value)}" for key, value in self.parameters.items())
        return f"{self.service}:{self.operation} {shown}".strip()


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    sample: str | None  # file in events/ the emitted event is made from; None: no event
    attacks: tuple[Attack, ...]  # the calls, in order; empty: the call was refused
    watches: tuple[str, ...]  # checks shown before and after (invariants.CHECKS)
    function_id: str  # the function the template must route the event (or schedule) to
    expected_outcomes: tuple[tuple[str, ...], ...]  # per delivery: the outcomes that are right
    # "SEVERITY outcome" of each alert on-call receives, "... by schedule" when the
    # alert's detectedBy is the schedule
    expected_alerts: tuple[str, ...]
    note: str = ""
    detected_by: str = BY_EVENT  # BY_SCHEDULE: the events are lost, the schedule fires
    # Set in the event's requestParameters: the names the attack really used.
    request_parameters: Mapping[str, Any] = field(default_factory=dict)
    # What a human does after delivery n (by index; None: nothing), before the next.
    by_hand: tuple[Callable[[World], None] | None, ...] = ()
    # Problems with the content of the alerts on-call received ([]: as expected).
    check_alerts: Callable[[list[DeliveredAlert]], list[str]] | None = None
    # Run on the world before anything else (deploys what the scenario needs).
    setup: Callable[[Any], None] | None = None
    # What the witness (companions/witness) passes on, as "SEVERITY outcome" of each
    # alert or "heartbeat healthy|broken"; None: not checked.
    expected_witness: tuple[str, ...] | None = None
    # Played first (world, output): what happened before this attack, such as earlier
    # events delivered. Returns what went other than expected.
    prelude: Callable[[Any, Any], list[str]] | None = None

    @property
    def deliveries(self) -> int:
        """How often the same event is delivered (EventBridge delivers at least once),
        or how often the schedule fires."""
        return len(self.expected_outcomes)


def _create_attacker_bucket() -> None:
    _client("s3").create_bucket(Bucket=ATTACKER_BUCKET)


def _deploy_watched_rule() -> None:
    """trailguard's rule as its stack deploys it, with the template's pattern."""
    from drill.template import rules

    [rule] = [r for r in rules() if (r.function_id, r.rule_id) == WATCHED_RULE_OF]
    _client("events").put_rule(
        Name=WATCHED_RULE,
        EventPattern=json.dumps(rule.pattern),
        State="ENABLED",
        Description="trailguard - deployed by the drill for tamper-with-trailguard",
    )


REPAIRED = (("repaired",),)
HIGH_REPAIRED = ("HIGH repaired",)
DISABLE_TRUSTED_ACCESS = Attack(
    "organizations", "DisableAWSServiceAccess", {"ServicePrincipal": "cloudtrail.amazonaws.com"}
)

from drill.scenarios_integrity import SCENARIOS as INTEGRITY  # noqa: E402 (needs Scenario)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="disable-trusted-access",
        title="Disable CloudTrail trusted access in AWS Organizations",
        sample="disable_trusted_access.json",
        attacks=(DISABLE_TRUSTED_ACCESS,),
        watches=("trusted-access",),
        function_id="RestoreTrustedAccessFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="stop-logging",
        title="Stop logging of the organization trail",
        sample="stop_logging.json",
        attacks=(Attack("cloudtrail", "StopLogging", {"Name": TRAIL_NAME}),),
        watches=("trail-logging",),
        function_id="RestoreTrailFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=HIGH_REPAIRED,
    ),
    Scenario(
        name="delete-trail",
        title="Delete the organization trail (root user, console)",
        sample="delete_trail.json",
        attacks=(Attack("cloudtrail", "DeleteTrail", {"Name": TRAIL_NAME}),),
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
        attacks=(
            Attack(
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
        attacks=(
            Attack(
                "cloudtrail",
                "PutEventSelectors",
                {
                    "TrailName": TRAIL_NAME,
                    "EventSelectors": [
                        {
                            "ReadWriteType": "All",
                            "IncludeManagementEvents": False,
                            "DataResources": [],
                        }
                    ],
                },
            ),
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
        attacks=(Attack("iam", "DeleteServiceLinkedRole", {"RoleName": MOTO_SERVICE_LINKED_ROLE}),),
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
        attacks=(),
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
        attacks=(Attack("cloudtrail", "StopLogging", {"Name": TRAIL_NAME}),),
        watches=("trail-logging",),
        function_id="RestoreTrailFunction",
        # Without a delivery ledger the handler re-reads state and finds it in sync;
        # with one it recognises the eventID. Either way: no second repair, no second alert.
        expected_outcomes=(("repaired",), ("in_sync", "duplicate")),
        expected_alerts=HIGH_REPAIRED,
        note="EventBridge delivers at least once: the second delivery of the same event "
        "must neither repair nor alert again",
    ),
    Scenario(
        name="lost-events",
        title="Stop logging, delete the trail, disable trusted access: no event arrives",
        sample=None,
        attacks=(
            Attack("cloudtrail", "StopLogging", {"Name": TRAIL_NAME}),
            Attack("cloudtrail", "DeleteTrail", {"Name": TRAIL_NAME}),
            DISABLE_TRUSTED_ACCESS,
        ),
        watches=("trusted-access", "trail-exists", "trail-logging", "trail-baseline"),
        function_id="ReconcileInvariantsFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=("HIGH repaired by schedule", "HIGH repaired by schedule"),
        note="CloudTrail delivers to EventBridge on a best-effort basis, and with the only "
        "trail stopped the events may never arrive: the schedule's reconciler finds the drift",
        detected_by=BY_SCHEDULE,
    ),
    Scenario(
        name="tamper-with-trailguard",
        title="Disable trailguard's own EventBridge rule for trail changes",
        sample="disable_own_rule.json",
        attacks=(
            Attack("events", "DisableRule", {"Name": WATCHED_RULE}, prepare=_deploy_watched_rule),
        ),
        watches=("trailguard-rule",),
        function_id="AlertSelfTamperingFunction",
        expected_outcomes=REPAIRED,
        expected_alerts=("CRITICAL repaired",),
        note="trailguard re-enables its rule, verifies it, and sends a CRITICAL that names who "
        "disabled it; the trail's invariants are untouched",
        request_parameters={"name": WATCHED_RULE},
    ),
    *INTEGRITY,
)

from drill.scenarios_health import SCENARIOS as HEALTH  # noqa: E402 (uses the classes above)
from drill.scenarios_selfprot import SELFPROT_SCENARIOS  # noqa: E402 (uses the classes above)

SCENARIOS = (*SCENARIOS, *SELFPROT_SCENARIOS, *HEALTH)
SCENARIOS += __import__("drill.scenarios_archive", fromlist=["SCENARIOS"]).SCENARIOS

BY_NAME: dict[str, Scenario] = {scenario.name: scenario for scenario in SCENARIOS}
