"""Tampering with trailguard itself: its rules, functions, alert path, stack and roles.

An attacker who wants the trail blind for long first silences the guard: disables
a rule, removes its target, deletes or reconfigures a function, disables the alert
topic's KMS key (which silences every alert and every alarm at once), filters the
on-call subscription, disables or deletes the alarms, updates or deletes the stack,
or gives trailguard's roles to code of their own. Each of these is CRITICAL.

What can be put back safely is repaired and verified: the alert key re-enabled
(and its deletion cancelled), alarm actions re-enabled, a disabled rule
re-enabled. Everything else names the manual action (a redeploy, or undoing an
IAM change). While the alert key is unusable, SNS cannot deliver: the CRITICAL
goes to the witness first (companions/witness), then the key is repaired, then
the verified CRITICAL goes everywhere.

trailguard's resources are recognised by name: CloudFormation names them
`<stack name>-<logical id>-<suffix>`; the alert key, the alert topic, the roles and
the stack itself are compared exactly with the deployment's settings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trailguard.domain.alerts import ActionRecord, Outcome, Severity
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict
from trailguard.domain.text import clean_text
from trailguard.engine.remediation import (
    Dependencies,
    Result,
    Subject,
    fail_loudly,
    notify,
    report_only,
    screen,
)
from trailguard.errors import AlertNotDelivered, AwsCallFailed, InvalidEvent, RemediationFailed

logger = logging.getLogger("trailguard")
# What is watched, not a verdict: the alert may be CRITICAL about it.
INVARIANT = "trailguard's own resources"
CLOUDFORMATION = "cloudformation.amazonaws.com"
REDEPLOY = (
    "find out who did this; redeploy trailguard (`sam deploy`) to restore its rules, "
    "functions, alarms and topic, then run `trailguard status`"
)

# Lambda's CloudTrail event names carry an API version: DeleteFunction20150331.
_API_VERSION = re.compile(r"(\d{8}(v\d+)?)$")

# Calls that silence or blind trailguard: CRITICAL unless made by a deployment.
SILENCING = {
    "DisableRule": "an EventBridge rule was disabled",
    "DeleteRule": "an EventBridge rule was deleted",
    "RemoveTargets": "targets were removed from an EventBridge rule",
    "PutRule": "an EventBridge rule was changed (its state or pattern)",
    "PutTargets": "an EventBridge rule's targets were replaced",
    "DeleteFunction": "a function was deleted",
    "UpdateFunctionConfiguration": "a function's configuration or environment was changed",
    "UpdateFunctionCode": "a function's code was replaced",
    "RemovePermission": "a function's invoke permission was removed",
    "CreateFunction": "a function was created with one of trailguard's roles",
    "DeleteTopic": "the alert topic was deleted",
    "SetTopicAttributes": "the alert topic's attributes (policy or key) were changed",
    "Unsubscribe": "a subscription to the alert topic was removed",
    "SetSubscriptionAttributes": "a subscription's attributes (such as its filter policy) "
    "were changed",
    "DeleteTable": "a table was deleted",
    "PutResourcePolicy": "a table's resource policy was changed: the baseline table refuses "
    "writes by anyone but trailguard only through it",
    "DeleteResourcePolicy": "a table's resource policy was deleted: anyone allowed by IAM "
    "may now write the baselines",
    "DisableKey": "the alert topic's KMS key was disabled: no alert or alarm can be delivered",
    "ScheduleKeyDeletion": "the alert topic's KMS key was scheduled for deletion: no alert or "
    "alarm can be delivered",
    "PutKeyPolicy": "the alert topic's KMS key policy was changed",
    "DisableAlarmActions": "trailguard's alarm actions were disabled",
    "DeleteAlarms": "trailguard's alarms were deleted",
    "PutMetricAlarm": "one of trailguard's alarms was changed",
    "UpdateStack": "trailguard's stack was updated",
    "ExecuteChangeSet": "a change set was executed on trailguard's stack",
    "DeleteStack": "trailguard's stack was deleted",
    "UpdateAssumeRolePolicy": "the trust policy of one of trailguard's roles was changed",
    "PutRolePolicy": "an inline policy of one of trailguard's roles was changed",
    "DeleteRolePolicy": "an inline policy of one of trailguard's roles was deleted",
    "AttachRolePolicy": "a managed policy was attached to one of trailguard's roles",
    "DetachRolePolicy": "a managed policy was detached from one of trailguard's roles",
    "DeleteRole": "one of trailguard's roles was deleted",
    "PutRolePermissionsBoundary": "a permissions boundary was set on one of trailguard's roles",
    "DeleteRolePermissionsBoundary": "the permissions boundary of one of trailguard's roles "
    "was removed",
}
# Changes that do not silence trailguard by themselves: HIGH.
ALTERING = {
    "PutFunctionConcurrency": "a function's concurrency was changed",
}
ROLE_EVENTS = frozenset(
    {
        "UpdateAssumeRolePolicy",
        "PutRolePolicy",
        "DeleteRolePolicy",
        "AttachRolePolicy",
        "DetachRolePolicy",
        "DeleteRole",
        "PutRolePermissionsBoundary",
        "DeleteRolePermissionsBoundary",
    }
)
KEY_EVENTS = frozenset({"DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy"})
ALARM_EVENTS = frozenset({"DisableAlarmActions", "DeleteAlarms", "PutMetricAlarm"})
STACK_EVENTS = frozenset({"UpdateStack", "ExecuteChangeSet", "DeleteStack"})
_REMOVING = ("Delete", "Disable", "Remove", "Unsubscribe", "Schedule", "Detach")
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


def _names(value: object) -> list[str]:
    """A request parameter that is a list of names (alarmNames), strings only."""
    if not isinstance(value, list):
        return []
    return [item for item in value[:100] if isinstance(item, str) and len(item) <= 512]


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].lower()


def own_role(arn_or_name: str, settings: Any) -> bool:
    """One of trailguard's roles (IAM role names are case-insensitive)."""
    name = _role_name(arn_or_name) if arn_or_name else ""
    return bool(name) and name in {_role_name(a) for a in settings.remediator_role_arns}


