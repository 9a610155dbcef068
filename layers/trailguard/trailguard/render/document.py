"""The alert as a JSON document (schema trailguard.alert/1): the machine body.

`alert_from_document` reads a document back into the alert model, so that a
consumer holding only the document (the drill's report) can render it for the
other destinations exactly as the publisher did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trailguard.domain.alerts import ActionRecord, Alert, AlertContext, Outcome, Severity
from trailguard.domain.events import ApiCallEvent, Principal
from trailguard.render import content


def alert_document(alert: Alert) -> dict[str, Any]:
    event = alert.event
    technique = content.technique(alert)
    document: dict[str, Any] = {
        "schema": "trailguard.alert/1",
        "severity": alert.severity.value,
        "outcome": alert.outcome.value,
        "headline": alert.headline,
        "invariant": alert.invariant,
        "resource": alert.resource,
        "account": alert.account_id,
        "region": alert.region,
        "detectedBy": alert.detected_by,
        "drift": list(alert.drift),
        "actions": [
            {"call": a.call, "target": a.target, "result": a.result} for a in alert.actions
        ],
        "verification": alert.verification,
        "manualAction": alert.manual_action,
        "detail": alert.detail,
        "repairedAt": alert.repaired_at.isoformat() if alert.repaired_at else None,
        "secondsToRepair": alert.seconds_to_repair,
        # Added fields (the schema only grows): who should look, where, and how to group.
        "dedupKey": content.dedup_key(alert),
        "accountAlias": alert.context.account_alias or None,
        "stackName": alert.context.stack_name or None,
        "logGroup": alert.context.log_group or None,
        "functionRegion": alert.context.function_region or None,
        "technique": {
            "id": technique.id,
            "name": technique.name,
            "tactic": technique.tactic,
            "url": technique.url,
        },
        "nextSteps": content.next_steps(alert),
        "links": content.links(alert),
    }
    if event is not None:
        document["event"] = {
            "id": event.event_id,
            "name": event.event_name,
            "source": event.event_source,
            "time": event.event_time.isoformat(),
            "region": event.region,
            "errorCode": event.error_code or None,
            "errorMessage": event.error_message or None,
        }
        document["actor"] = {
            "type": event.principal.type,
            "arn": event.principal.arn,
            "accountId": event.principal.account_id,
            "sessionIssuer": event.principal.session_issuer_arn or None,
            "invokedBy": event.principal.invoked_by or None,
            "sourceIp": event.source_ip,
            "userAgent": event.user_agent,
        }
    return document


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _event(document: Mapping[str, Any]) -> ApiCallEvent | None:
    event, actor = document.get("event"), document.get("actor")
    if not isinstance(event, dict) or not isinstance(actor, dict):
        return None
    event_time = _time(event.get("time"))
    if event_time is None:
        return None
    return ApiCallEvent(
        event_id=_text(event.get("id")),
        event_name=_text(event.get("name")),
        event_source=_text(event.get("source")),
        event_time=event_time,
        region=_text(event.get("region")),
        account_id=_text(document.get("account")),
        principal=Principal(
            type=_text(actor.get("type")),
            arn=_text(actor.get("arn")),
            account_id=_text(actor.get("accountId")),
            session_issuer_arn=_text(actor.get("sessionIssuer")),
            invoked_by=_text(actor.get("invokedBy")),
        ),
        source_ip=_text(actor.get("sourceIp")),
        user_agent=_text(actor.get("userAgent")),
        error_code=_text(event.get("errorCode")),
        error_message=_text(event.get("errorMessage")),
    )


def alert_from_document(document: Mapping[str, Any]) -> Alert:
    """The alert a trailguard.alert/1 document was rendered from (request parameters,
    which no document carries, excepted)."""
    return Alert(
        severity=Severity(document["severity"]),
        outcome=Outcome(document["outcome"]),
        headline=_text(document.get("headline")),
        invariant=_text(document.get("invariant")),
        resource=_text(document.get("resource")),
        account_id=_text(document.get("account")),
        region=_text(document.get("region")),
        event=_event(document),
        detected_by=_text(document.get("detectedBy")) or "event",
        drift=tuple(_text(item) for item in document.get("drift") or ()),
        actions=tuple(
            ActionRecord(_text(a.get("call")), _text(a.get("target")), _text(a.get("result")))
            for a in document.get("actions") or ()
            if isinstance(a, dict)
        ),
        verification=_text(document.get("verification")),
        manual_action=_text(document.get("manualAction")),
        detail=_text(document.get("detail")),
        repaired_at=_time(document.get("repairedAt")),
        context=AlertContext(
            stack_name=_text(document.get("stackName")),
            account_alias=_text(document.get("accountAlias")),
            function_region=_text(document.get("functionRegion")),
            log_group=_text(document.get("logGroup")),
        ),
    )
