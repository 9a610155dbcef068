"""What every destination says beyond the bare facts: keys, links, technique, next steps.

Pure functions of the alert model. Every renderer (SNS e-mail and JSON, EventBridge,
chat, Security Hub) takes these from here, so that the destinations never disagree on
a dedup key, a link or an instruction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from trailguard.domain.alerts import Alert, Outcome

# The invariant a self-protection alert carries (protected/trailguard_itself.py; not
# imported from there: render/ stays below protected/ in the layering).
_TRAILGUARD_ITSELF = "trailguard's own resources"


@dataclass(frozen=True)
class Technique:
    """A MITRE ATT&CK (Enterprise) technique."""

    id: str
    name: str

    @property
    def url(self) -> str:
        return "https://attack.mitre.org/techniques/" + self.id.replace(".", "/") + "/"

    @property
    def tactic(self) -> str:
        return "Defense Evasion"  # both techniques below belong to TA0005 only


# Stopping, deleting or weakening a trail, or cutting CloudTrail's access to the
# organization, is "Impair Defenses: Disable or Modify Cloud Logs".
CLOUD_LOGS = Technique("T1562.008", "Impair Defenses: Disable or Modify Cloud Logs")
# Disabling trailguard itself is "Impair Defenses: Disable or Modify Tools".
TOOLS = Technique("T1562.001", "Impair Defenses: Disable or Modify Tools")


def technique(alert: Alert) -> Technique:
    if alert.invariant.startswith(_TRAILGUARD_ITSELF):
        return TOOLS
    return CLOUD_LOGS


def dedup_key(alert: Alert) -> str:
    """One key per account, region, resource and invariant: the same drift, repeated or
    repaired, carries the same key (PagerDuty dedup_key, Opsgenie alias, chat thread,
    Security Hub finding id). Hex, so that it is safe in every one of those fields."""
    material = "\n".join((alert.account_id, alert.region, alert.resource, alert.invariant))
    return "trailguard-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def is_drift(alert: Alert) -> bool:
    """Alerts about the state of an invariant (its drift, repair, or failed repair), as
    opposed to alerts about one call that changed nothing (a refused attempt, an
    allow-listed change, a notice)."""
    return alert.outcome in (
        Outcome.REPAIRED,
        Outcome.DETECTED,
        Outcome.REMEDIATION_FAILED,
        Outcome.IN_SYNC,
    )


def short_resource(alert: Alert) -> str:
    """The resource's name for a subject line: a trail's name rather than its ARN."""
    resource = alert.resource
    if ":trail/" in resource:
        return resource.rsplit(":trail/", 1)[1]
    return resource


def _console(region: str) -> str:
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return "https://console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def event_history_url(alert: Alert) -> str:
    """The triggering call in CloudTrail Event history (recorded there even while the
    trail is stopped), or '' for an alert no event triggered."""
    event = alert.event
    if event is None:
        return ""
    region = event.region
    return (
        f"{_console(region)}/cloudtrailv2/home?region={region}"
        f"#/events/{quote(event.event_id, safe='')}"
    )


def principal_history_url(alert: Alert) -> str:
    """Everything the same principal did, in CloudTrail Event history."""
    event = alert.event
    if event is None or not event.principal.arn:
        return ""
    # Event history filters by user name: the session name for a role session.
    name = event.principal.arn.rsplit("/", 1)[-1]
    region = event.region
    return (
        f"{_console(region)}/cloudtrailv2/home?region={region}"
        f"#/events?Username={quote(name, safe='')}"
    )


def log_group_url(alert: Alert) -> str:
    context = alert.context
    if not context.log_group or not context.function_region:
        return ""
    # The CloudWatch console's fragment encodes '/' twice ('%2F', then '%' as '$25').
    group = quote(quote(context.log_group, safe=""), safe="").replace("%", "$")
    region = context.function_region
    return f"{_console(region)}/cloudwatch/home?region={region}#logsV2:log-groups/log-group/{group}"


def links(alert: Alert) -> dict[str, str]:
    """Console links, by name; links that do not apply are left out."""
    found = {
        "eventHistory": event_history_url(alert),
        "principalHistory": principal_history_url(alert),
        "logGroup": log_group_url(alert),
    }
    return {name: url for name, url in found.items() if url}


def account_label(alert: Alert) -> str:
    alias = alert.context.account_alias
    return f"{alert.account_id} ({alias})" if alias else alert.account_id


def next_steps(alert: Alert) -> list[str]:
    """What on-call should do now, most urgent first. trailguard's words only: an
    attacker-controlled value appears by reference ('the principal'), never inline."""
    steps: list[str] = []
    if alert.manual_action:
        steps.append(alert.manual_action)
    event = alert.event
    outcome = alert.outcome
    if outcome is Outcome.REPAIRED and event is not None:
        steps.append(
            f"Confirm that {event.event_name} by the principal named in this alert was "
            "planned. If it was not, treat it as an incident: revoke the principal's "
            "sessions and credentials, and review everything it did (principalHistory link)."
        )
        if alert.seconds_to_repair is not None:
            steps.append(
                f"The trail may have missed events for up to {alert.seconds_to_repair:.0f} s. "
                "CloudTrail Event history keeps management events even while a trail is "
                "stopped: review that window there (eventHistory link)."
            )
    elif outcome is Outcome.REPAIRED:
        steps.append(
            "No event reported this drift (found by the scheduled check): find who changed "
            f"{short_resource(alert)} in CloudTrail Event history since the previous check, "
            "then treat it as an incident if the change was not planned."
        )
    elif outcome is Outcome.ATTEMPT_FAILED:
        steps.append(
            "The call failed and changed nothing. Find out why the principal tried it: a "
            "refused attempt to blind the trail is often the first step of an intrusion."
        )
    elif outcome is Outcome.ALLOWED:
        steps.append(
            "The principal is allow-listed: confirm the change has a change ticket. A "
            "configuration change became the new baseline."
        )
    elif outcome is Outcome.DETECTED and not alert.manual_action:
        steps.append("Repair by hand, or run `trailguard reconcile` in enforce mode.")
    return steps
