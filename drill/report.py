"""The machine-readable drill report (`--json`)."""

from __future__ import annotations

from typing import Any

from drill.destinations import payloads
from drill.invariants import Check
from drill.routing import Delivery, Invocation
from drill.runner import AFTER_ATTACK, AFTER_TRAILGUARD, BEFORE, DrillReport, Play
from drill.world import DeliveredAlert

SCHEMA = "trailguard.drill/1"
_MOMENTS = {BEFORE: "before", AFTER_ATTACK: "afterAttack", AFTER_TRAILGUARD: "afterTrailguard"}


def _check(check: Check) -> dict[str, Any]:
    return {
        "key": check.key,
        "label": check.label,
        "holds": check.holds,
        "state": check.state,
        "detail": check.detail or None,
        "invariant": check.invariant,
    }


def _object(value: Any) -> dict[str, Any]:
    # Replayed files may be malformed on purpose: report what is there.
    return value if isinstance(value, dict) else {}


def _event(event: dict[str, Any]) -> dict[str, Any]:
    detail = _object(event.get("detail"))
    identity = _object(detail.get("userIdentity"))
    return {
        "detailType": event.get("detail-type"),
        "id": detail.get("eventID"),
        "name": detail.get("eventName"),
        "source": event.get("source"),
        "time": detail.get("eventTime") or event.get("time"),
        "resources": event.get("resources") or [],
        "principalType": identity.get("type"),
        "principalArn": identity.get("arn"),
        "userAgent": detail.get("userAgent"),
        "sourceIp": detail.get("sourceIPAddress"),
        "errorCode": detail.get("errorCode"),
    }


def _invocation(invocation: Invocation) -> dict[str, Any]:
    return {
        "trigger": invocation.trigger,  # "rule" (an event pattern) or "schedule"
        "rule": invocation.rule_id,
        "function": invocation.function_id,
        "outcome": invocation.outcome,
        "actions": invocation.actions,
        "result": invocation.summary,
        "error": invocation.error or None,
        "handlerSeconds": round(invocation.handler_seconds, 4),
        "coldStart": invocation.cold_start,
        "metrics": list(invocation.printed.metrics),
        "logs": list(invocation.printed.logs),
        "otherOutput": list(invocation.printed.other),
    }


def _alert(alert: DeliveredAlert) -> dict[str, Any]:
    return {
        "subject": alert.subject,
        "severity": alert.severity,
        "outcome": alert.outcome,
        "secondsToRepair": alert.document.get("secondsToRepair"),
        "attributes": alert.attributes,
        "document": alert.document,
        # The same alert at the other destinations: eventBridge, chat, securityHub.
        "destinations": payloads(alert.document),
    }


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "event": _event(delivery.event),
        "schedule": delivery.schedule or None,
        "invocations": [_invocation(i) for i in delivery.invocations],
        "alerts": [_alert(a) for a in delivery.alerts],
        # No rule matched: the nearest rules and the fields of their patterns the event failed.
        "unmatched": [
            {"rule": m.rule_id, "function": m.function_id, "reasons": list(m.reasons)}
            for m in delivery.unmatched
        ],
        "witnessed": [
            {
                "rule": w.rule_id,
                "outcome": w.outcome,
                "label": w.label,
                "subject": w.subject or None,
                "message": w.message,
            }
            for w in delivery.witnessed
        ],
    }


def _play(play: Play) -> dict[str, Any]:
    return {
        "name": play.name,
        "title": play.title,
        "note": play.note or None,
        "attack": play.attack or None,
        "attacks": list(play.attacks),
        "detectedBy": play.detected_by,
        "attackError": play.attack_error or None,
        "attackedAt": play.attacked_at or None,
        "states": {_MOMENTS[moment]: [_check(c) for c in checks] for moment, checks in play.states},
        "deliveries": [_delivery(d) for d in play.deliveries],
        "repaired": play.repaired,
        "asExpected": not play.problems and not play.failures,
        "problems": list(play.problems),
    }


def summary(report: DrillReport) -> dict[str, int]:
    return {
        "played": len(report.plays),
        "repaired": sum(play.repaired for play in report.plays),
        "repairedBySchedule": sum(play.repaired_by_schedule for play in report.plays),
        "alertOnly": sum(bool(play.alerts) and not play.repaired for play in report.plays),
        "alertsDelivered": sum(len(play.alerts) for play in report.plays),
        "failures": sum(len(play.failures) for play in report.plays),
        "unexpected": sum(bool(play.problems) for play in report.plays),
        "invariantsBroken": len(report.broken),
    }


def as_json(report: DrillReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "kind": report.kind,
        "startedAt": report.started_at,
        "setupSeconds": round(report.setup_seconds, 3),
        "seconds": round(report.seconds, 3),
        "plays": [_play(p) for p in report.plays],
        "invariants": [_check(c) for c in report.final],
        "observations": [_check(c) for c in report.observed],
        "summary": summary(report),
        "ok": report.exit_code == 0,
        "exitCode": report.exit_code,
    }
