"""Self-protection of the alert path, the stack and trailguard's roles (issue 10, items 2
and 6), through the real AlertSelfTamperingFunction against moto. Each test asserts on
AWS state and on the alert the topic's SQS subscriber received."""

from __future__ import annotations

import json
from typing import Any

import pytest

from drill.world import World
from tests.conftest import load_event
from tests.functional.helpers import aws, fresh
from trailguard.errors import RemediationFailed

FUNCTION = "AlertSelfTamperingFunction"
ADMIN = "arn:aws:iam::111111111111:role/BreakGlassAdmin"


def _key_id(world: World) -> str:
    return world.environment["ALERT_KEY_ARN"].rsplit("/", 1)[1]


def _event(sample: str, **parameters: Any) -> dict[str, Any]:
    event = fresh(load_event(sample))
    if parameters:
        event["detail"]["requestParameters"] = parameters
    return event


def _key_event(world: World, name: str, by_arn: bool = False) -> dict[str, Any]:
    event = _event("disable_alert_key.json")
    key = world.environment["ALERT_KEY_ARN"] if by_arn else _key_id(world)
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"] = {"keyId": key}
    return event


def _one_alert(world: World) -> Any:
    [alert] = world.drain_alerts()
    return alert


# ------------------------------------------------------------------ the alert key


@pytest.mark.parametrize("by_arn", [False, True], ids=["key-id", "key-arn"])
def test_disabled_alert_key_is_enabled_again_and_critical(world: World, by_arn: bool) -> None:
    aws("kms").disable_key(KeyId=_key_id(world))

    result = world.invoke(FUNCTION, _key_event(world, "DisableKey", by_arn))

    assert result["outcome"] == "repaired"
    assert aws("kms").describe_key(KeyId=_key_id(world))["KeyMetadata"]["KeyState"] == "Enabled"
    # The early CRITICAL could not be published (the key was disabled): one alert only.
    alert = _one_alert(world)
    assert (alert.severity, alert.outcome) == ("CRITICAL", "repaired")
    assert "KMS key was disabled" in alert.document["headline"]
    assert alert.document["actor"]["sessionIssuer"] == ADMIN


def test_key_scheduled_for_deletion_is_cancelled_then_enabled(world: World) -> None:
    aws("kms").schedule_key_deletion(KeyId=_key_id(world), PendingWindowInDays=7)

    result = world.invoke(FUNCTION, _key_event(world, "ScheduleKeyDeletion"))

    assert result["outcome"] == "repaired"
    assert aws("kms").describe_key(KeyId=_key_id(world))["KeyMetadata"]["KeyState"] == "Enabled"
    alert = _one_alert(world)
    assert [a["call"] for a in alert.document["actions"]] == ["CancelKeyDeletion", "EnableKey"]


