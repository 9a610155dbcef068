"""Blind windows: a stop and start between two reconciler runs, and every repair of
StopLogging or DeleteTrail, is reported with the write calls Event history kept."""

from __future__ import annotations

from typing import Any

from drill.events import now, renewed
from drill.world import World
from tests.functional.helpers import aws

RECONCILER = "ReconcileInvariantsFunction"
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def _stop_act_restart(world: World) -> None:
    aws("iam").create_user(UserName="backup-operator")
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    aws("iam").create_access_key(UserName="backup-operator")
    aws("cloudtrail").start_logging(Name=world.trail_name)


def _run(world: World) -> list[dict[str, Any]]:
    world.invoke(RECONCILER, SCHEDULED)
    return [a.document for a in world.drain_alerts()]


def test_stop_and_start_between_two_runs_is_a_blind_window(world: World) -> None:
    assert _run(world) == []
    _stop_act_restart(world)
    assert world.is_logging()

    [alert] = _run(world)
    window = alert["blindWindow"]
    assert alert["severity"] == "HIGH" and alert["detectedBy"] == "schedule"
    names = [c["eventName"] for c in window["calls"]]
    assert "StopLogging" in names and "CreateAccessKey" in names
    [key] = [c for c in window["calls"] if c["eventName"] == "CreateAccessKey"]
    assert key["eventSource"] == "iam.amazonaws.com" and key["principal"].endswith(":root")
    assert window["seconds"] >= 0 and window["truncated"] == 0
    assert "management account only" in window["coverage"]

    assert _run(world) == [], "the same window is reported once"


def test_calls_that_appear_later_come_in_a_follow_up(world: World) -> None:
    assert _run(world) == []
    world.emulation.history.delay_seconds = 3600  # Event history has not caught up
    _stop_act_restart(world)

    [first] = _run(world)
    assert first["blindWindow"]["calls"] == [] and not first["blindWindow"]["complete"]

    world.emulation.history.delay_seconds = 0
    [follow_up] = _run(world)
    assert follow_up["blindWindow"]["followUp"] is True
    assert "CreateAccessKey" in [c["eventName"] for c in follow_up["blindWindow"]["calls"]]
    assert _run(world) == [], "calls already reported are not reported again"


def test_a_stop_logging_repair_carries_its_window(world: World, event: Any) -> None:
    assert _run(world) == []
    called_at = now()  # the event's time is the call's, as CloudTrail records it
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    world.invoke("RestoreTrailFunction", renewed(event("stop_logging.json"), called_at))

    [alert] = world.drain_alerts()
    assert alert.outcome == "repaired" and world.is_logging()
    window = alert.document["blindWindow"]
    assert window["from"] == alert.document["event"]["time"]
    assert window["to"] == alert.document["repairedAt"]
    # Seconds old: Event history is not asked yet, and the alert says who will list them.
    assert window["calls"] == [] and not window["complete"]
    assert "follow-up" in window["reason"]

    [follow_up] = _run(world)
    calls = [c["eventName"] for c in follow_up["blindWindow"]["calls"]]
    assert follow_up["blindWindow"]["followUp"] and "StopLogging" in calls
    # trailguard's own StartLogging is its repair, not a call made while blind.
    assert "StartLogging" not in calls
    assert _run(world) == [], "no new call, no new alert; the restart is not reported again"


def test_a_deleted_trail_recreated_by_the_reconciler_has_a_window(world: World) -> None:
    assert _run(world) == []
    aws("cloudtrail").delete_trail(Name=world.trail_name)
    alerts = _run(world)
    [repaired] = [a for a in alerts if a["outcome"] == "repaired"]
    assert repaired["blindWindow"]["reason"] == "the trail was deleted"
    assert "DeleteTrail" in [c["eventName"] for c in repaired["blindWindow"]["calls"]]
