"""The fan-out of an alert (engine/destinations.py), with in-memory destinations:
the alert topic first and decisive, the others best effort, logged and counted."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes import SETTINGS
from trailguard.domain.alerts import Alert, Outcome, Severity
from trailguard.engine.destinations import AlertPublisher
from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard.render.sns import RenderedAlert
from trailguard.settings import SettingsError, settings_from

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ALERT = Alert(
    severity=Severity.HIGH,
    outcome=Outcome.REPAIRED,
    headline="drift repaired and verified",
    invariant="I2 trail logging",
    resource="arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail",
    account_id="111111111111",
    region="us-east-1",
    detected_by="schedule",
)


@dataclass
class Journal:
    """Every destination's calls, in the order they happened."""

    calls: list[tuple[str, Any]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    metrics: list[tuple[str, str, float]] = field(default_factory=list)

    def _call(self, name: str, payload: Any) -> str:
        self.calls.append((name, payload))
        if name in self.failing:
            raise AwsCallFailed(name, "AccessDenied", "denied", "grant it")
        return f"{name}-id"


@dataclass
class Topic:
    journal: Journal

    def publish(self, alert: Alert) -> str:
        try:
            return self.journal._call("sns", alert)
        except AwsCallFailed as exc:
            raise AlertNotDelivered(str(exc), RenderedAlert("s", "m")) from exc

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        return self.journal._call("sns-rendered", rendered)


def publisher(journal: Journal, alias: Any = None, **settings: Any) -> AlertPublisher:
    @dataclass
    class Chat:
        def publish_notification(self, notification: Any) -> str:
            return journal._call("chat", notification)

    @dataclass
    class Findings:
        def import_finding(self, finding: Any) -> None:
            journal._call("securityhub", finding)

    def put_event(bus: str, source: str, detail_type: str, detail: Any, region: str) -> str:
        return journal._call("eventbridge", (bus, source, detail_type, detail, region))

    def read_alias() -> str:
        journal._call("alias", None)
        return "acme-management"

    return AlertPublisher(
        settings=replace(SETTINGS, stack_name="trailguard", **settings),
        topic=Topic(journal),
        put_event=put_event,
        chat=Chat(),
        findings=Findings(),
        account_alias=alias or read_alias,
        metric=lambda name, unit, value: journal.metrics.append((name, unit, value)),
        clock=lambda: NOW,
    )


def _names(journal: Journal) -> list[str]:
    return [name for name, _ in journal.calls]


def test_alert_topic_first_then_every_other_destination() -> None:
    journal = Journal()

    message_id = publisher(journal).publish(ALERT)

    assert message_id == "sns-id"
    assert _names(journal) == ["alias", "sns", "eventbridge", "chat", "securityhub"]
    bus, source, detail_type, detail, region = journal.calls[2][1]
    assert (bus, source, detail_type) == ("default", "trailguard", "trailguard Alert")
    assert region == "us-east-1"
    assert detail["accountAlias"] == "acme-management"
    assert detail["stackName"] == "trailguard"
    assert journal.calls[3][1]["metadata"]["threadId"] == detail["dedupKey"]
    assert journal.calls[4][1]["Id"] == detail["dedupKey"]
    assert journal.calls[4][1]["UpdatedAt"] == "2026-12-01T10:00:00.000Z"
    assert journal.metrics == []  # nothing failed; no event, so no time to repair


@pytest.mark.parametrize("failing", ["eventbridge", "chat", "securityhub"])
def test_a_failing_destination_is_counted_and_the_others_still_get_the_alert(
    failing: str, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(failing={failing})

    assert publisher(journal).publish(ALERT) == "sns-id"

    assert _names(journal) == ["alias", "sns", "eventbridge", "chat", "securityhub"]
    counted = {"eventbridge": "EventBridge", "chat": "Chat", "securityhub": "SecurityHub"}
    assert journal.metrics == [(f"AlertDestinationFailed_{counted[failing]}", "Count", 1)]
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert getattr(warning, "destination", "") == counted[failing]


def test_alert_topic_failure_raises_after_the_others_were_tried() -> None:
    journal = Journal(failing={"sns"})

    with pytest.raises(AlertNotDelivered):
        publisher(journal).publish(ALERT)

    assert _names(journal) == ["alias", "sns", "eventbridge", "chat", "securityhub"]


def test_held_alert_goes_to_the_alert_topic_only() -> None:
    journal = Journal()

    publisher(journal).publish_rendered(RenderedAlert("subject", "message"))

    assert _names(journal) == ["sns-rendered"]


def test_account_alias_is_read_once_and_its_failure_is_no_failure() -> None:
    journal = Journal()
    reads: list[int] = []

    def broken_alias() -> str:
        reads.append(1)
        raise AwsCallFailed("ListAccountAliases", "AccessDenied", "denied", "grant it")

    sink = publisher(journal, alias=broken_alias)
    sink.publish(ALERT)
    sink.publish(ALERT)

    assert len(reads) == 1
    assert _names(journal).count("sns") == 2
    [first, *_] = [payload for name, payload in journal.calls if name == "sns"]
    assert first.context.account_alias == ""
    assert first.context.stack_name == "trailguard"


def test_repair_times_are_recorded_for_repairs_that_an_event_started(event: Any) -> None:
    from trailguard.domain.events import parse_api_call_event

    parsed = parse_api_call_event(event("stop_logging.json"))
    journal = Journal()
    repaired = replace(
        ALERT, event=parsed, detected_by="event", repaired_at=parsed.event_time.replace(second=3)
    )

    publisher(journal).publish(repaired)
    publisher(journal).publish(replace(repaired, invariant="I4 trail settings"))

    assert journal.metrics == [
        ("SecondsToRepair", "Seconds", 3.0),
        ("BlindWindowSeconds", "Seconds", 3.0),  # I2: the trail was not recording
        ("SecondsToRepair", "Seconds", 3.0),  # I4: it was, with other settings
    ]


ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:111111111111:alerts",
    "BASELINE_TABLE_NAME": "baselines",
}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CHAT_TOPIC_ARN", "https://hooks.slack.com/x"),
        ("ALERT_EVENT_BUS", "bus with spaces"),
        ("SECURITY_HUB_FINDINGS", "maybe"),
    ],
)
def test_destination_settings_are_validated_at_cold_start(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        settings_from({**ENVIRONMENT, variable: value})


def test_destination_settings_defaults() -> None:
    settings = settings_from(
        {**ENVIRONMENT, "AWS_LAMBDA_LOG_GROUP_NAME": "/trailguard/s/restore-trail"}
    )

    assert settings.alert_event_bus == "default"
    assert settings.chat_topic_arn == ""
    assert settings.security_hub_findings is False
    assert settings.log_group_name == "/trailguard/s/restore-trail"


def test_optional_destinations_use_bounded_clients() -> None:
    """A failing optional destination must not hold the invocation for long: one retry,
    short timeouts (the alert topic keeps the standard, more patient client)."""
    from trailguard import clients

    clients.reset_clients()
    patient = clients.client("sns", "us-east-1").meta.config
    bounded = clients.best_effort_client("sns", "us-east-1").meta.config

    assert bounded.retries["total_max_attempts"] == 2 < patient.retries["total_max_attempts"]
    assert (bounded.connect_timeout, bounded.read_timeout) == (2, 5)
    assert clients.best_effort_client("sns", "us-east-1") is not clients.client("sns", "us-east-1")


def test_a_renderer_that_raises_costs_its_destination_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trailguard.engine import destinations

    def broken(alert: Alert) -> Any:
        raise ValueError("renderer bug")

    monkeypatch.setattr(destinations, "alert_event", broken)
    monkeypatch.setattr(destinations, "chat_message", broken)
    journal = Journal()

    assert publisher(journal).publish(ALERT) == "sns-id"

    assert _names(journal) == ["alias", "sns", "securityhub"]
    assert [name for name, _, _ in journal.metrics] == [
        "AlertDestinationFailed_EventBridge",
        "AlertDestinationFailed_Chat",
    ]
