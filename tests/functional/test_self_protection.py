"""Tampering with trailguard's own rules, functions, topic and tables is alerted."""

from __future__ import annotations

import pytest

from drill.world import World
from tests.functional.helpers import aws, fresh

FUNCTION = "AlertSelfTamperingFunction"


@pytest.mark.parametrize(
    ("sample", "what"),
    [
        ("throttle_own_function_to_zero.json", "throttled to zero"),
        ("delete_alert_topic.json", "the alert topic was deleted"),
        ("delete_baseline_table.json", "a table was deleted"),
    ],
)
def test_silencing_trailguard_is_critical(world: World, event, sample: str, what: str) -> None:
    result = world.invoke(FUNCTION, fresh(event(sample)))

    assert result["outcome"] == "detected"
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert what in alert.document["headline"]
    assert "redeploy trailguard" in alert.document["manualAction"]
    assert alert.document["resource"].split(":")[-1].startswith("trailguard-")


def test_disabled_rule_is_re_enabled_verified_and_critical(world: World, event) -> None:
    sample = fresh(event("disable_own_rule.json"))
    name = sample["detail"]["requestParameters"]["name"]
    aws("events").put_rule(
        Name=name, EventPattern='{"source":["aws.cloudtrail"]}', State="DISABLED"
    )

    result = world.invoke(FUNCTION, sample)

    assert result["outcome"] == "repaired"
    assert aws("events").describe_rule(Name=name)["State"] == "ENABLED"
    [alert] = world.drain_alerts()
    assert alert.severity == "CRITICAL"
    assert "an EventBridge rule was disabled" in alert.document["headline"]
    assert [a["call"] for a in alert.document["actions"]] == ["EnableRule"]


def test_deployment_change_is_a_quiet_notice(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("update_own_function_by_cloudformation.json")))

    assert result["outcome"] == "allowed"
    [alert] = world.drain_alerts()
    assert alert.severity == "INFO"


def test_other_teams_rules_are_not_ours(world: World, event) -> None:
    result = world.invoke(FUNCTION, fresh(event("disable_other_rule.json")))

    assert result["outcome"] == "notice"
    assert world.drain_alerts() == []


def test_concurrency_above_zero_is_a_change_not_silencing(world: World, event) -> None:
    sample = fresh(event("throttle_own_function_to_zero.json"))
    sample["detail"]["requestParameters"]["reservedConcurrentExecutions"] = 5

    world.invoke(FUNCTION, sample)

    [alert] = world.drain_alerts()
    assert alert.severity == "HIGH"
