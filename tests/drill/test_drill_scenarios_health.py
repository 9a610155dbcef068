"""What issue 11's drill scenarios leave behind, beyond their expected alerts:
checked on AWS state and on the alerts' content (used by test_drill_scenarios.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from drill.runner import Play
from drill.world import LOG_BUCKET, World, aws_client


def _documents(play: Play) -> list[dict[str, object]]:
    return [a.document for a in play.alerts]


def _stop_act_restart(world: World, play: Play) -> None:
    [alert] = _documents(play)
    window = alert["blindWindow"]
    assert isinstance(window, dict)
    [key] = [c for c in window["calls"] if c["eventName"] == "CreateAccessKey"]
    assert key["eventSource"] == "iam.amazonaws.com"
    assert datetime.fromisoformat(window["from"]) <= datetime.fromisoformat(key["time"])
    assert datetime.fromisoformat(key["time"]) <= datetime.fromisoformat(window["to"])
    assert window["truncated"] == 0 and "management account only" in window["coverage"]
    assert world.is_logging()


def _delivery_failing(world: World, play: Play) -> None:
    # The chain's repair (I8), the I7 CRITICAL naming the cause, then delivery recovered.
    chain, critical, recovered = _documents(play)
    assert str(chain["invariant"]).startswith("I8") and chain["outcome"] == "repaired"
    assert "AccessDenied" in " ".join(critical["drift"])  # type: ignore[arg-type]
    assert LOG_BUCKET in str(critical["manualAction"])
    assert recovered["headline"] == "delivery recovered"
    status = aws_client("cloudtrail").get_trail_status(Name=world.trail_arn)
    assert "LatestDeliveryError" not in status


def _delete_trail_dependency_broken(world: World, play: Play) -> None:
    degraded, repaired = _documents(play)
    assert "CloudWatch Logs not restored" in str(degraded["headline"])
    assert "InvalidCloudWatchLogsRoleArnException" in str(degraded["manualAction"])
    assert [c["call"] for c in repaired["actions"]] == ["UpdateTrail"]  # type: ignore[index]
    trail = world.trail()
    assert trail is not None and trail["CloudWatchLogsRoleArn"].endswith(
        "/CloudTrailToCloudWatchLogs"
    )


def _unprotected_org_trail(world: World, play: Play) -> None:
    [alert] = _documents(play)
    assert alert["resource"] == world.trail_arn and "NO BASELINE" in str(alert["headline"])
    assert world.baseline() is not None  # recorded again by hand after the alert


HEALTH_AFTERMATH: dict[str, Callable[[World, Play], None]] = {
    "stop-act-restart": _stop_act_restart,
    "delivery-failing": _delivery_failing,
    "delete-trail-dependency-broken": _delete_trail_dependency_broken,
    "unprotected-org-trail": _unprotected_org_trail,
}
