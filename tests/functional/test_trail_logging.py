"""I2: StopLogging on a protected trail is answered by StartLogging in its home region."""

from __future__ import annotations

import pytest

from drill.world import World
from tests.functional.helpers import aws, fresh

FUNCTION = "RestoreTrailFunction"


@pytest.mark.parametrize(
    "sample",
    ["stop_logging.json", "stop_logging_by_arn.json", "stop_logging_console_sso.json"],
)
def test_stopped_trail_is_restarted(world: World, event, sample: str) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    result = world.invoke(FUNCTION, fresh(event(sample)))

    assert world.is_logging()
    assert result["actions"] == [f"StartLogging {world.trail_arn}: ok"]
    [alert] = world.drain_alerts()
    assert alert.outcome == "repaired"
    assert alert.document["resource"] == world.trail_arn
    assert alert.document["drift"] == ["the trail is not logging"]
    assert alert.document["verification"].startswith("state re-read")


def test_identity_center_console_call_names_the_person_and_role(world: World, event) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    world.invoke(FUNCTION, fresh(event("stop_logging_console_sso.json")))

    [alert] = world.drain_alerts()
    actor = alert.document["actor"]
    assert actor["arn"].endswith("/alice@example.com")
    assert "aws-reserved/sso.amazonaws.com" in actor["sessionIssuer"]
    assert actor["userAgent"] == "console.amazonaws.com"


def test_duplicate_delivery_after_repair_does_nothing(world: World, event) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    delivery = fresh(event("stop_logging.json"))

    first = world.invoke(FUNCTION, delivery)
    second = world.invoke(FUNCTION, delivery)

    assert first["outcome"] == "repaired"
    assert second["outcome"] == "duplicate"
    assert len(world.drain_alerts()) == 1


def test_redelivery_without_ledger_reads_first_after_a_recent_restart(world: World, event) -> None:
    world.apply_environment(LEDGER_TABLE_NAME="")
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    delivery = fresh(event("stop_logging.json"))

    world.invoke(FUNCTION, delivery)
    second = world.invoke(FUNCTION, delivery)

    # Without the ledger a duplicate is not recognised by its eventID, but this
    # environment restarted the trail moments ago: it reads first, finds it logging.
    assert second["outcome"] == "in_sync"
    assert world.is_logging()
    assert len(world.drain_alerts()) == 1


def test_unprotected_trail_is_not_touched(world: World, event) -> None:
    ct = aws("cloudtrail")
    ct.create_trail(Name="team-sandbox-trail", S3BucketName="org-trail-logs-111111111111")

    result = world.invoke(FUNCTION, fresh(event("stop_logging_unprotected_trail.json")))

    assert result["outcome"] == "notice"
    assert ct.get_trail_status(Name="team-sandbox-trail")["IsLogging"] is False
    assert world.drain_alerts() == []


def test_own_role_stop_logging_that_left_the_trail_stopped_is_repaired_critical(
    world: World, event
) -> None:
    # trailguard never stops a trail: under its role, this is someone else using it.
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    result = world.invoke(FUNCTION, fresh(event("stop_logging_by_remediator.json")))

    assert result["outcome"] == "repaired"
    assert world.is_logging()
    [alert] = world.drain_alerts()
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    assert "TRAILGUARD'S ROLE WAS USED BY SOMETHING OTHER THAN A REPAIR" in alert.document["detail"]


def test_own_role_event_that_left_no_drift_is_checked_by_reading_only(
    world: World, event, monkeypatch
) -> None:
    from trailguard.adapters.cloudtrail import CloudTrailGateway

    writes: list[str] = []
    monkeypatch.setattr(CloudTrailGateway, "start_logging", lambda self, ref: writes.append("x"))

    result = world.invoke(FUNCTION, fresh(event("stop_logging_by_remediator.json")))

    assert result["outcome"] == "in_sync"
    assert writes == []
    assert world.is_logging()
    assert world.drain_alerts() == []


def test_refused_stop_logging_is_alerted_as_attempt(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("stop_logging_denied.json")))

    assert result["outcome"] == "attempt_failed"
    assert world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.severity == "WARNING"
    assert alert.document["event"]["errorCode"] == "AccessDenied"


def test_hostile_trail_name_is_rejected_without_any_call(world: World, event, monkeypatch) -> None:
    from trailguard.adapters import aws_errors

    calls: list[str] = []
    monkeypatch.setattr(aws_errors, "call", lambda op, *a, **k: calls.append(op))

    result = world.invoke(FUNCTION, fresh(event("hostile_trail_name.json")))

    assert result["outcome"] == "rejected"
    assert "trail name" in result["reason"]
    assert calls == []
    assert world.drain_alerts() == []


def test_malformed_event_is_rejected_with_reason(world: World, event) -> None:
    result = world.invoke(FUNCTION, event("malformed_missing_detail.json"))

    assert result == {"outcome": "rejected", "reason": "detail is missing or not an object"}
    assert world.drain_alerts() == []
