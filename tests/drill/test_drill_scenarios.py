"""Each attack, played on its own fresh world: repaired in moto, alerted as expected."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest

from drill.events import EVENTS_DIR
from drill.handler_output import HandlerOutput
from drill.runner import AFTER_ATTACK, AFTER_TRAILGUARD, Play, play_scenario
from drill.scenarios import BY_NAME, SCENARIOS
from drill.template import rules
from drill.world import DeliveredAlert, World, load_event


def _play(world: World, name: str) -> Play:
    return play_scenario(world, BY_NAME[name], HandlerOutput())


def _only_alert(play: Play) -> DeliveredAlert:
    [alert] = play.alerts
    return alert


def _calls(alert: DeliveredAlert) -> list[str]:
    return [action["call"] for action in alert.document["actions"]]


def _assert_repaired_promptly(alert: DeliveredAlert) -> None:
    # eventTime is the moment of the attack, so this is the real time to repair.
    assert alert.outcome == "repaired"
    assert 0 <= alert.document["secondsToRepair"] < 30


def _trusted_access(world: World, play: Play) -> None:
    assert world.trusted_access_enabled()
    alert = _only_alert(play)
    _assert_repaired_promptly(alert)
    assert _calls(alert) == ["EnableAWSServiceAccess"]


def _stop_logging(world: World, play: Play) -> None:
    assert world.is_logging()
    alert = _only_alert(play)
    _assert_repaired_promptly(alert)
    assert alert.document["invariant"] == "I2 trail logging"
    assert _calls(alert) == ["StartLogging"]


def _delete_trail(world: World, play: Play) -> None:
    assert world.trail() is not None
    assert world.is_logging()
    assert world.snapshot() == world.baseline().snapshot
    alert = _only_alert(play)
    _assert_repaired_promptly(alert)
    assert _calls(alert)[0] == "CreateTrail"
    assert _calls(alert)[-1] == "StartLogging"


def _weaken_trail(world: World, play: Play) -> None:
    trail = world.trail()
    assert trail is not None
    assert trail["IsOrganizationTrail"] and trail["IsMultiRegionTrail"]
    assert trail["S3BucketName"] == "org-trail-logs-111111111111"
    assert world.snapshot() == world.baseline().snapshot
    alert = _only_alert(play)
    _assert_repaired_promptly(alert)
    assert len(alert.document["drift"]) == 3
    assert _calls(alert) == ["UpdateTrail"]


def _exclude_management_events(world: World, play: Play) -> None:
    selectors = boto3.client("cloudtrail", region_name="us-east-1").get_event_selectors(
        TrailName=world.trail_arn
    )["EventSelectors"]
    assert selectors[0]["IncludeManagementEvents"] is True
    assert world.snapshot() == world.baseline().snapshot
    alert = _only_alert(play)
    _assert_repaired_promptly(alert)
    assert _calls(alert) == ["PutEventSelectors"]


def _delete_service_linked_role(world: World, play: Play) -> None:
    assert world.service_linked_role_exists()
    alert = _only_alert(play)
    _assert_repaired_promptly(alert)
    assert _calls(alert) == ["CreateServiceLinkedRole"]


def _denied_attempt(world: World, play: Play) -> None:
    assert play.attack == ""
    assert world.trusted_access_enabled()
    [invocation] = play.invocations
    assert invocation.actions == []
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("WARNING", "attempt_failed")
    assert alert.document["event"]["errorCode"] == "AccessDenied"
    assert alert.document["actions"] == []


def _duplicate_delivery(world: World, play: Play) -> None:
    assert world.is_logging()
    first, second = play.deliveries
    assert first.event == second.event
    assert [i.outcome for i in first.invocations] == ["repaired"]
    assert [i.outcome for i in second.invocations] in (["in_sync"], ["duplicate"])
    assert [i.actions for i in second.invocations] == [[]]
    assert second.alerts == ()
    _assert_repaired_promptly(_only_alert(play))


AFTERMATH: dict[str, Callable[[World, Play], None]] = {
    "disable-trusted-access": _trusted_access,
    "stop-logging": _stop_logging,
    "delete-trail": _delete_trail,
    "weaken-trail": _weaken_trail,
    "exclude-management-events": _exclude_management_events,
    "delete-service-linked-role": _delete_service_linked_role,
    "denied-attempt": _denied_attempt,
    "duplicate-delivery": _duplicate_delivery,
}


def test_every_scenario_has_its_aftermath_checked() -> None:
    assert set(AFTERMATH) == set(BY_NAME)


@pytest.mark.parametrize("name", [s.name for s in SCENARIOS])
def test_scenario_is_answered_as_expected(world: World, name: str) -> None:
    play = _play(world, name)

    assert play.problems == ()
    assert not play.failures
    states = dict(play.states)
    # A real attack really breaks what it targets, or the scenario proves nothing;
    # a refused one breaks nothing.
    broken_by_attack = not any(check.holds for check in states[AFTER_ATTACK])
    assert broken_by_attack is (BY_NAME[name].attack is not None)
    assert all(check.holds for check in states[AFTER_TRAILGUARD])
    AFTERMATH[name](world, play)
    assert world.drain_alerts() == []  # every alert was attributed to its delivery


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_template_routes_each_sample_to_the_expected_function(scenario) -> None:
    sample = load_event(EVENTS_DIR / scenario.sample)

    assert [r.function_id for r in rules() if r.matches(sample)] == [scenario.function_id]


def test_weakening_attack_and_its_event_name_the_same_bucket() -> None:
    attack = BY_NAME["weaken-trail"].attack
    assert attack is not None
    sample = load_event(EVENTS_DIR / "update_trail_weaken.json")

    assert (
        sample["detail"]["requestParameters"]["s3BucketName"] == (attack.parameters["S3BucketName"])
    )


def test_each_attack_gets_a_fresh_event_at_the_time_of_the_attack(world: World) -> None:
    first = _play(world, "stop-logging")
    second = _play(world, "stop-logging")

    ids = {p.deliveries[0].event["detail"]["eventID"] for p in (first, second)}
    assert len(ids) == 2
    assert first.deliveries[0].event["detail"]["eventTime"] == first.attacked_at
