"""The alert as one SNS message (MessageStructure=json): e-mail text for `email`,
the JSON document for every other protocol, and attributes for filter policies.

Rendering is pure. Attacker-controlled values are only ever placed as quoted
data: JSON escapes them in the machine body, and the e-mail text quotes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from trailguard.domain.alerts import Alert
from trailguard.domain.text import ascii_line
from trailguard.render import content
from trailguard.render.document import alert_document
from trailguard.render.email import email_text

SUBJECT_LIMIT = 100
# SNS's 256 KiB covers body and attributes; stay well inside it.
_MESSAGE_BUDGET = 200 * 1024


@dataclass(frozen=True)
class RenderedAlert:
    subject: str
    message: str  # the JSON document SNS expects with MessageStructure=json
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)


def subject_for(alert: Alert) -> str:
    # An alert no event triggered (the schedule) names the resource instead of a call.
    if alert.event is not None:
        name = alert.event.event_name
    else:
        name = f"{alert.detected_by} {content.short_resource(alert)}"
    text = ascii_line(f"[trailguard] {alert.severity.value} {name}: {alert.headline}", 10_000)
    if len(text) <= SUBJECT_LIMIT:
        return text
    # Cut at a word so that the subject never ends mid-word; the body has it all.
    cut = text[: SUBJECT_LIMIT - 3].rsplit(" ", 1)[0]
    return cut + "..."


def render(alert: Alert) -> RenderedAlert:
    document = alert_document(alert)
    machine = json.dumps(document, sort_keys=True)
    human = email_text(alert)
    if len(machine.encode()) + len(human.encode()) > _MESSAGE_BUDGET:
        document["drift"] = [*document["drift"][:20], "(truncated)"]
        document["detail"] = document["detail"][:2000]
        machine = json.dumps(document, sort_keys=True)
        human = human[:20000] + "\n(truncated)\n"
    message = json.dumps(
        {
            "default": machine,
            "email": human,
            "email-json": machine,
            "sqs": machine,
            "lambda": machine,
            "https": machine,
            "http": machine,
        }
    )
    attributes = {
        "severity": alert.severity.value,
        "outcome": alert.outcome.value,
        "invariant": alert.invariant,
        "account": alert.account_id,
        "event_name": alert.event.event_name if alert.event else alert.detected_by,
        # Subscribers (a PagerDuty or Opsgenie integration) can filter and group on it.
        "dedup_key": content.dedup_key(alert),
    }
    return RenderedAlert(
        subject=subject_for(alert),
        message=message,
        attributes={
            key: {"DataType": "String", "StringValue": ascii_line(value, 256) or "-"}
            for key, value in attributes.items()
        },
    )