def is_own_stack(stack: str, stack_name: str) -> bool:
    """The stack by name, or by ARN (arn:aws:cloudformation:<r>:<a>:stack/<name>/<id>)."""
    if not stack or not stack_name:
        return False
    if stack.startswith("arn:"):
        parts = stack.split(":", 5)[-1].split("/")
        return len(parts) >= 2 and parts[0] == "stack" and parts[1] == stack_name
    return stack == stack_name


def _key_id(value: str) -> str:
    """The key id of a key id or key ARN (arn:aws:kms:<r>:<a>:key/<id>)."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def is_alert_key(key: str, alert_key_arn: str) -> bool:
    return bool(key and alert_key_arn) and _key_id(key) == _key_id(alert_key_arn)


def _is_alert_subscription(subscription: str, settings: Any) -> bool:
    topic = settings.alert_topic_arn
    return bool(topic) and subscription.startswith(f"{topic}:")


@dataclass(frozen=True)
class Step:
    call: str
    target: str
    run: Callable[[], None]


@dataclass(frozen=True)
class Finding:
    """What the event did to trailguard, and how to put it back."""

    what: str
    resource: str
    silences: bool
    steps: tuple[Step, ...] = ()
    verify: Callable[[], list[str]] | None = None  # remaining damage, empty when repaired
    manual_action: str = REDEPLOY
    alert_path: bool = False  # the alert topic cannot deliver until repaired
    # Whether CloudFormation acting for the stack (invokedBy), or an allow-listed
    # principal, makes it a deployment: alerted quietly instead of CRITICAL.
    deployment_counts: bool = True
    allow_list_counts: bool = True
    details: tuple[str, ...] = field(default_factory=tuple)


def _rule(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    rule = event.parameter("name", 512) or event.parameter("rule", 512)
    if not is_ours(rule, deps.settings.stack_name):
        return None
    what = SILENCING[name]
    disabled = name == "DisableRule" or (
        name == "PutRule" and str(event.request_parameters.get("state", "")).upper() == "DISABLED"
    )
    if name == "PutRule" and disabled:
        what = "an EventBridge rule was disabled (PutRule with State DISABLED)"
    if not disabled or deps.own is None:
        return Finding(what, rule, True)
    bus = event.parameter("eventBusName", 512) or "default"
    rules = deps.own.rules

    def remaining() -> list[str]:
        state = rules.state(rule, bus)
        return [] if state == "ENABLED" else [f"the rule is {state or 'missing'}"]

    return Finding(
        what,
        rule,
        True,
        steps=(Step("EnableRule", rule, lambda: rules.enable(rule, bus)),),
        verify=remaining,
    )


def _function(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    function = event.parameter("functionName", 512)
    ours = is_ours(function, deps.settings.stack_name)
    role = event.parameter("role", 512)
    if name in ("CreateFunction", "UpdateFunctionConfiguration") and own_role(role, deps.settings):
        deployed = ours and event.principal.invoked_by == CLOUDFORMATION
        if not deployed:
            # PassRole decides which code runs as a role: code outside the stack now
            # acts with trailguard's grants, and its calls look like trailguard's own.
            return Finding(
                f"a function was given one of trailguard's roles ({name})",
                function or "(unnamed function)",
                True,
                manual_action="delete the function or give it its own role, then review what "
                "it did with trailguard's role in CloudTrail",
                deployment_counts=False,
                allow_list_counts=False,
                details=(f"role {clean_text(role, 512)}",),
            )
    if not ours or name == "CreateFunction":
        return None
    if name == "PutFunctionConcurrency":
        if event.request_parameters.get("reservedConcurrentExecutions") == 0:
            return Finding(
                "a function was throttled to zero (reserved concurrency 0)", function, True
            )
        return Finding(ALTERING[name], function, False)
    return Finding(SILENCING[name], function, True)


def _topic(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    settings = deps.settings
    if name in ("Unsubscribe", "SetSubscriptionAttributes"):
        subscription = event.parameter("subscriptionArn", 1024)
        if not (
            _is_alert_subscription(subscription, settings)
            or is_ours(subscription, settings.stack_name)
        ):
            return None
        details: tuple[str, ...] = ()
        attribute = event.parameter("attributeName", 64)
        if attribute:
            details = (f"attribute {clean_text(attribute, 64)}",)
        return Finding(SILENCING[name], subscription, True, details=details)
    topic = event.parameter("topicArn", 1024)
    if topic != settings.alert_topic_arn and not is_ours(topic, settings.stack_name):
        return None
    return Finding(SILENCING[name], topic, True)


KEY_MANUAL_ACTION = (
    "enable the alert key (kms:CancelKeyDeletion, kms:EnableKey) and check its key policy "
    "against template.yaml (AlertKey)"
)


def _key_repair(deps: Dependencies, what: str, pending_deletion: bool) -> Finding:
    """Enable the alert key (cancelling its deletion first), verified by DescribeKey."""
    assert deps.own is not None
    keys = deps.own.alert_key
    alert_key = deps.settings.alert_key_arn
    steps = [Step("EnableKey", alert_key, lambda: keys.enable(alert_key))]
    if pending_deletion:
        # A cancelled deletion leaves the key disabled: cancel, then enable.
        steps.insert(
            0, Step("CancelKeyDeletion", alert_key, lambda: keys.cancel_deletion(alert_key))
        )

    def remaining() -> list[str]:
        state = keys.state(alert_key)
        return [] if state == "Enabled" else [f"the alert key is {state}"]

    return Finding(
        what,
        alert_key,
        True,
        steps=tuple(steps),
        verify=remaining,
        manual_action=KEY_MANUAL_ACTION,
        alert_path=True,
    )


_SIGNING_KEY = {
    "DisableKey": "the baseline signing key was disabled: no baseline can be verified, so "
    "no trail can be rebuilt or reverted",
    "ScheduleKeyDeletion": "the baseline signing key was scheduled for deletion: every "
    "baseline becomes unverifiable",
    "PutKeyPolicy": "the baseline signing key's policy was changed: someone else may now "
    "sign baselines",
}


def _key(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    key = event.parameter("keyId", 2048)
    if is_alert_key(key, deps.settings.signing_key_id):
        # No repair: only a human can tell a deliberate key change from an attack.
        return Finding(
            _SIGNING_KEY[name],
            deps.settings.signing_key_id,
            True,
            manual_action="restore the key (EnableKey, CancelKeyDeletion) or its policy from "
            "template.yaml (BaselineSigningKey); redeploy trailguard",
        )
    alert_key = deps.settings.alert_key_arn
    if not is_alert_key(key, alert_key):
        return None
    if name == "PutKeyPolicy" or deps.own is None:
        return Finding(
            SILENCING[name],
            alert_key,
            True,
            manual_action="compare the key policy with template.yaml (AlertKey) and restore "
            "it; redeploy trailguard. The account root must keep its statement, and "
            "sns.amazonaws.com and cloudwatch.amazonaws.com must be able to use the key",
            alert_path=name != "PutKeyPolicy",
        )
    return _key_repair(deps, SILENCING[name], pending_deletion=name == "ScheduleKeyDeletion")


def _alarms(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    stack = deps.settings.stack_name
    if name == "PutMetricAlarm":
        alarm = event.parameter("alarmName", 255)
        return Finding(SILENCING[name], alarm, True) if is_ours(alarm, stack) else None
    ours = [a for a in _names(event.request_parameters.get("alarmNames")) if is_ours(a, stack)]
    if not ours:
        return None
    shown = ", ".join(ours)
    if name == "DeleteAlarms" or deps.own is None:
        return Finding(SILENCING[name], shown, True)
    alarms = deps.own.alarms

    def remaining() -> list[str]:
        enabled = alarms.actions_enabled(ours)
        return [
            f"alarm {alarm} {'has actions disabled' if alarm in enabled else 'is missing'}"
            for alarm in ours
            if not enabled.get(alarm, False)
        ]

    return Finding(
        SILENCING[name],
        shown,
        True,
        steps=(Step("EnableAlarmActions", shown, lambda: alarms.enable_actions(ours)),),
        verify=remaining,
    )


def _stack(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    stack = event.parameter("stackName", 1024)
    if not is_own_stack(stack, deps.settings.stack_name):
        return None
    return Finding(
        SILENCING[name],
        stack,
        True,
        manual_action="find out who changed the stack; read its events "
        "(`aws cloudformation describe-stack-events`), check the parameters (Mode, "
        "AllowedPrincipalArns, ProtectedTrailNames), and redeploy trailguard as approved",
        # CloudFormation never calls these for itself; an allow-listed deploy role updates
        # the stack as its job, but deleting the guard is never routine.
        deployment_counts=False,
        allow_list_counts=name != "DeleteStack",
    )


def _role(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    role = event.parameter("roleName", 128)
    if not own_role(role, deps.settings):
        return None
    return Finding(
        SILENCING[name],
        role,
        True,
        manual_action="undo the IAM change (compare the role with template.yaml) or redeploy "
        "trailguard, then review in CloudTrail what the role did meanwhile",
    )


def _table(event: ApiCallEvent, name: str, deps: Dependencies) -> Finding | None:
    # PutResourcePolicy and DeleteResourcePolicy name the table by ARN.
    arn = event.parameter("resourceArn", 1024)
    table = event.parameter("tableName", 512) or arn.partition(":table/")[2].split("/")[0]
    return (
        Finding(SILENCING[name], table, True) if is_ours(table, deps.settings.stack_name) else None
    )


_BY_SOURCE: dict[str, Callable[[ApiCallEvent, str, Dependencies], Finding | None]] = {
    "events.amazonaws.com": _rule,
    "lambda.amazonaws.com": _function,
    "sns.amazonaws.com": _topic,
    "dynamodb.amazonaws.com": _table,
    "kms.amazonaws.com": _key,
    "monitoring.amazonaws.com": _alarms,
    "cloudformation.amazonaws.com": _stack,
    "iam.amazonaws.com": _role,
}


def _find(event: ApiCallEvent, deps: Dependencies) -> Finding | None:
    name = base_name(event.event_name)
    if name not in SILENCING and name not in ALTERING:
        raise InvalidEvent(f"{event.event_name} is not a change trailguard watches on itself")
    if name in ROLE_EVENTS and event.event_source != "iam.amazonaws.com":
        raise InvalidEvent(f"{event.event_name} is not an IAM call")
    inspect = _BY_SOURCE.get(event.event_source)
    if inspect is None:
        raise InvalidEvent(f"{event.event_source} is not a service trailguard watches on itself")
    return inspect(event, name, deps)


def self_tampering(event: ApiCallEvent, deps: Dependencies) -> Result:
    finding = _find(event, deps)
    if finding is None:
        logger.info(
            "change to a resource that is not trailguard's", extra={"event": event.event_name}
        )
        return Result(Outcome.NOTICE, "(not trailguard's)", "not one of trailguard's resources")

    resource = clean_text(finding.resource, 1024)
    subject = Subject(INVARIANT, resource, event.account_id, event.region, event)
    verdict, screened = screen(
        event, deps, subject, f"refused attempt on trailguard itself: {finding.what}"
    )
    if screened is not None and verdict is not Verdict.OWN_ROLE:
        return screened
    if verdict is Verdict.OWN_ROLE and event.failed:
        return report_only(
            deps,
            subject,
            Severity.WARNING,
            Outcome.ATTEMPT_FAILED,
            f"refused attempt under trailguard's own role: {finding.what}",
        )
    detail = "; ".join(finding.details)
    if verdict is Verdict.OWN_ROLE:
        # trailguard never makes these calls: its role was used by something else.
        detail = f"made under trailguard's own role, which never makes this call. {detail}"
    elif (finding.deployment_counts and event.principal.invoked_by == CLOUDFORMATION) or (
        finding.allow_list_counts and verdict is Verdict.ALLOWED
    ):
        # Deployments change these resources all the time; say so, quietly. Removing
        # something is rarer than changing it: a WARNING.
        # A stack update can switch the mode or the allow-list: a WARNING too.
        name = base_name(event.event_name)
        removes = name.startswith(_REMOVING) or name in STACK_EVENTS
        severity = Severity.WARNING if removes else Severity.INFO
        return report_only(
            deps,
            subject,
            severity,
            Outcome.ALLOWED,
            f"trailguard changed by a deployment: {finding.what}",
        )
    elif verdict is Verdict.ALLOWED:
        detail = f"made by an allow-listed principal, which does not make this routine. {detail}"
    if not finding.silences:
        return report_only(
            deps,
            subject,
            Severity.HIGH,
            Outcome.DETECTED,
            f"trailguard changed: {finding.what}",
            manual_action=finding.manual_action,
            detail=detail.strip(),
        )
    if not finding.steps or finding.verify is None or deps.settings.detect_only:
        return report_only(
            deps,
            subject,
            Severity.CRITICAL,
            Outcome.DETECTED,
            f"TRAILGUARD TAMPERED WITH: {finding.what}",
            manual_action=finding.manual_action,
            detail=detail.strip(),
        )
    return _repair(deps, subject, finding, detail.strip())


def _early_warning(deps: Dependencies, subject: Subject, finding: Finding, detail: str) -> None:
    """While the alert key is unusable SNS cannot deliver (KMSDisabledException): the
    CRITICAL reaches the witness now, before the repair, and on-call after it."""
    alert = subject.alert(
        Severity.CRITICAL,
        Outcome.DETECTED,
        f"TRAILGUARD TAMPERED WITH: {finding.what}",
        manual_action=finding.manual_action,
        detail=f"repairing now; the alert topic cannot deliver until the key is enabled. {detail}",
    )
    try:
        notify(deps, alert)
    except AlertNotDelivered as exc:
        logger.warning(
            "alert topic cannot deliver while its key is unusable", extra={"error": str(exc)}
        )


def _repair(deps: Dependencies, subject: Subject, finding: Finding, detail: str) -> Result:
    assert finding.verify is not None
    if finding.alert_path:
        _early_warning(deps, subject, finding, detail)
    records: list[ActionRecord] = []
    failure: AwsCallFailed | None = None
    for step in finding.steps:
        # Targets come from the event (a rule's or alarm's name): shown cleaned.
        target = clean_text(step.target, 1024)
        code = ""
        try:
            step.run()
        except AwsCallFailed as exc:
            code = exc.code
            failure = exc
        records.append(ActionRecord(step.call, target, code or "ok"))
        if failure is not None:
            break
    try:
        remaining = [clean_text(r, 1024) for r in finding.verify()]
    except AwsCallFailed as exc:
        remaining = [f"state could not be re-read: {exc}"]
        failure = failure or exc
    if failure is None and not remaining:
        alert = subject.alert(
            Severity.CRITICAL,
            Outcome.REPAIRED,
            f"TRAILGUARD TAMPERED WITH: {finding.what}; repaired and verified",
            actions=tuple(records),
            verification="state re-read after repair shows it restored",
            manual_action="find out who did this and why: trailguard put it back, but the "
            "principal can do it again",
            detail=detail,
            repaired_at=deps.clock(),
        )
        return Result(
            Outcome.REPAIRED, subject.resource, "repaired", tuple(records), notify(deps, alert)
        )
    manual = finding.manual_action
    if failure is not None:
        manual = f"{failure.hint}. Then: {manual}"
    alert = subject.alert(
        Severity.CRITICAL,
        Outcome.REMEDIATION_FAILED,
        f"TRAILGUARD TAMPERED WITH: {finding.what}; REPAIR FAILED",
        actions=tuple(records),
        verification="still broken: " + "; ".join(remaining) if remaining else "not verified",
        manual_action=manual,
        detail=f"{failure or ''} {detail}".strip(),
    )
    fail_loudly(deps, alert, f"{subject.resource}: {'; '.join(remaining) or failure}")


def check_alert_key(deps: Dependencies, account_id: str, detected_by: str = "schedule") -> str:
    """The scheduled check of the alert key, for events that never arrived (the rule
    deleted first, say): holds, repaired, or broken. Repairs and alerts as the event would."""
    key = deps.settings.alert_key_arn
    if not key or deps.own is None:
        return ""
    try:
        state = deps.own.alert_key.state(key)
    except AwsCallFailed as exc:
        logger.warning("alert key could not be read", extra={"error": str(exc)})
        return "broken"
    if state == "Enabled":
        return "holds"
    what = (
        f"the alert topic's KMS key is {clean_text(state, 32)}: no alert or alarm can be delivered"
    )
    subject = Subject(INVARIANT, key, account_id, deps.settings.region, None, detected_by)
    repairable = state in ("Disabled", "PendingDeletion")
    if deps.settings.detect_only or not repairable:
        try:
            report_only(
                deps,
                subject,
                Severity.CRITICAL,
                Outcome.DETECTED,
                f"TRAILGUARD TAMPERED WITH: {what}",
                manual_action=KEY_MANUAL_ACTION,
            )
        except AlertNotDelivered:
            logger.warning("alert topic cannot deliver while its key is unusable")
        return "broken"
    try:
        _repair(deps, subject, _key_repair(deps, what, state == "PendingDeletion"), "")
    except RemediationFailed:
        return "broken"
    except AlertNotDelivered:
        return "repaired"  # the key is back; the alert is logged and counted
    return "repaired"
