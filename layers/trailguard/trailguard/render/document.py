"""The alert as a JSON document (schema trailguard.alert/1): the machine body."""

from __future__ import annotations

from typing import Any

from trailguard.domain.alerts import Alert


def alert_document(alert: Alert) -> dict[str, Any]:
    event = alert.event
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
    }
    if alert.blind_window is not None:
        document["blindWindow"] = alert.blind_window.document()
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
