"""What each delivered alert would look like at the other destinations.

The drill's on-call queue receives the alert topic's document; from it, this
renders the EventBridge entry, the chat notification and the Security Hub finding
with the same renderers the functions use (trailguard.render), so the `--json`
report shows every payload an alert produces.
"""

from __future__ import annotations

from typing import Any

from trailguard.domain.alerts import now
from trailguard.render.asff import asff_finding
from trailguard.render.chat import chat_message
from trailguard.render.document import alert_from_document
from trailguard.render.eventbridge import DEFAULT_BUS, alert_event


def payloads(document: dict[str, Any]) -> dict[str, Any]:
    if document.get("schema") != "trailguard.alert/1":
        return {}  # not one of trailguard's alerts (a CloudWatch alarm, say)
    alert = alert_from_document(document)
    region = alert.context.function_region or alert.region
    # UpdatedAt is the time of the import: the repair, the event or now stands in for it.
    moment = alert.repaired_at or (alert.event.event_time if alert.event else now())
    entry = alert_event(alert).entry(DEFAULT_BUS)
    return {
        "eventBridge": entry,
        "chat": chat_message(alert),
        "securityHub": asff_finding(alert, region, moment),
    }
