from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from trailguard.domain.alerts import ActionRecord, Alert, Outcome, Severity
from trailguard.domain.events import parse_api_call_event
from trailguard.render.sns import render

HOSTILE = 'curl/8 <img src=x onerror=alert(1)> " ; $(reboot) {subject} %s'


def _alert(event: Any, **changes: Any) -> Alert:
    raw = event("stop_logging.json")
    raw["detail"]["userAgent"] = HOSTILE
    parsed = parse_api_call_event(raw)
    alert = Alert(
        severity=Severity.HIGH,
        outcome=Outcome.REPAIRED,
        headline="drift repaired and verified",
        invariant="I2 trail logging",
        resource="arn:aws:cloudtrail:us-east-1:111111111111:trail/t",
        account_id="111111111111",
        region="us-east-1",
        event=parsed,
        drift=("the trail is not logging",),
        actions=(ActionRecord("StartLogging", "arn", "ok"),),
        repaired_at=parsed.event_time.replace(second=2),
    )
    return replace(alert, **changes)


def test_message_is_json_with_default_email_and_sqs_bodies(event: Any) -> None:
    rendered = render(_alert(event))
    bodies = json.loads(rendered.message)

    assert {"default", "email", "sqs", "lambda", "https"} <= set(bodies)
    document = json.loads(bodies["sqs"])
    assert document["actor"]["userAgent"] == HOSTILE
    assert document["secondsToRepair"] == 2.0
    assert document["event"]["id"] == "00000000-0000-0000-1234-567890ac49ab"


def test_email_quotes_attacker_text_as_data(event: Any) -> None:
    email = json.loads(render(_alert(event)).message)["email"]

    assert f"User agent:  {json.dumps(HOSTILE)}" in email
    assert "Event to repair: 2.000 s" in email


def test_subject_is_ascii_one_line_at_most_100(event: Any) -> None:
    alert = _alert(event, headline="x" * 300 + "\n\u00e9")
    subject = render(alert).subject

    assert len(subject) <= 100
    assert subject.isascii() and "\n" not in subject


def test_attributes_allow_filtering(event: Any) -> None:
    attributes = render(_alert(event)).attributes

    assert attributes["severity"] == {"DataType": "String", "StringValue": "HIGH"}
    assert attributes["event_name"]["StringValue"] == "StopLogging"
    assert set(attributes) == {
        "severity",
        "outcome",
        "invariant",
        "account",
        "event_name",
        "dedup_key",
    }


def test_huge_alert_stays_under_the_sns_limit(event: Any) -> None:
    alert = _alert(event, drift=tuple("d" * 1000 for _ in range(400)))

    rendered = render(alert)

    assert len(rendered.message.encode()) < 256 * 1024


def test_critical_email_names_the_manual_action(event: Any) -> None:
    alert = _alert(
        event,
        severity=Severity.CRITICAL,
        outcome=Outcome.REMEDIATION_FAILED,
        manual_action="recreate the bucket",
    )

    email = json.loads(render(alert).message)["email"]

    assert "MANUAL ACTION NEEDED\n  recreate the bucket" in email
