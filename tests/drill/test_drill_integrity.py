"""The integrity scenarios (drill/scenarios_integrity.py): what each must leave behind.

Their aftermath checks join AFTERMATH in test_drill_scenarios.py, which plays every
scenario on a fresh world; the tests here show that each would fail if trailguard
still behaved as issue 10 found it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from drill.handler_output import HandlerOutput
from drill.runner import Play, play_scenario
from drill.scenarios import BY_NAME
from drill.scenarios_integrity import ATTACKER_BUCKET, IAC_DEPLOY, TRAIL_ARN
from drill.world import DeliveredAlert, World, aws_client


def _play(world: World, name: str) -> Play:
    return play_scenario(world, BY_NAME[name], HandlerOutput())


def _only_alert(play: Play) -> DeliveredAlert:
    [alert] = play.alerts
    return alert


def _items(world: World) -> dict[str, dict[str, object]]:
    items = aws_client("dynamodb").query(
        TableName=world.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": TRAIL_ARN}},
    )["Items"]
    return {item["sk"]["S"]: item for item in items}


def _trail_is_the_baseline(world: World) -> None:
    trail = world.trail()
    assert trail is not None
    assert trail["S3BucketName"] != ATTACKER_BUCKET
    assert trail["IsOrganizationTrail"] and trail["IsMultiRegionTrail"]
    assert world.is_logging()
    assert world.snapshot() == world.baseline().snapshot


def _delete_baseline_then_delete_trail(world: World, play: Play) -> None:
    _trail_is_the_baseline(world)
    items = _items(world)
    [version] = [sk for sk in items if sk.startswith("V#")]
    # The intact version is in force again, as a copy naming it.
    assert items["CURRENT"]["version"] == {"S": version}
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    detail = alert.document["detail"]
    assert "BASELINE TAMPERED WITH" in detail
    assert "(sk=CURRENT) is MISSING" in detail
    assert f"Rebuilt from the newest intact version {version}" in detail
    assert f"Version {version} is the baseline in force again" in detail


def _forge_allowed_update(world: World, play: Play) -> None:
    _trail_is_the_baseline(world)
    # The forged event replaced nothing: one version, captured before the attack.
    assert [sk for sk in _items(world) if sk.startswith("V#")] == [
        f"V#{world.baseline().captured_at}"
    ]
    assert world.baseline().captured_by != IAC_DEPLOY
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    assert "NOT CORROBORATED" in alert.document["detail"]
    assert "the baseline was not replaced" in alert.document["detail"]


def _misuse_trailguard_role(world: World, play: Play) -> None:
    _trail_is_the_baseline(world)
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    assert (
        "TRAILGUARD'S ROLE WAS USED BY SOMETHING OTHER THAN A REPAIR" in (alert.document["detail"])
    )
    assert "trailguard-RestoreTrailRole-EXAMPLE" in alert.document["detail"]


def _damper_hides_second_actor(world: World, play: Play) -> None:
    _trail_is_the_baseline(world)
    alert = _only_alert(play)
    assert (alert.severity, alert.outcome) == ("HIGH", "repaired")
    assert "Storm" not in alert.document.get("detail", "")
    assert alert.document["actor"]["arn"].endswith("/mallory")


INTEGRITY_AFTERMATH: dict[str, Callable[[World, Play], None]] = {
    "delete-baseline-then-delete-trail": _delete_baseline_then_delete_trail,
    "forge-allowed-update": _forge_allowed_update,
    "misuse-trailguard-role": _misuse_trailguard_role,
    "damper-hides-second-actor": _damper_hides_second_actor,
}


def test_the_old_damper_would_have_hidden_the_second_actor(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 10's damper: one window per resource, invariant and outcome.
    from trailguard.domain import storm

    def old_key(alert: object) -> object:
        return (getattr(alert, "resource", ""), getattr(alert, "invariant", ""), "", ())

    monkeypatch.setattr(storm, "storm_key", old_key)
    monkeypatch.setattr(storm, "ALWAYS_SENT", 3)

    play = _play(world, "damper-hides-second-actor")

    assert "alerts [], expected ['HIGH repaired']" in play.problems


def test_ignoring_own_role_events_would_leave_the_trail_weakened(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trailguard.domain.guards import Verdict
    from trailguard.engine import remediation
    from trailguard.engine.remediation import Result

    screen = remediation.screen

    def ignoring_own_role(event, deps, subject, refused):  # type: ignore[no-untyped-def]
        verdict, result = screen(event, deps, subject, refused)
        if verdict is Verdict.OWN_ROLE:
            return verdict, Result(remediation.Outcome.IN_SYNC, subject.resource, "own call")
        return verdict, result

    monkeypatch.setattr("trailguard.protected.trail.screen", ignoring_own_role)

    play = _play(world, "misuse-trailguard-role")

    assert "left broken: I4/I5 trail matches baseline (DIFFERS (3))" in play.problems


def test_a_corroborated_allow_listed_update_would_be_the_baseline(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same delivery as forge-allowed-update, but the event is in Event history:
    # then (and only then) the change is the deployer's, and becomes the baseline.
    from drill import runner
    from tests.fakes import FakeEventRecords
    from trailguard.runtime import dependencies

    history = FakeEventRecords()
    forged = BY_NAME["forge-allowed-update"]
    assert forged.prelude is not None
    prelude = forged.prelude

    def allow_list_and_record(w: World, output: HandlerOutput) -> list[str]:
        problems = prelude(w, output)
        dependencies().event_records = history
        return problems

    original = runner.fresh_event
    monkeypatch.setattr(runner, "fresh_event", lambda *a, **k: history.record(original(*a, **k)))

    play = play_scenario(world, replace(forged, prelude=allow_list_and_record), HandlerOutput())

    assert world.baseline().captured_by == IAC_DEPLOY
    trail = world.trail()
    assert trail is not None
    assert trail["S3BucketName"] == ATTACKER_BUCKET
    assert [f"{a.severity} {a.outcome}" for a in play.alerts] == ["WARNING allowed"]
