"""The us-east-1 forwarder (forwarder/template.yaml) and the main stack's side of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drill.patterns import matches
from drill.template import load_template, rules

ROOT = Path(__file__).resolve().parent.parent.parent
FORWARDER = load_template(ROOT / "forwarder" / "template.yaml")
MAIN = load_template()
GLOBAL_SOURCES = {"aws.organizations", "aws.iam"}


def _samples() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "events").glob("*.json"))]


def test_forwarder_forwards_every_global_event_the_main_rules_take() -> None:
    pattern = FORWARDER["Resources"]["ForwardGlobalEvents"]["Properties"]["EventPattern"]
    global_rules = [r for r in rules() if set(r.pattern["source"]) & GLOBAL_SOURCES]
    taken = [e for e in _samples() if any(r.matches(e) for r in global_rules)]

    assert len(taken) >= 5
    assert all(matches(pattern, event) for event in taken)


def test_forwarder_forwards_nothing_else() -> None:
    pattern = FORWARDER["Resources"]["ForwardGlobalEvents"]["Properties"]["EventPattern"]
    global_rules = [r for r in rules() if set(r.pattern["source"]) & GLOBAL_SOURCES]

    for event in _samples():
        if matches(pattern, event):
            assert any(r.matches(event) for r in global_rules), event["detail"]["eventName"]


def test_global_rules_listen_on_the_forwarded_bus_outside_us_east_1() -> None:
    functions = {
        k: v for k, v in MAIN["Resources"].items() if v["Type"] == "AWS::Serverless::Function"
    }
    for rule in rules():
        event = functions[rule.function_id]["Properties"]["Events"][rule.rule_id]
        bus = event["Properties"].get("EventBusName")
        if set(rule.pattern["source"]) & GLOBAL_SOURCES:
            assert bus == {
                "Fn::If": ["InGlobalEventsRegion", "default", {"Ref": "ForwardedEventsBus"}]
            }
        elif rule.function_id == "RestoreDeliveryChainFunction" and set(rule.pattern["source"]) & {
            "aws.s3",
            "aws.kms",
        }:
            # The trail's bucket and key: this account's bus, or the log-archive bus that
            # the companion forwards to (companions/log-archive/).
            assert bus == {"Fn::If": ["HasLogArchive", {"Ref": "LogArchiveEventsBus"}, "default"]}
        else:
            # CloudTrail events arrive in the trail's home region: the stack's own.
            assert bus is None


def test_forwarded_bus_admits_only_the_forwarder_role() -> None:
    policy = MAIN["Resources"]["ForwardedEventsBusPolicy"]["Properties"]["Statement"]

    assert policy["Action"] == "events:PutEvents"
    assert policy["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": {
                "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ForwarderRoleName}"
            }
        }
    }
    assert (
        MAIN["Parameters"]["ForwarderRoleName"]["Default"]
        == FORWARDER["Parameters"]["ForwarderRoleName"]["Default"]
    )


def test_forwarder_role_may_only_put_to_the_target_bus() -> None:
    role = FORWARDER["Resources"]["ForwarderRole"]["Properties"]
    [statement] = role["Policies"][0]["PolicyDocument"]["Statement"]

    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == {"Ref": "TargetEventBusArn"}
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}


def test_forwarder_target_retries_and_dead_letters() -> None:
    [target] = FORWARDER["Resources"]["ForwardGlobalEvents"]["Properties"]["Targets"]

    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 185
    assert "DeadLetterConfig" in target


def test_forwarder_carries_changes_to_trailguards_roles() -> None:
    pattern = FORWARDER["Resources"]["ForwardGlobalEvents"]["Properties"]["EventPattern"]
    [roles_rule] = [r for r in rules() if r.rule_id == "OwnRolesChanged"]
    assert set(roles_rule.pattern["detail"]["eventName"]) <= set(pattern["detail"]["eventName"])
    sample = json.loads((ROOT / "events" / "put_own_role_policy.json").read_text())
    assert matches(pattern, sample)


def test_forwarder_alarm_notifies_its_own_encrypted_topic() -> None:
    resources = FORWARDER["Resources"]
    alarm = resources["UndeliveredAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    topic = resources["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmKey"}
    # CloudWatch alarms of this account only may publish, and use the key.
    [allow] = [
        s
        for s in resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allow["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    key_statements = resources["AlarmKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert {"Service": "cloudwatch.amazonaws.com"} in [s["Principal"] for s in key_statements]


def test_cfn_lint_on_the_forwarder_template() -> None:
    from tests.template.test_validate import _assert_lint_clean, _cfn_lint, _run

    _assert_lint_clean(_run(_cfn_lint(), ROOT / "forwarder" / "template.yaml"))
