"""Issue 4: nothing lost, nothing repeated, with the real ledger and topic under moto."""

from __future__ import annotations

from typing import Any

import pytest

from drill.world import World
from tests.functional.helpers import aws, fresh
from trailguard.adapters.cloudtrail import CloudTrailGateway
from trailguard.adapters.sns import SnsAlertSink
from trailguard.errors import AlertNotDelivered, RemediationFailed

FUNCTION = "RestoreTrailFunction"


def _count_calls(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[Any]:
    calls: list[Any] = []
    original = getattr(cls, name)

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    return calls


def test_hundred_deliveries_of_one_event_repair_once_and_alert_once(
    world: World, event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = _count_calls(monkeypatch, CloudTrailGateway, "start_logging")
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    delivery = fresh(event("stop_logging.json"))

    outcomes = [world.invoke(FUNCTION, delivery)["outcome"] for _ in range(100)]

    assert outcomes.count("repaired") == 1
    assert outcomes.count("duplicate") == 99
    assert len(starts) == 1
    assert len(world.drain_alerts()) == 1
    assert world.is_logging()


def test_unavailable_ledger_still_repairs_and_says_so(
    world: World, event: Any, caplog: pytest.LogCaptureFixture
) -> None:
    aws("dynamodb").delete_table(TableName=world.ledger_table_name)
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    result = world.invoke(FUNCTION, fresh(event("stop_logging.json")))

    assert result["outcome"] == "repaired"
    assert world.is_logging()
    assert "delivery ledger unavailable" in caplog.text
    assert len(world.drain_alerts()) == 1


def test_lost_alert_is_sent_by_the_retry_without_a_second_repair(
    world: World, event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = _count_calls(monkeypatch, CloudTrailGateway, "start_logging")
    original = SnsAlertSink.publish_rendered
    failures = iter([True])

    def flaky(self: SnsAlertSink, rendered: Any) -> str:
        if next(failures, False):
            from trailguard.errors import AlertNotDelivered

            raise AlertNotDelivered("Publish failed with KMSThrottlingException", rendered)
        return original(self, rendered)

    monkeypatch.setattr(SnsAlertSink, "publish_rendered", flaky)
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    delivery = fresh(event("stop_logging.json"))

    with pytest.raises(AlertNotDelivered):
        world.invoke(FUNCTION, delivery)
    assert world.is_logging()  # the repair stands although the alert failed
    assert world.drain_alerts() == []

    retry = world.invoke(FUNCTION, delivery)

    assert retry["outcome"] == "alert_delivered_on_retry"
    assert len(starts) == 1
    [alert] = world.drain_alerts()
    assert alert.outcome == "repaired"


def test_failed_remediation_is_retried_by_the_next_delivery(world: World, event: Any) -> None:
    s3 = aws("s3")
    aws("cloudtrail").delete_trail(Name=world.trail_name)
    s3.delete_bucket(Bucket="org-trail-logs-111111111111")
    delivery = fresh(event("delete_trail.json"))

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, delivery)
    s3.create_bucket(Bucket="org-trail-logs-111111111111")  # the on-call fix
    retry = world.invoke(FUNCTION, delivery)

    assert retry["outcome"] == "repaired"
    assert world.snapshot() == world.baseline().snapshot
    assert [a.severity for a in world.drain_alerts()] == ["CRITICAL", "HIGH"]


def test_stop_logging_storm_is_repaired_every_time_but_summarised(world: World, event: Any) -> None:
    ct = aws("cloudtrail")
    outcomes = []
    for _ in range(120):
        ct.stop_logging(Name=world.trail_name)
        outcomes.append(world.invoke(FUNCTION, fresh(event("stop_logging.json")))["outcome"])

    assert outcomes == ["repaired"] * 120
    assert world.is_logging()
    alerts = world.drain_alerts()
    assert len(alerts) == 5  # occurrences 1, 2, 3, 10 and 100
    assert "occurrence 100 of this alert" in alerts[-1].document["detail"]
