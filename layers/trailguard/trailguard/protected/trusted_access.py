"""I1: trusted access for cloudtrail.amazonaws.com stays enabled."""

from __future__ import annotations

import logging
from dataclasses import replace

from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import AllowListed, Verdict, allow_listed
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
from trailguard.protected.delegated_admin import delegated_admin_changed

CLOUDTRAIL = "cloudtrail.amazonaws.com"
INVARIANT = "I1 trusted access for cloudtrail.amazonaws.com"
logger = logging.getLogger("trailguard")


def trusted_access_subject(
    account_id: str, region: str, event: ApiCallEvent | None, detected_by: str = "event"
) -> Subject:
    return Subject(INVARIANT, CLOUDTRAIL, account_id, region, event, detected_by)


def trusted_access_repair(deps: Dependencies, subject: Subject) -> Repair:
    return Repair(
        subject=subject,
        drift=("trusted access for cloudtrail.amazonaws.com is disabled",),
        actions=[
            Action(
                "EnableAWSServiceAccess", CLOUDTRAIL, lambda: deps.trusted_access.enable(CLOUDTRAIL)
            )
        ],
        verify=lambda: (
            []
            if deps.trusted_access.is_enabled(CLOUDTRAIL)
            else ["trusted access is still disabled"]
        ),
        manual_action="in the management account run `aws organizations "
        "enable-aws-service-access --service-principal cloudtrail.amazonaws.com`",
    )


DELEGATED_ADMIN_EVENTS = frozenset(
    {"RegisterDelegatedAdministrator", "DeregisterDelegatedAdministrator"}
)


def organizations_change(event: ApiCallEvent, deps: Dependencies) -> Result:
    """Entry point for the Organizations rule: trusted access or delegated admins."""
    if event.event_name in DELEGATED_ADMIN_EVENTS:
        return delegated_administrator_changed(event, deps)
    return restore_trusted_access(event, deps)


def delegated_administrator_changed(event: ApiCallEvent, deps: Dependencies) -> Result:
    """A CloudTrail delegated administrator can manage, and stop, organization trails."""
    principal = event.parameter("servicePrincipal", limit=256)
    if principal != CLOUDTRAIL:
        return Result(Outcome.NOTICE, principal or "(none)", "not cloudtrail.amazonaws.com")
    return delegated_admin_changed(event, deps, event.parameter("accountId", limit=12))


def restore_trusted_access(event: ApiCallEvent, deps: Dependencies) -> Result:
    if event.event_name != "DisableAWSServiceAccess":
        raise InvalidEvent(f"{event.event_name} is not DisableAWSServiceAccess")
    principal = event.parameter("servicePrincipal", limit=256)
    subject = trusted_access_subject(event.account_id, event.region, event)
    if principal != CLOUDTRAIL:
        logger.info(
            "trusted access disabled for another service; no action",
            extra={"event_id": event.event_id},
        )
        if deps.settings.alert_on_other_service_principals:
            return report_only(
                deps,
                subject,
                Severity.INFO,
                Outcome.NOTICE,
                "trusted access disabled for another service principal; not protected",
                detail=f"Service principal: {principal!r}" if principal else "",
            )
        return Result(Outcome.NOTICE, principal or "(none)", "not cloudtrail.amazonaws.com")

    verdict, screened = screen(
        event, deps, subject, "attempt to disable trusted access was refused; nothing changed"
    )
    if screened is not None:
        return screened
    # Checked first whoever made the call (reads only): an event under trailguard's
    # own role that left trusted access on is its own echo, or changed nothing.
    if deps.trusted_access.is_enabled(CLOUDTRAIL):
        logger.info("trusted access already enabled", extra={"event_id": event.event_id})
        return Result(Outcome.IN_SYNC, CLOUDTRAIL, "already enabled")
    return respond(deps, escalated(trusted_access_repair(deps, subject), event, verdict))


def escalated(repair: Repair, event: ApiCallEvent, verdict: Verdict) -> Repair:
    """The repair's alert, told who made the call when that matters.

    Disabling trusted access (like deleting the service-linked role) breaks an
    invariant: an allow-listed principal's call is reverted too (domain/guards.py,
    AllowListed.REVERT), as the reconciler would; under trailguard's own role it is
    a CRITICAL, since trailguard never makes these calls."""
    if verdict is Verdict.OWN_ROLE:
        role = event.principal.session_issuer_arn
        return replace(
            repair,
            severity=Severity.CRITICAL,
            notes=(
                f"TRAILGUARD'S ROLE WAS USED BY SOMETHING OTHER THAN A REPAIR: {role} made "
                f"this {event.event_name}, which trailguard never makes. Find what runs as "
                "this role (iam:PassRole at CreateFunction/UpdateFunctionConfiguration).",
            ),
        )
    if verdict is Verdict.ALLOWED and allow_listed(event.event_name) is AllowListed.REVERT:
        return replace(
            repair,
            notes=(
                f"The principal is allow-listed, but {event.event_name} breaks an invariant, "
                "which the allow-list does not cover; pause trailguard with Mode=detect for "
                "planned maintenance.",
            ),
        )
    return repair
