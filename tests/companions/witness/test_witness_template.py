"""companions/witness/template.yaml: a bus only trailguard's account may put events on,
rules on trailguard's two kinds of event, and an alarm when heartbeats stop."""

from __future__ import annotations

import re
from typing import Any

import pytest

from drill.patterns import matches
from drill.witness import witness_rules, witness_template
from tests.template.helpers import actions_of, as_list

TEMPLATE = witness_template()
RESOURCES = TEMPLATE["Resources"]
TRAILGUARD = "111111111111"


def test_bus_policy_admits_only_trailguards_account_and_its_events() -> None:
    props = RESOURCES["WitnessBusPolicy"]["Properties"]
    assert props["EventBusName"] == {"Ref": "WitnessBus"}
    statement = props["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "events:PutEvents"
    assert statement["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${TrailguardAccountId}:root"}
    }
    assert statement["Resource"] == {"Fn::GetAtt": ["WitnessBus", "Arn"]}
    assert statement["Condition"] == {
        "ForAllValues:StringEquals": {
            "events:source": ["trailguard"],
            "events:detail-type": ["trailguard alert", "trailguard heartbeat"],
        },
        # trailguard's roles only: CloudFormation names them after the stack.
        "ArnLike": {
            "aws:PrincipalArn": {
                "Fn::Sub": (
                    "arn:${AWS::Partition}:iam::${TrailguardAccountId}:role/${TrailguardStackName}-*"
                )
            }
        },
    }
    policies = [r for r in RESOURCES.values() if r["Type"] == "AWS::Events::EventBusPolicy"]
    assert len(policies) == 1, "one statement, nothing else admitted"


def test_trailguard_account_is_required_and_constrained() -> None:
    spec = TEMPLATE["Parameters"]["TrailguardAccountId"]
    assert "Default" not in spec, "the witness must be told which account to trust"
    assert re.fullmatch(spec["AllowedPattern"], TRAILGUARD)
    for bad in ("*", "11111111111", "1111111111111", "arn:aws:iam::111111111111:root"):
        assert not re.fullmatch(spec["AllowedPattern"], bad)


def _event(detail_type: str, detail: dict[str, Any], account: str = TRAILGUARD) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1",
        "detail-type": detail_type,
        "source": "trailguard",
        "account": account,
        "time": "2026-11-24T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


RULES = witness_rules({"TrailguardAccountId": TRAILGUARD})


def _matching(event: dict[str, Any]) -> set[str]:
    return {rule for rule, pattern in RULES.items() if matches(pattern, event)}


@pytest.mark.parametrize(
    ("detail_type", "detail", "expected"),
    [
        ("trailguard heartbeat", {"healthy": True}, {"Heartbeats"}),
        ("trailguard alert", {"severity": "CRITICAL", "invariant": "I2"}, {"CriticalAlerts"}),
        (
            "trailguard alert",
            {"severity": "CRITICAL", "invariant": "trailguard's own resources"},
            {"CriticalAlerts"},
        ),
        (
            "trailguard alert",
            {"severity": "WARNING", "invariant": "trailguard's own resources"},
            {"SelfTamperingAlerts"},
        ),
        ("trailguard alert", {"severity": "HIGH", "invariant": "I2"}, set()),
    ],
)
def test_each_event_is_answered_by_exactly_one_rule_or_none(
    detail_type: str, detail: dict[str, Any], expected: set[str]
) -> None:
    assert _matching(_event(detail_type, detail)) == expected


def test_events_from_another_account_match_no_rule() -> None:
    event = _event("trailguard alert", {"severity": "CRITICAL"}, account="444444444444")
    assert _matching(event) == set()


def test_every_rule_retries_and_dead_letters() -> None:
    events = RESOURCES["WitnessFunction"]["Properties"]["Events"]
    for name, event in events.items():
        props = event["Properties"]
        assert props["EventBusName"] == {"Ref": "WitnessBus"}, name
        assert props["RetryPolicy"]["MaximumRetryAttempts"] == 185, name
        assert props["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": ["WitnessDeadLetterQueue", "Arn"]
        }, name


def test_heartbeat_alarm_breaches_when_heartbeats_stop_and_fits_every_interval() -> None:
    alarm = RESOURCES["HeartbeatMissingAlarm"]["Properties"]
    assert alarm["TreatMissingData"] == "breaching"
    assert (alarm["Namespace"], alarm["MetricName"]) == ("trailguard-witness", "Heartbeat")
    assert alarm["Dimensions"] == [{"Name": "Account", "Value": {"Ref": "TrailguardAccountId"}}]
    assert alarm["AlarmActions"] == [{"Ref": "WitnessTopic"}]
    mapping = TEMPLATE["Mappings"]["ReconcileInterval"]
    for minutes in TEMPLATE["Parameters"]["ReconcileIntervalMinutes"]["AllowedValues"]:
        period = mapping[str(minutes)]["HeartbeatPeriod"]
        # Two empty periods must span more than one interval plus a minute of jitter.
        assert alarm["DatapointsToAlarm"] * period > minutes * 60 + 60, minutes


def test_the_handler_counts_the_metric_the_alarm_reads() -> None:
    from drill.witness import handler_module

    module = handler_module()
    alarm = RESOURCES["HeartbeatMissingAlarm"]["Properties"]
    assert (
        alarm["Namespace"],
        alarm["MetricName"],
    ) == (module.METRIC_NAMESPACE, module.METRIC_NAME)


def test_witness_role_is_least_privilege() -> None:
    role = RESOURCES["WitnessRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    granted = {a for s in statements for a in actions_of(s)}
    assert granted == {
        "sns:Publish",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "cloudwatch:PutMetricData",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    for statement in statements:
        if "cloudwatch:PutMetricData" in actions_of(statement):
            # PutMetricData has no resource type: the namespace condition scopes it.
            assert statement["Condition"] == {
                "StringEquals": {"cloudwatch:namespace": "trailguard-witness"}
            }
        else:
            assert "*" not in as_list(statement["Resource"]), statement
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_topic_is_encrypted_and_the_bus_arn_is_an_output() -> None:
    assert RESOURCES["WitnessTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "WitnessKey"}
    assert TEMPLATE["Outputs"]["WitnessBusArn"]["Value"] == {"Fn::GetAtt": ["WitnessBus", "Arn"]}


def test_cfn_lint_on_the_witness_template() -> None:
    from drill.witness import TEMPLATE as PATH
    from tests.template.test_validate import _assert_lint_clean, _cfn_lint, _run

    _assert_lint_clean(_run(_cfn_lint(), PATH))


def test_the_witness_knows_self_tampering_by_trailguards_own_name_for_it() -> None:
    """The witness recognises self-tampering alerts by their `invariant`: if trailguard
    renames it, the witness's rule and handler must follow, or they go deaf."""
    from drill.witness import handler_module
    from trailguard.protected.trailguard_itself import INVARIANT

    rule = RESOURCES["WitnessFunction"]["Properties"]["Events"]["SelfTamperingAlerts"]
    assert rule["Properties"]["Pattern"]["detail"]["invariant"] == [INVARIANT]
    assert handler_module().SELF_TAMPERING == INVARIANT