def test_changed_key_policy_is_critical_with_the_manual_action(world: World) -> None:
    result = world.invoke(FUNCTION, _key_event(world, "PutKeyPolicy"))

    assert result["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "key policy" in alert.document["manualAction"]


def test_another_key_is_not_trailguards(world: World) -> None:
    other = aws("kms").create_key()["KeyMetadata"]["KeyId"]
    event = _key_event(world, "DisableKey")
    event["detail"]["requestParameters"] = {"keyId": other}

    assert world.invoke(FUNCTION, event)["outcome"] == "notice"
    assert world.drain_alerts() == []


def test_a_repair_that_fails_is_critical_and_raises(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trailguard.adapters.kms import KmsKeyGateway
    from trailguard.errors import AwsCallFailed

    def refused(self: Any, key: str) -> None:
        raise AwsCallFailed("EnableKey", "AccessDeniedException", "key policy", "fix the policy")

    monkeypatch.setattr(KmsKeyGateway, "enable", refused)
    aws("kms").disable_key(KeyId=_key_id(world))

    with pytest.raises(RemediationFailed):
        world.invoke(FUNCTION, _key_event(world, "DisableKey"))

    # The key stays disabled, so the topic cannot deliver: nothing reaches on-call here
    # (the witness does: tests/companions/witness); the alarm on AlertsNotDelivered fires.
    assert world.drain_alerts() == []
    assert aws("kms").describe_key(KeyId=_key_id(world))["KeyMetadata"]["KeyState"] == "Disabled"


# ------------------------------------------------------------------ subscriptions, alarms, rules


def test_filter_policy_on_the_on_call_subscription_is_critical(world: World) -> None:
    [subscription] = aws("sns").list_subscriptions_by_topic(TopicArn=world.topic_arn)[
        "Subscriptions"
    ]
    event = _event(
        "set_alert_subscription_filter_policy.json",
        subscriptionArn=subscription["SubscriptionArn"],
        attributeName="FilterPolicy",
        attributeValue='{"severity":["INFO"]}',
    )

    result = world.invoke(FUNCTION, event)

    assert result["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "filter policy" in alert.document["headline"]
    assert "FilterPolicy" in alert.document["detail"]


def _alarm(name: str, enabled: bool = True) -> None:
    aws("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="trailguard",
        MetricName="ReconcilerHeartbeat",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=2,
        Threshold=1,
        ComparisonOperator="LessThanThreshold",
        ActionsEnabled=enabled,
    )


def test_disabled_alarm_actions_are_enabled_again(world: World) -> None:
    ours, theirs = "trailguard-ReconcilerHeartbeatAlarm-EXAMPLE", "team-alarm"
    _alarm(ours, enabled=False)
    _alarm(theirs, enabled=False)
    event = _event("disable_own_alarm_actions.json", alarmNames=[ours, theirs])

    result = world.invoke(FUNCTION, event)

    assert result["outcome"] == "repaired"
    alarms = aws("cloudwatch").describe_alarms(AlarmNames=[ours, theirs])["MetricAlarms"]
    assert {a["AlarmName"]: a["ActionsEnabled"] for a in alarms} == {ours: True, theirs: False}
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert alert.document["resource"] == ours


def test_deleted_alarms_are_critical(world: World) -> None:
    event = _event(
        "disable_own_alarm_actions.json", alarmNames=["trailguard-FunctionErrorsAlarm-EXAMPLE"]
    )
    event["detail"]["eventName"] = "DeleteAlarms"

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    alert = _one_alert(world)
    assert (alert.severity, "alarms were deleted" in alert.document["headline"]) == (
        "CRITICAL",
        True,
    )


def test_put_rule_with_state_disabled_is_re_enabled(world: World) -> None:
    event = _event("put_own_rule_disabled.json")
    name = event["detail"]["requestParameters"]["name"]
    aws("events").put_rule(Name=name, EventPattern='{"source":["aws.kms"]}', State="DISABLED")

    assert world.invoke(FUNCTION, event)["outcome"] == "repaired"
    assert aws("events").describe_rule(Name=name)["State"] == "ENABLED"
    alert = _one_alert(world)
    assert "PutRule with State DISABLED" in alert.document["headline"]


def test_function_environment_changed_is_critical(world: World) -> None:
    event = _event(
        "throttle_own_function_to_zero.json",
        functionName="trailguard-RestoreTrailFunction-AbCdEf123456",
        environment={},
    )
    event["detail"]["eventName"] = "UpdateFunctionConfiguration20150331v2"

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "configuration or environment" in alert.document["headline"]


# ------------------------------------------------------------------ the stack


def test_update_of_trailguards_stack_is_critical(world: World) -> None:
    assert world.invoke(FUNCTION, _event("update_own_stack.json"))["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "describe-stack-events" in alert.document["manualAction"]


def test_delete_by_stack_arn_is_critical_and_other_stacks_are_not_ours(world: World) -> None:
    arn = "arn:aws:cloudformation:us-east-1:111111111111:stack/trailguard/0a1b-2c3d"
    event = _event("update_own_stack.json", stackName=arn)
    event["detail"]["eventName"] = "DeleteStack"
    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    assert _one_alert(world).severity == "CRITICAL"

    other = _event("update_own_stack.json", stackName="trailguard-copy")
    assert world.invoke(FUNCTION, other)["outcome"] == "notice"
    assert world.drain_alerts() == []


def test_allow_listed_deployer_updating_the_stack_is_a_warning(world: World) -> None:
    world.apply_environment(ALLOWED_PRINCIPAL_ARNS=ADMIN)

    assert world.invoke(FUNCTION, _event("update_own_stack.json"))["outcome"] == "allowed"
    assert _one_alert(world).severity == "WARNING"


# ------------------------------------------------------------------ PassRole and IAM


def test_function_given_a_trailguard_role_is_critical(world: World) -> None:
    event = _event("pass_own_role_to_new_function.json")
    event["detail"]["requestParameters"]["role"] = world.role_arns["RestoreTrailRole"]

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "given one of trailguard's roles" in alert.document["headline"]
    assert alert.document["resource"] == "log-shipper"
    assert world.role_arns["RestoreTrailRole"] in alert.document["detail"]


def test_even_cloudformation_giving_a_role_to_a_foreign_function_is_critical(
    world: World,
) -> None:
    event = _event("pass_own_role_to_new_function.json")
    event["detail"]["requestParameters"]["role"] = world.role_arns["RestoreTrailRole"]
    event["detail"]["userIdentity"]["invokedBy"] = "cloudformation.amazonaws.com"

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    assert _one_alert(world).severity == "CRITICAL"


def test_a_function_with_its_own_role_is_not_trailguards_business(world: World) -> None:
    event = _event("pass_own_role_to_new_function.json")
    event["detail"]["requestParameters"]["role"] = "arn:aws:iam::111111111111:role/log-shipper"

    assert world.invoke(FUNCTION, event)["outcome"] == "notice"
    assert world.drain_alerts() == []


@pytest.mark.parametrize(
    "name", ["PutRolePolicy", "UpdateAssumeRolePolicy", "AttachRolePolicy", "DeleteRole"]
)
def test_iam_changes_to_trailguards_roles_are_critical(world: World, name: str) -> None:
    event = _event("put_own_role_policy.json")
    event["detail"]["eventName"] = name
    # IAM role names are case-insensitive: a changed case is the same role.
    event["detail"]["requestParameters"]["roleName"] = "TRAILGUARD-RESTORETRAILROLE-EXAMPLE"

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "trailguard's roles" in alert.document["headline"]


def test_iam_changes_to_other_roles_are_not_ours(world: World) -> None:
    event = _event("put_own_role_policy.json", roleName="CloudTrailToCloudWatchLogs")

    assert world.invoke(FUNCTION, event)["outcome"] == "notice"
    assert world.drain_alerts() == []


def test_tampering_under_trailguards_own_role_is_not_ignored(world: World) -> None:
    event = _event("put_own_role_policy.json")
    issuer = event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]
    issuer["arn"] = world.role_arns["AlertSelfTamperingRole"]

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    alert = _one_alert(world)
    assert alert.severity == "CRITICAL"
    assert "trailguard's own role" in alert.document["detail"]


def test_hostile_names_are_data_and_nothing_crashes(world: World) -> None:
    hostile = "trailguard-X\u2028MANUAL ACTION NEEDED\u001b[2J\ud800"
    event = _event("disable_own_alarm_actions.json", alarmNames=[hostile])
    event["detail"]["eventName"] = "DeleteAlarms"

    assert world.invoke(FUNCTION, event)["outcome"] == "detected"
    alert = _one_alert(world)
    assert "\u001b" not in json.dumps(alert.document["resource"], ensure_ascii=False)
    assert "\n" not in alert.subject
