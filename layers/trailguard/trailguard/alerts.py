"""Alerts: what happened, who did it, what trailguard did, rendered for SNS.

Rendering is pure. Attacker-controlled values arrive already cleaned (see
text.py) and are only ever placed as quoted data: JSON escapes them in the
machine body, and the e-mail text quotes them, so nothing in them is parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from trailguard.event_model import ApiCallEvent
from trailguard.text import ascii_line

SUBJECT_LIMIT = 100
# SNS's 256 KiB covers body and attributes; stay well inside it.
_MESSAGE_BUDGET = 200 * 1024


class Severity(Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class Outcome(Enum):
    REPAIRED = "repaired"
    DETECTED = "detected"  # detect-only mode: drift seen, nothing changed
    ALLOWED = "allowed"  # allow-listed principal: alerted, not reverted
    ATTEMPT_FAILED = "attempt_failed"  # the API call itself failed: nothing changed
    REMEDIATION_FAILED = "remediation_failed"
    IN_SYNC = "in_sync"
    NOTICE = "notice"


@dataclass(frozen=True)
class ActionRecord:
    call: str
    target: str
    result: str  # "ok" or the error code


@dataclass(frozen=True)
class Alert:
    severity: Severity
    outcome: Outcome
    headline: str  # trailguard's own words only; never attacker text
    invariant: str
    resource: str
    account_id: str
    region: str
    event: ApiCallEvent | None = None
    detected_by: str = "event"
    drift: tuple[str, ...] = ()
    actions: tuple[ActionRecord, ...] = ()
    verification: str = ""
    manual_action: str = ""
    detail: str = ""
    repaired_at: datetime | None = None

    @property
    def seconds_to_repair(self) -> float | None:
        if self.event is None or self.repaired_at is None:
            return None
        return round((self.repaired_at - self.event.event_time).total_seconds(), 3)


@dataclass(frozen=True)
class RenderedAlert:
    subject: str
    message: str  # the JSON document SNS expects with MessageStructure=json
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)


def subject_for(alert: Alert) -> str:
    name = alert.event.event_name if alert.event else alert.detected_by
    text = ascii_line(f"[trailguard] {alert.severity.value} {name}: {alert.headline}", 10_000)
    if len(text) <= SUBJECT_LIMIT:
        return text
    # Cut at a word so that the subject never ends mid-word; the body has it all.
    cut = text[: SUBJECT_LIMIT - 3].rsplit(" ", 1)[0]
    return cut + "..."


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


def _quoted(value: str) -> str:
    # json.dumps gives one line, escapes quotes and keeps the value visibly data.
    return json.dumps(value, ensure_ascii=False)


def email_text(alert: Alert) -> str:
    lines = [
        f"trailguard {alert.severity.value}: {alert.headline}",
        "",
        f"Invariant:     {alert.invariant}",
        f"Resource:      {alert.resource}",
        f"Account:       {alert.account_id}   Region: {alert.region}",
        f"Detected by:   {alert.detected_by}",
    ]
    event = alert.event
    if event is not None:
        lines += [
            "",
            "What happened",
            f"  Call:        {event.event_source} {event.event_name}"
            + (f" (failed: {event.error_code})" if event.error_code else ""),
            f"  When:        {event.event_time.isoformat()}",
            f"  Who:         {_quoted(event.principal.describe())}",
            f"  From:        {_quoted(event.source_ip)}",
            f"  User agent:  {_quoted(event.user_agent)}",
            f"  Event id:    {event.event_id}",
        ]
    if alert.drift:
        lines += ["", "Drift found"] + [f"  - {item}" for item in alert.drift]
    if alert.actions:
        lines += ["", "What trailguard did"] + [
            f"  - {a.call} {a.target}: {a.result}" for a in alert.actions
        ]
    if alert.verification:
        lines += ["", f"Verification:  {alert.verification}"]
    if alert.seconds_to_repair is not None:
        lines.append(f"Event to repair: {alert.seconds_to_repair:.3f} s")
    if alert.detail:
        lines += ["", alert.detail]
    if alert.manual_action:
        lines += ["", "MANUAL ACTION NEEDED", f"  {alert.manual_action}"]
    return "\n".join(lines) + "\n"


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
    }
    return RenderedAlert(
        subject=subject_for(alert),
        message=message,
        attributes={
            key: {"DataType": "String", "StringValue": ascii_line(value, 256) or "-"}
            for key, value in attributes.items()
        },
    )


def now() -> datetime:
    return datetime.now(UTC)
