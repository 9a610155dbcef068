"""Each attack, played on its own fresh world: repaired in moto, alerted as expected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from drill.events import EVENTS_DIR
from drill.handler_output import HandlerOutput
from drill.invariants import WATCHED_RULE, check
from drill.routing import SCHEDULE, schedules
from drill.runner import AFTER_ATTACK, AFTER_TRAILGUARD, Play, play_scenario
from drill.scenarios import BY_NAME, SCENARIOS, Scenario
from drill.template import rules
from drill.world import LOG_ARCHIVE_ACCOUNT, DeliveredAlert, World, load_event, resolve
from tests.drill.test_drill_integrity import INTEGRITY_AFTERMATH
from tests.drill.test_drill_scenarios_health import HEALTH_AFTERMATH

RECONCILE_RULE_ARN = (
    "arn:aws:events:us-east-1:111111111111:rule/trailguard-ReconcileInvariantsFunctionEvery-EXAMPLE"
)


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
    # Logging starts as soon as the trail exists again; the selectors follow.
    assert _calls(alert)[:2] == ["CreateTrail", "StartLogging"]


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
    assert play.attacks == ()
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


def _lost_events(world: World, play: Play) -> None:
    assert world.trusted_access_enabled()
    assert world.trail() is not None
    assert world.is_logging()
    assert world.snapshot() == world.baseline().snapshot
    # No CloudTrail event reached trailguard: only the schedule's Scheduled Event.
    [delivery] = play.deliveries
    assert delivery.schedule == "rate(1 minute)"
    assert delivery.event["detail-type"] == "Scheduled Event"
    assert delivery.event["source"] == "aws.events"
    assert delivery.event["resources"] == [RECONCILE_RULE_ARN]
    assert delivery.event["detail"] == {}
    [invocation] = delivery.invocations
    assert (invocation.trigger, invocation.rule_id, invocation.function_id) == (
        SCHEDULE,
        "Every",
        "ReconcileInvariantsFunction",
    )
    summary = invocation.summary
    assert summary is not None
    assert summary["repaired"] == 2
    assert summary["failures"] == []
    trusted_access, trail = summary["results"]
    assert trusted_access["actions"] == ["EnableAWSServiceAccess cloudtrail.amazonaws.com: ok"]
    trail_calls = [action.split()[0] for action in trail["actions"]]
    assert trail_calls[:2] == ["CreateTrail", "StartLogging"]
    assert invocation.actions == trusted_access["actions"] + trail["actions"]
    assert len(play.alerts) == 2
    for alert in play.alerts:
        assert (alert.severity, alert.outcome) == ("HIGH", "repaired")
        assert alert.document["detectedBy"] == "schedule"
        assert "event" not in alert.document  # no event to quote: it never arrived
    assert [_calls(alert) for alert in play.alerts] == [["EnableAWSServiceAccess"], trail_calls]


def _tamper_with_trailguard(world: World, play: Play) -> None:
    rule = boto3.client("events", region_name="us-east-1").describe_rule(Name=WATCHED_RULE)
    # trailguard re-enables its rule, verifies it, and alerts CRITICAL.
    assert rule["State"] == "ENABLED"
    [delivery] = play.deliveries
    assert delivery.event["detail"]["requestParameters"]["name"] == WATCHED_RULE
    [invocation] = delivery.invocations
    assert (invocation.rule_id, invocation.function_id, invocation.outcome) == (
        "OwnRulesChanged",
        "AlertSelfTamperingFunction",
        "repaired",
    )
    assert invocation.actions == [f"EnableRule {WATCHED_RULE}: ok"]
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    assert "TRAILGUARD TAMPERED WITH" in alert.document["headline"]
    assert alert.document["resource"] == WATCHED_RULE
    assert alert.document["detectedBy"] == "event"
    assert all(c.holds for c in check(world))
    [after] = dict(play.states)[AFTER_TRAILGUARD]
    assert (after.invariant, after.state) == (True, "ENABLED")


def _silence_alert_key(world: World, play: Play) -> None:
    key = world.environment["ALERT_KEY_ARN"]
    state = boto3.client("kms", region_name="us-east-1").describe_key(KeyId=key.split("/")[-1])
    assert state["KeyMetadata"]["KeyState"] == "Enabled"
    [delivery] = play.deliveries
    [invocation] = delivery.invocations
    assert invocation.actions == [f"EnableKey {key}: ok"]
    # On-call got only the CRITICAL sent once the key was enabled again; the witness got
    # the first one too, which the topic could not deliver.
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    witnessed = [w for w in delivery.witnessed if w.outcome == "alerted"]
    assert [w.label for w in witnessed] == ["CRITICAL detected", "CRITICAL repaired"]
    assert all(w.event["account"] == "111111111111" for w in witnessed)
    assert all(w.subject.startswith("[trailguard witness] CRITICAL") for w in witnessed)


AFTERMATH: dict[str, Callable[[World, Play], None]] = {
    "disable-trusted-access": _trusted_access,
    "stop-logging": _stop_logging,
    "delete-trail": _delete_trail,
    "weaken-trail": _weaken_trail,
    "exclude-management-events": _exclude_management_events,
    "delete-service-linked-role": _delete_service_linked_role,
    "denied-attempt": _denied_attempt,
    "duplicate-delivery": _duplicate_delivery,
    "lost-events": _lost_events,
    "tamper-with-trailguard": _tamper_with_trailguard,
    "silence-alert-key": _silence_alert_key,
    **INTEGRITY_AFTERMATH,
    **__import__("tests.drill.aftermath_archive", fromlist=["AFTERMATH"]).AFTERMATH,
    **HEALTH_AFTERMATH,
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
    assert broken_by_attack is bool(BY_NAME[name].attacks)
    # Every invariant holds; an observation (not an invariant) stays as the attack left it.
    for attacked, after in zip(states[AFTER_ATTACK], states[AFTER_TRAILGUARD], strict=True):
        assert after.holds if after.invariant else after.state == attacked.state
    AFTERMATH[name](world, play)
    assert world.drain_alerts() == []  # every alert was attributed to its delivery


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.sample], ids=lambda s: s.name)
def test_template_routes_each_sample_to_the_expected_function(scenario: Scenario) -> None:
    assert scenario.sample is not None
    sample = load_event(EVENTS_DIR / scenario.sample)

    # The rules of the bus the event lands on in the drill's world: the log-archive
    # account's events reach trailguard through the companion, on the log-archive bus.
    conditions = {"HasLogArchive": True, "InGlobalEventsRegion": True}
    names = {"LogArchiveEventsBus": "LogArchiveEventsBus", "ForwardedEventsBus": "forwarded"}
    bus = "LogArchiveEventsBus" if sample["account"] == LOG_ARCHIVE_ACCOUNT else "default"
    routed = [
        r.function_id
        for r in rules()
        if r.matches(sample) and resolve(r.event_bus, names, {}, conditions) == bus
    ]
    assert routed == [scenario.function_id]


def test_the_template_schedules_the_function_lost_events_expect() -> None:
    lost = BY_NAME["lost-events"]

    assert [(s.function_id, s.event_id) for s in schedules()] == [(lost.function_id, "Every")]
    assert lost.sample is None


def test_lost_events_go_unanswered_without_a_schedule(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A template that lost its Schedule event: nothing repairs what no event reported.
    monkeypatch.setattr("drill.runner.schedules", lambda: [])

    play = _play(world, "lost-events")

    assert play.deliveries == ()
    assert "0 schedule firings, expected 1" in play.problems
    assert "left broken: I3 trail exists (DELETED)" in play.problems
    assert not world.trusted_access_enabled()


def test_a_rule_left_disabled_would_not_be_as_expected(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # trailguard re-enables its disabled rule; the drill says so if the rule stays
    # disabled (here: as if the handler had only alerted).
    invoke = World.invoke

    def invoke_and_disable(self: World, function_id: str, event: Any) -> Any:
        returned = invoke(self, function_id, event)
        boto3.client("events", region_name="us-east-1").disable_rule(Name=WATCHED_RULE)
        return returned

    monkeypatch.setattr(World, "invoke", invoke_and_disable)

    play = _play(world, "tamper-with-trailguard")

    assert play.problems == ("left broken: trailguard's rule TrailChanged (DISABLED)",)


def test_weakening_attack_and_its_event_name_the_same_bucket() -> None:
    [attack] = BY_NAME["weaken-trail"].attacks
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
