"""Rendering that never raises: if any field breaks the full alert, a minimal one goes out.

Attacker-controlled text is cleaned where it enters (domain/text.py), so the full
rendering should never fail. But an alert is the one output trailguard must not lose:
an exception here would leave a repair (or an attack) unreported. So the full
rendering is checked (it must encode as UTF-8, fit SNS's limits, and carry no line
break or control character the e-mail text did not put there itself), and anything
wrong gives way to a minimal alert built only from trailguard's own words and values
that are ASCII by construction.
"""

from __future__ import annotations

import json
import logging
import re

from trailguard.domain.alerts import Alert
from trailguard.domain.text import ascii_line, is_unsafe
from trailguard.render.sns import SUBJECT_LIMIT, RenderedAlert, render

logger = logging.getLogger("trailguard")

# SNS: the message, subject and attributes together at most 256 KiB.
_SNS_LIMIT = 256 * 1024
_PROTOCOLS = ("default", "email", "email-json", "sqs", "lambda", "https", "http")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}", re.ASCII)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)


def render_safely(alert: Alert) -> RenderedAlert:
    """The full rendering when it is sound; otherwise the minimal alert. Never raises."""
    try:
        rendered = render(alert)
        problem = _problem(rendered)
    except Exception as exc:
        problem = f"{type(exc).__name__} while rendering"
    if not problem:
        return rendered
    # repr() escapes whatever broke the rendering, so the log line itself cannot break.
    logger.error(
        "alert could not be rendered in full; sending the minimal alert",
        extra={"problem": problem, "alert": _safe(alert, 20_000)},
    )
    return minimal(alert, problem)


def _problem(rendered: RenderedAlert) -> str:
    """'' when the rendered alert is safe to publish, else what is wrong with it."""
    if not rendered.subject.isascii() or not rendered.subject.isprintable():
        return "subject is not one ASCII line"
    size = len(rendered.subject) + len(rendered.message.encode("utf-8"))
    for name, attribute in rendered.attributes.items():
        size += len(name) + len(attribute["StringValue"].encode("utf-8"))
    if size > _SNS_LIMIT:
        return "message exceeds SNS's 256 KiB"
    bodies = json.loads(rendered.message)
    email = bodies.get("email", "")
    # The e-mail text's own line breaks are "\n"; any other unsafe character got in
    # from a field that was not cleaned where it entered.
    if any(ch != "\n" and is_unsafe(ch) for ch in email):
        return "e-mail text carries a control or line-separator character"
    return ""


def _safe(value: object, limit: int = 200) -> str:
    """Any value as one printable ASCII line (repr escapes everything else)."""
    try:
        text = value if isinstance(value, str) and value.isascii() else repr(value)
        return ascii_line(text, limit)
    except Exception:
        return "?"


def minimal(alert: Alert, problem: str) -> RenderedAlert:
    """The alert reduced to fields that cannot break anything. Never raises."""
    try:
        severity = alert.severity.value
        outcome = alert.outcome.value
    except Exception:
        severity, outcome = "CRITICAL", "notice"
    event = getattr(alert, "event", None)
    event_name = getattr(event, "event_name", "")
    event_name = event_name if isinstance(event_name, str) and _NAME.fullmatch(event_name) else ""
    account = getattr(alert, "account_id", "")
    account = account if isinstance(account, str) and _ACCOUNT.fullmatch(account) else "?"
    headline = _safe(getattr(alert, "headline", ""))
    invariant = _safe(getattr(alert, "invariant", ""))
    resource = _safe(getattr(alert, "resource", ""), 1024)
    region = _safe(getattr(alert, "region", ""), 32)
    detected_by = _safe(getattr(alert, "detected_by", ""), 32)
    event_id = _safe(getattr(event, "event_id", ""), 64)
    error = _safe(problem)
    document = {
        "schema": "trailguard.alert/1",
        "minimal": True,
        "renderError": error,
        "severity": severity,
        "outcome": outcome,
        "headline": headline,
        "invariant": invariant,
        "resource": resource,
        "account": account,
        "region": region,
        "detectedBy": detected_by,
        "event": {"id": event_id, "name": event_name},
    }
    email = (
        f"trailguard {severity}: {headline}\n\n"
        f"Invariant:     {invariant}\n"
        f"Resource:      {resource}\n"
        f"Account:       {account}   Region: {region}\n"
        f"Event:         {event_name or '-'} {event_id}\n\n"
        f"This alert could not be rendered in full ({error}). "
        "The function's log has the whole alert.\n"
    )
    machine = json.dumps(document, sort_keys=True)
    message = json.dumps({p: (email if p == "email" else machine) for p in _PROTOCOLS})
    subject = ascii_line(
        f"[trailguard] {severity} {event_name or 'alert'}: {headline}", SUBJECT_LIMIT
    )
    attributes = {
        "severity": severity,
        "outcome": outcome,
        "invariant": invariant or "-",
        "account": account,
        "event_name": event_name or detected_by or "-",
    }
    return RenderedAlert(
        subject=subject,
        message=message,
        attributes={
            key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()
        },
    )
