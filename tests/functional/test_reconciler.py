"""The scheduled reconciler repairs drift whose events never arrived."""

from __future__ import annotations

import json

import pytest

from drill.world import World
from tests.functional.helpers import aws
from trailguard.adapters.cloudtrail import CloudTrailGateway
from trailguard.errors import AwsCallFailed, RemediationFailed

FUNCTION = "ReconcileInvariantsFunction"
SCHEDULED = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def _lose_everything(world: World) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    aws("cloudtrail").delete_trail(Name=world.trail_name)
    aws("organizations").disable_aws_service_access(ServicePrincipal="cloudtrail.amazonaws.com")


def test_one_run_repairs_everything_in_design_order(world: World) -> None:
    _lose_everything(world)

    result = world.invoke(FUNCTION, SCHEDULED)

    assert world.trusted_access_enabled()
    assert world.is_logging()
    assert world.snapshot() == world.baseline().snapshot
    assert result["repaired"] == 2
    alerts = world.drain_alerts()
    assert [a.document["detectedBy"] for a in alerts] == ["schedule", "schedule"]
    assert [a.document["resource"] for a in alerts] == ["cloudtrail.amazonaws.com", world.trail_arn]
    assert [c["call"] for c in alerts[1].document["actions"]] == [
        "CreateTrail",
        "StartLogging",
        "PutEventSelectors",
        "PutInsightSelectors",
    ]
    assert "event" not in alerts[0].document


def test_deleted_service_linked_role_is_recreated_by_schedule(world: World) -> None:
    iam = aws("iam")
    [role] = iam.list_roles(PathPrefix="/aws-service-role/cloudtrail.amazonaws.com/")["Roles"]
    iam.delete_service_linked_role(RoleName=role["RoleName"])

    world.invoke(FUNCTION, SCHEDULED)

    assert world.service_linked_role_exists()
    [alert] = world.drain_alerts()
    assert alert.document["invariant"].startswith("I6")


def test_nothing_drifted_means_no_alert(world: World) -> None:
    result = world.invoke(FUNCTION, SCHEDULED)

    assert result["repaired"] == 0
    assert result["failures"] == []
    assert world.drain_alerts() == []


def test_every_run_emits_a_heartbeat(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.invoke(FUNCTION, SCHEDULED)

    metrics = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    assert any(m.get("ReconcilerHeartbeat") == [1.0] for m in metrics)


def _create_trail_denied(monkeypatch: pytest.MonkeyPatch) -> None:
    """CreateTrail refused for a reason no degraded repair can work around (a missing
    optional setting is restored without: protected/trail.py)."""

    def denied(self: object, baseline: object) -> None:
        raise AwsCallFailed("CreateTrail", "AccessDeniedException", "denied", "grant it")

    monkeypatch.setattr(CloudTrailGateway, "create", denied)


def test_failed_repair_fails_the_run_after_critical_alert(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _lose_everything(world)
    _create_trail_denied(monkeypatch)

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, SCHEDULED)

    assert world.trusted_access_enabled()  # the other invariants are still repaired
    severities = [a.severity for a in world.drain_alerts()]
    assert severities == ["HIGH", "CRITICAL"]
    out = capsys.readouterr().out
    assert '"ReconcilerHeartbeat": [1.0]' in out or '"ReconcilerHeartbeat":[1.0]' in out


def test_detect_only_schedule_reports_without_repairing(world: World) -> None:
    world.apply_environment(DETECT_ONLY="true")
    aws("cloudtrail").stop_logging(Name=world.trail_name)

    world.invoke(FUNCTION, SCHEDULED)

    assert not world.is_logging()
    [alert] = world.drain_alerts()
    assert alert.outcome == "detected"
    assert alert.document["drift"] == ["the trail is not logging"]
