"""Blind windows and delivery health as pure logic (domain/blind_window.py,
domain/delivery.py, protected/trail_delivery.py's selectors rule, the e-mail section)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.fakes import REF
from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.domain.blind_window import (
    BlindWindow,
    Call,
    Observation,
    PendingWindow,
    TrailHealth,
    bounded,
    restart_between,
    write_calls,
)
from trailguard.domain.delivery import Channel, DeliveryProblem, signature
from trailguard.domain.trails import Selectors
from trailguard.protected.trail_delivery import merged, records_management_events
from trailguard.render.document import alert_document
from trailguard.render.email import email_text

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ROLE = "arn:aws:iam::111111111111:role/trailguard-RestoreTrailRole-EXAMPLE"


def _seen(at: datetime, start: datetime | None, stop: datetime | None = None) -> Observation:
    return Observation(at, True, True, start, stop)


def test_a_stop_and_start_between_two_looks_is_a_window() -> None:
    before = _seen(T0, T0 - timedelta(days=1))
    now = _seen(T0 + timedelta(minutes=1), T0 + timedelta(seconds=40), T0 + timedelta(seconds=10))
    assert restart_between(before, now) == (T0 + timedelta(seconds=10), T0 + timedelta(seconds=40))


def test_no_restart_no_window_and_a_known_window_is_not_repeated() -> None:
    before = _seen(T0, T0 - timedelta(days=1))
    assert restart_between(before, _seen(T0 + timedelta(minutes=1), T0 - timedelta(days=1))) is None
    now = _seen(T0 + timedelta(minutes=1), T0 + timedelta(seconds=40), T0 + timedelta(seconds=10))
    known = PendingWindow(T0 + timedelta(seconds=10), T0 + timedelta(seconds=41), "repair", T0)
    assert restart_between(before, now, [known]) is None


def test_a_first_look_reports_only_a_recent_stop() -> None:
    recent = _seen(T0, T0 - timedelta(minutes=2), T0 - timedelta(minutes=3))
    assert restart_between(None, recent) is not None
    old = _seen(T0, T0 - timedelta(days=2), T0 - timedelta(days=3))
    assert restart_between(None, old) is None


def test_write_calls_leave_out_reads_and_trailguards_own() -> None:
    def event(name: str, read_only: str, issuer: str = "") -> dict[str, object]:
        identity: dict[str, object] = {"type": "Root", "arn": "arn:aws:iam::111111111111:root"}
        if issuer:
            identity = {
                "type": "AssumedRole",
                "arn": "x",
                "sessionContext": {"sessionIssuer": {"arn": issuer}},
            }
        return {
            "EventId": name,
            "EventName": name,
            "ReadOnly": read_only,
            "EventTime": T0,
            "EventSource": "iam.amazonaws.com",
            "CloudTrailEvent": json.dumps(
                {"userIdentity": identity, "sourceIPAddress": "203.0.113.9\x1b[31m"}
            ),
        }

    calls = write_calls(
        [
            event("CreateAccessKey", "false"),
            event("GetUser", "true"),
            event("StartLogging", "false", ROLE),
        ],
        "us-east-1",
        [ROLE],
    )
    [call] = calls
    assert call.name == "CreateAccessKey" and "\x1b" not in call.source_ip


def test_windows_are_bounded_and_overlapping_ones_merge() -> None:
    calls = [Call(str(n), T0 + timedelta(seconds=n), "X", "s", "p", "ip", "r") for n in range(60)]
    window = bounded(BlindWindow(T0, T0 + timedelta(minutes=1), "why"), calls, 50, unread=True)
    assert len(window.calls) == 50 and window.truncated == 10 and window.unread
    a = PendingWindow(T0, T0 + timedelta(seconds=5), "a", T0, ("1",))
    b = PendingWindow(T0 + timedelta(seconds=3), T0 + timedelta(seconds=9), "b", T0, ("2",))
    c = PendingWindow(T0 + timedelta(minutes=5), T0 + timedelta(minutes=6), "c", T0)
    first, second = merged((c, b, a))
    assert (first.start, first.end, first.seen) == (a.start, b.end, ("1", "2")) and second == c


def test_health_survives_its_json() -> None:
    health = TrailHealth(
        observation=_seen(T0, T0 - timedelta(hours=1), T0 - timedelta(hours=2)),
        last_recording=T0,
        delivery_signature="LatestDeliveryError=AccessDenied",
        delivery_since=T0,
        windows=(PendingWindow(T0, T0, "r", T0, ("e",)),),
        degraded="x",
    )
    assert TrailHealth.from_json(health.to_json()) == health


def test_selectors_that_drop_management_events() -> None:
    assert records_management_events(None)
    assert records_management_events(Selectors())
    assert not records_management_events(
        Selectors(event_selectors=({"IncludeManagementEvents": False, "ReadWriteType": "All"},))
    )
    assert not records_management_events(
        Selectors(event_selectors=({"IncludeManagementEvents": True, "ReadWriteType": "ReadOnly"},))
    )
    management = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
    data = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}
    assert records_management_events(Selectors(advanced_event_selectors=(management,)))
    assert not records_management_events(Selectors(advanced_event_selectors=(data,)))


def test_the_same_errors_are_the_same_incident() -> None:
    a = DeliveryProblem(Channel.LOG_FILES, "AccessDenied", "c", "m")
    b = DeliveryProblem(Channel.DIGEST_FILES, "AccessDenied", "c", "m")
    assert signature([a, b]) == signature([b, a]) != signature([a])


def test_the_window_is_in_the_json_and_the_email_with_hostile_strings_quoted() -> None:
    call = Call(
        "id-1", T0, "CreateAccessKey", "iam.amazonaws.com", 'x" | rm', "203.0.113.9", "us-east-1"
    )
    window = BlindWindow(
        T0, T0 + timedelta(seconds=30), "logging was stopped", (call,), regions=("us-east-1",)
    )
    alert = Alert(
        Severity.HIGH,
        Outcome.DETECTED,
        "blind",
        "I2",
        REF.arn,
        "111111111111",
        "us-east-1",
        blind_window=window,
    )
    document = alert_document(alert)["blindWindow"]
    assert document["seconds"] == 30 and document["calls"][0]["eventName"] == "CreateAccessKey"
    assert document["truncated"] == 0 and "management account only" in document["coverage"]
    text = email_text(alert)
    assert "While the trail was blind" in text
    assert '"x\\" | rm"' in text
    assert "Not final" in text and "management account only" in text


def test_the_delivery_threshold_is_a_validated_setting() -> None:
    import pytest

    from tests.unit.test_settings import VALID
    from trailguard.settings import SettingsError, settings_from

    assert settings_from(VALID).delivery_stale_after_minutes == 120
    assert (
        settings_from({**VALID, "DELIVERY_STALE_AFTER_MINUTES": "240"}).delivery_stale_after_minutes
        == 240
    )
    for bad in ("30", "two hours", "99999"):
        with pytest.raises(SettingsError, match="DELIVERY_STALE_AFTER_MINUTES"):
            settings_from({**VALID, "DELIVERY_STALE_AFTER_MINUTES": bad})


def test_the_window_survives_the_document_round_trip() -> None:
    from trailguard.render.document import alert_from_document

    call = Call("id-1", T0, "CreateAccessKey", "iam.amazonaws.com", "p", "203.0.113.9", "us-east-1")
    window = BlindWindow(
        T0, T0 + timedelta(seconds=3), "why", (call,), truncated=2, regions=("us-east-1",)
    )
    alert = Alert(
        Severity.HIGH,
        Outcome.DETECTED,
        "blind",
        "I2",
        REF.arn,
        "111111111111",
        "us-east-1",
        blind_window=window,
    )
    assert alert_from_document(alert_document(alert)).blind_window == window
