"""The alert as e-mail text: readable, with attacker-controlled values quoted."""

from __future__ import annotations

import json

from trailguard.domain.alerts import Alert


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
