"""template.yaml's self-protection: the alarms on the alert path, the repairs'
grants, and the optional witness wiring."""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest

from drill.template import ROOT, functions, global_environment, load_template
from tests.template.helpers import actions_of, allowed_actions, as_list, role_id_of, role_statements

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
FUNCTIONS = functions()
TOPIC = {"Ref": "AlertTopic"}


def _alarms() -> dict[str, dict[str, Any]]:
    return {
        k: r["Properties"] for k, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def _emitted_metrics() -> set[str]:
    """Metric names the handler wrapper counts: _count(metrics, "<name>")."""
    tree = ast.parse((ROOT / "layers/trailguard/trailguard/engine/handler.py").read_text())
    return {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_count"
        and isinstance(node.args[1], ast.Constant)
    }


@pytest.mark.parametrize("metric", ["LedgerUnavailable", "AlertsNotDelivered"])
def test_alert_path_metrics_the_code_emits_are_alarmed(metric: str) -> None:
    assert metric in _emitted_metrics(), f"the code no longer emits {metric}"
    [alarm] = [a for a in _alarms().values() if a.get("MetricName") == metric]
    assert alarm["Namespace"] == "trailguard"
    # Powertools adds the service dimension to every metric it flushes.
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "trailguard"}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["AlarmActions"] == [TOPIC]


def test_topic_delivery_failures_are_alarmed() -> None:
    [alarm] = [
        a for a in _alarms().values() if a.get("MetricName") == "NumberOfNotificationsFailed"
    ]
    assert alarm["Namespace"] == "AWS/SNS"
    assert alarm["Dimensions"] == [
        {"Name": "TopicName", "Value": {"Fn::GetAtt": ["AlertTopic", "TopicName"]}}
    ]
    assert alarm["AlarmActions"] == [TOPIC]


def test_every_alarm_has_an_action() -> None:
    for name, alarm in _alarms().items():
        assert alarm.get("AlarmActions") == [TOPIC], name


def _self_tampering_statements() -> list[dict[str, Any]]:
    role = role_id_of(FUNCTIONS["AlertSelfTamperingFunction"])
    return role_statements(RESOURCES, role)


def test_alert_key_repairs_are_granted_on_the_alert_key_only() -> None:
    statements = [
        s for s in _self_tampering_statements() if any(a.startswith("kms:") for a in actions_of(s))
    ]
    repair = [s for s in statements if "kms:EnableKey" in actions_of(s)]
    assert len(repair) == 1
    assert set(actions_of(repair[0])) == {
        "kms:DescribeKey",
        "kms:EnableKey",
        "kms:CancelKeyDeletion",
    }
    assert repair[0]["Resource"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    granted = allowed_actions(_self_tampering_statements())
    assert not {"kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"} & granted


@pytest.mark.parametrize(
    ("action", "prefix"),
    [
        ("cloudwatch:EnableAlarmActions", ":alarm:${AWS::StackName}-*"),
        ("events:EnableRule", ":rule/${AWS::StackName}-*"),
    ],
)
def test_rule_and_alarm_repairs_are_scoped_to_the_stacks_names(action: str, prefix: str) -> None:
    [statement] = [s for s in _self_tampering_statements() if action in actions_of(s)]
    resources = [r["Fn::Sub"] for r in as_list(statement["Resource"])]
    assert any(r.endswith(prefix) for r in resources), resources
    assert all("${AWS::StackName}-" in r for r in resources)


def test_environment_names_the_alert_key_and_the_witness() -> None:
    env = global_environment()
    assert env["ALERT_KEY_ARN"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    assert env["WITNESS_BUS_ARN"] == {"Ref": "WitnessBusArn"}


def test_witness_is_optional_and_its_bus_arn_constrained() -> None:
    spec = TEMPLATE["Parameters"]["WitnessBusArn"]
    assert spec["Default"] == ""
    pattern = spec["AllowedPattern"]
    assert re.fullmatch(
        pattern, "arn:aws:events:us-east-1:333333333333:event-bus/trailguard-witness"
    )
    for bad in ("arn:aws:sns:us-east-1:333333333333:topic", "333333333333", "*"):
        assert not re.fullmatch(pattern, bad), bad
    assert TEMPLATE["Conditions"]["HasWitness"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WitnessBusArn"}, ""]}]
    }


def test_every_role_that_alerts_may_tell_the_witness_and_nothing_else() -> None:
    policy = RESOURCES["WitnessPutEventsPolicy"]
    assert policy["Type"] == "AWS::IAM::Policy"
    assert policy["Condition"] == "HasWitness"
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", "events:PutEvents")
    assert statement["Resource"] == {"Ref": "WitnessBusArn"}
    alerting = {
        role_id_of(props)
        for props in FUNCTIONS.values()
        if "sns:Publish" in allowed_actions(role_statements(RESOURCES, role_id_of(props)))
    }
    assert alerting
    assert {r["Ref"] for r in policy["Properties"]["Roles"]} == alerting


def test_iam_role_rule_listens_where_iam_events_arrive() -> None:
    rule = FUNCTIONS["AlertSelfTamperingFunction"]["Events"]["OwnRolesChanged"]["Properties"]
    assert rule["EventBusName"] == {
        "Fn::If": ["InGlobalEventsRegion", "default", {"Ref": "ForwardedEventsBus"}]
    }
