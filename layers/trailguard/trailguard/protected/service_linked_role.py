"""I6: the service-linked role AWSServiceRoleForCloudTrail exists."""

from __future__ import annotations

import logging

from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict
from trailguard.engine.remediation import (
    Action,
    Dependencies,
    Repair,
    Result,
    Subject,
    report_only,
    respond,
    screen,
)
from trailguard.errors import InvalidEvent
from trailguard.protected.trusted_access import CLOUDTRAIL, escalated

ROLE_NAME = "AWSServiceRoleForCloudTrail"
INVARIANT = "I6 service-linked role AWSServiceRoleForCloudTrail"
logger = logging.getLogger("trailguard")


def role_subject(
    account_id: str, region: str, event: ApiCallEvent | None, detected_by: str = "event"
) -> Subject:
    return Subject(INVARIANT, f"role {ROLE_NAME}", account_id, region, event, detected_by)


def role_repair(deps: Dependencies, subject: Subject) -> Repair:
    return Repair(
        subject=subject,
        drift=(f"{ROLE_NAME} does not exist",),
        actions=[
            Action("CreateServiceLinkedRole", CLOUDTRAIL, lambda: deps.roles.create(CLOUDTRAIL))
        ],
        verify=lambda: [] if deps.roles.exists(CLOUDTRAIL) else [f"{ROLE_NAME} still missing"],
        manual_action="run `aws iam create-service-linked-role --aws-service-name "
        "cloudtrail.amazonaws.com` in the management account",
    )


def restore_service_linked_role(event: ApiCallEvent, deps: Dependencies) -> Result:
    if event.event_name != "DeleteServiceLinkedRole":
        raise InvalidEvent(f"{event.event_name} is not DeleteServiceLinkedRole")
    role_name = event.parameter("roleName", limit=64)
    # IAM role names are case-insensitive: a lower-cased name deletes the same role.
    if role_name.lower() != ROLE_NAME.lower():
        logger.info(
            "another service-linked role was deleted; no action", extra={"event_id": event.event_id}
        )
        return Result(Outcome.NOTICE, "(other role)", "not the CloudTrail service-linked role")

    subject = role_subject(event.account_id, event.region, event)
    verdict, screened = screen(
        event, deps, subject, "attempt to delete the CloudTrail service-linked role was refused"
    )
    if screened is not None:
        return screened
    if deps.roles.exists(CLOUDTRAIL):
        if verdict is Verdict.OWN_ROLE:
            # trailguard never deletes the role, but nothing is left to repair.
            return Result(Outcome.IN_SYNC, f"role {ROLE_NAME}", "role present")
        # Deletion is asynchronous, and AWS refuses it while an organization
        # trail uses the role, so the role may well still be there.
        return report_only(
            deps,
            subject,
            Severity.WARNING,
            Outcome.NOTICE,
            "deletion of the CloudTrail service-linked role requested; role still present",
            detail="IAM deletes service-linked roles asynchronously and refuses while an "
            "organization trail uses the role. The scheduled reconciler recreates it if it goes.",
        )
    return respond(deps, escalated(role_repair(deps, subject), event, verdict))
