"""Tampering with trailguard itself: its rules, functions, topic and tables.

An attacker who wants the trail blind for long first silences the guard:
disables a rule, removes its target, deletes or throttles a function to zero,
deletes the alert topic or its subscriptions. Each of these is alerted;
nothing is reverted automatically (the fix is a redeploy of the stack, by a
human who has read the alert).

trailguard's resources are recognised by name: CloudFormation names them
`<stack name>-<logical id>-<suffix>`.
"""

from __future__ import annotations

import logging
import re

from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict
from trailguard.engine.remediation import Dependencies, Result, Subject, report_only, screen
from trailguard.errors import InvalidEvent

logger = logging.getLogger("trailguard")
# What is watched, not a verdict: the alert may be CRITICAL about it.
INVARIANT = "trailguard's own resources checked"
CLOUDFORMATION = "cloudformation.amazonaws.com"

# Lambda's CloudTrail event names carry an API version: DeleteFunction20150331.
_API_VERSION = re.compile(r"(\d{8}(v\d+)?)$")
SILENCING = {
    "DisableRule": "an EventBridge rule was disabled",
    "DeleteRule": "an EventBridge rule was deleted",
    "RemoveTargets": "targets were removed from an EventBridge rule",
    "DeleteFunction": "a function was deleted",
    "DeleteTopic": "the alert topic was deleted",
    "Unsubscribe": "a subscription to the alert topic was removed",
    "DeleteTable": "a table was deleted",
}
ALTERING = {
    "PutRule": "an EventBridge rule was changed",
    "PutTargets": "an EventBridge rule's targets were changed",
    "UpdateFunctionConfiguration": "a function's configuration was changed",
    "UpdateFunctionCode": "a function's code was replaced",
    "RemovePermission": "a permission was removed",
    "SetTopicAttributes": "the alert topic's attributes were changed",
    "PutFunctionConcurrency": "a function's concurrency was changed",
}
_RESOURCE_PARAMETERS = ("name", "rule", "functionName", "topicArn", "subscriptionArn", "tableName")


def base_name(event_name: str) -> str:
    return _API_VERSION.sub("", event_name)


def resource_named(event: ApiCallEvent) -> str:
    for key in _RESOURCE_PARAMETERS:
        value = event.parameter(key, limit=512)
        if value:
            return value
    return ""


def is_ours(resource: str, stack_name: str) -> bool:
    if not stack_name or not resource:
        return False
    prefix = f"{stack_name}-"
    # A plain name, or the last part of an ARN (":" for functions/topics, "/" for rules).
    tail = re.split(r"[:/]", resource)
    return resource.startswith(prefix) or any(part.startswith(prefix) for part in tail)


def _what(event: ApiCallEvent, name: str) -> tuple[str, bool]:
    """(description, silences trailguard?)"""
    if name == "PutFunctionConcurrency":
        concurrency = event.request_parameters.get("reservedConcurrentExecutions")
        if concurrency == 0:
            return "a function was throttled to zero (reserved concurrency 0)", True
    if name in SILENCING:
        return SILENCING[name], True
    if name in ALTERING:
        return ALTERING[name], False
    raise InvalidEvent(f"{event.event_name} is not a change trailguard watches on itself")


def self_tampering(event: ApiCallEvent, deps: Dependencies) -> Result:
    name = base_name(event.event_name)
    what, silences = _what(event, name)
    resource = resource_named(event)
    if not is_ours(resource, deps.settings.stack_name):
        logger.info("change to a resource that is not trailguard's", extra={"event": name})
        return Result(Outcome.NOTICE, "(not trailguard's)", "not one of trailguard's resources")

    subject = Subject(INVARIANT, resource, event.account_id, event.region, event)
    verdict, screened = screen(
        event, deps, subject, f"refused attempt on trailguard itself: {what}"
    )
    if screened is not None:
        return screened
    deployment = event.principal.invoked_by == CLOUDFORMATION
    if deployment or verdict is Verdict.ALLOWED:
        # Deployments change these resources all the time; say so, quietly.
        severity = Severity.WARNING if silences else Severity.INFO
        return report_only(
            deps, subject, severity, Outcome.ALLOWED, f"trailguard changed by a deployment: {what}"
        )
    return report_only(
        deps,
        subject,
        Severity.CRITICAL if silences else Severity.HIGH,
        Outcome.DETECTED,
        f"TRAILGUARD TAMPERED WITH: {what}" if silences else f"trailguard changed: {what}",
        manual_action="find out who did this; redeploy trailguard (`sam deploy`) to restore "
        "its rules, functions and topic, then run `trailguard status`",
    )
