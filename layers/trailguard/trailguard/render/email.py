"""The alert as e-mail text: readable, with attacker-controlled values quoted."""

from __future__ import annotations

import json

from trailguard.domain.alerts import Alert
from trailguard.render import content


def _quoted(value: str) -> str:
    # json.dumps gives one line, escapes quotes and keeps the value visibly data.
    return json.dumps(value, ensure_ascii=False)


def email_text(alert: Alert) -> str:
    lines = [
        f"trailguard {alert.severity.value}: {alert.headline}",
        "",
        f"Invariant:     {alert.invariant}",
        f"Resource:      {alert.resource}",
        f"Account:       {content.account_label(alert)}   Region: {alert.region}",
        f"Detected by:   {alert.detected_by}",
    ]
    if alert.context.stack_name:
        lines.append(f"Stack:         {alert.context.stack_name}")
    technique = content.technique(alert)
    lines.append(f"ATT&CK:        {technique.id} {technique.name}")
    lines.append(f"Dedup key:     {content.dedup_key(alert)}")
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
    steps = [s for s in content.next_steps(alert) if s != alert.manual_action]
    if steps:
        lines += ["", "Next steps"] + [f"  - {step}" for step in steps]
    links = content.links(alert)
    if links:
        lines += ["", "Links"] + [f"  {name}: {url}" for name, url in links.items()]
    return "\n".join(lines) + "\n"
