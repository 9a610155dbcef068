"""`trailguard status` on trailguard's own health, against the moto world.

The functions, rules and alarms are those of template.yaml, made in moto with
the names CloudFormation gives them (`<stack>-<logical id>-<suffix>`; SAM names
a function's rule `<function id><event id>`). moto's CloudFormation can run
neither the SAM transform nor AWS::CloudWatch::Alarm, so CloudFormation's two
answers (DescribeStacks, ListStackResources) come from botocore's Stubber in
the shapes AWS documents; everything status then reads (EventBridge, Lambda,
CloudWatch) is moto's real state, changed here as an attacker would.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from drill import template as tpl
from drill.world import REGION, STACK, World
from tests.functional.helpers import aws
from trailguard_cli import main
from trailguard_cli.self_health import HEARTBEAT


def physical(logical_id: str) -> str:
    """A name as CloudFormation makes one: stack, logical id cut short, suffix; 64 at most."""
    return f"{STACK}-{logical_id}"[:51] + "-1A2B3C4D5E6F"


@dataclass
class Itself:
    """trailguard's own resources as deployed in the world, by logical id."""

    functions: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)
    summaries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:  # the stack, each resource, the heartbeat
        return 2 + len(self.functions) + len(self.rules) + len(self.alarms)

    def add(self, logical_id: str, kind: str, physical_id: str) -> str:
        self.summaries.append(
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": physical_id,
                "ResourceType": kind,
                "LastUpdatedTimestamp": datetime(2026, 11, 30, tzinfo=UTC),
                "ResourceStatus": "CREATE_COMPLETE",
            }
        )
        return physical_id


def _code() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def deploy_itself(world: World) -> Itself:
    template = tpl.load_template()
    itself = Itself()
    lam, events, cloudwatch = aws("lambda"), aws("events"), aws("cloudwatch")
    reserved = int(world.parameters["ReservedConcurrency"])
    for function_id, props in tpl.functions(template).items():
        name = itself.add(function_id, "AWS::Lambda::Function", physical(function_id))
        itself.functions[function_id] = name
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=world.role_arns[props["Role"]["Fn::GetAtt"][0]],
            Handler="app.handler",
            Code={"ZipFile": _code()},
        )["FunctionArn"]
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
        for event_id, event in (props.get("Events") or {}).items():
            if event["Type"] not in ("EventBridgeRule", "Schedule"):
                continue
            logical_id = f"{function_id}{event_id}"
            rule = itself.add(logical_id, "AWS::Events::Rule", physical(logical_id))
            itself.rules[logical_id] = rule
            if event["Type"] == "Schedule":
                minutes = world.parameters["ReconcileIntervalMinutes"]
                events.put_rule(Name=rule, ScheduleExpression=f"rate({minutes} minutes)")
            else:  # the pattern is not under test: status reads state and targets only
                events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["aws.cloudtrail"]}))
            events.put_targets(Rule=rule, Targets=[{"Id": function_id, "Arn": arn}])
    for logical_id, resource in tpl.resources(template).items():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            name = itself.add(logical_id, "AWS::CloudWatch::Alarm", physical(logical_id))
            itself.alarms[logical_id] = name
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                AlarmDescription=resource["Properties"]["AlarmDescription"],
                Namespace="trailguard",
                MetricName=logical_id,
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=0,
                ComparisonOperator="GreaterThanThreshold",
                AlarmActions=[world.topic_arn],
            )
            cloudwatch.set_alarm_state(
                AlarmName=name, StateValue="OK", StateReason="Threshold not crossed"
            )
    return itself


def heartbeat(minutes_ago: float) -> None:
    """The datapoint CloudWatch records from the reconciler's heartbeat."""
    aws("cloudwatch").put_metric_data(
        Namespace=HEARTBEAT.namespace,
        MetricData=[
            {
                "MetricName": HEARTBEAT.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in HEARTBEAT.dimensions.items()],
                "Value": 1.0,
                "Unit": "Count",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=minutes_ago),
            }
        ],
    )


def _describe_stacks(world: World, status: str) -> dict[str, Any]:
    parameters = {**world.parameters, "ProtectedTrailNames": "org-trail"}
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "StackId": f"arn:aws:cloudformation:{REGION}:111111111111:stack/{STACK}/"
                "00000000-0000-0000-0000-000000000000",
                "CreationTime": datetime(2026, 11, 30, tzinfo=UTC),
                "StackStatus": status,
                "Parameters": [
                    {"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()
                ],
                "Outputs": [
                    {"OutputKey": "AlertTopicArn", "OutputValue": world.topic_arn},
                    {"OutputKey": "BaselineTableName", "OutputValue": world.table_name},
                    {"OutputKey": "BaselineSigningKeyArn", "OutputValue": world.signing_key_arn},
                    {"OutputKey": "Mode", "OutputValue": "enforce"},
                ],
            }
        ]
    }


@contextmanager
def cloudformation(
    world: World,
    itself: Itself,
    status: str = "UPDATE_COMPLETE",
    resources_error: str = "",
    *,
    lists_resources: bool = True,
) -> Iterator[None]:
    """CloudFormation's answers, in order: DescribeStacks, then (for status)
    ListStackResources; any other CloudFormation call fails the test."""
    from botocore.stub import Stubber

    from trailguard import clients

    # The client the CLI will get: trailguard's client factory caches one per region.
    stubber = Stubber(clients.client("cloudformation", REGION))
    stubber.add_response("describe_stacks", _describe_stacks(world, status), {"StackName": STACK})
    if not lists_resources:
        pass
    elif resources_error:
        stubber.add_client_error(
            "list_stack_resources", resources_error, "User is not authorized", 403
        )
    else:
        stubber.add_response(
            "list_stack_resources",
            {"StackResourceSummaries": itself.summaries},
            {"StackName": STACK},
        )
    with stubber:
        yield
        stubber.assert_no_pending_responses()


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err, stdin=io.StringIO())
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def itself(world: World) -> Itself:
    deployed = deploy_itself(world)
    template = tpl.load_template()
    functions = tpl.functions(template)
    rules = sum(len(props.get("Events") or {}) for props in functions.values())
    alarms = sum(r["Type"] == "AWS::CloudWatch::Alarm" for r in tpl.resources(template).values())
    # Everything the template declares, so that status judges the stack as deployed.
    assert (len(deployed.functions), len(deployed.rules), len(deployed.alarms)) == (
        len(functions),
        rules,
        alarms,
    )
    return deployed


def test_healthy_trailguard(world: World, itself: Itself) -> None:
    heartbeat(minutes_ago=1)

    with cloudformation(world, itself):
        code, out, err = run("status")

    assert code == 0, err
    assert "OK: all 8 checks hold." in out
    assert f"OK: trailguard itself: all {itself.count} checks hold." in out
    assert "PROBLEM" not in out
    for rule in itself.rules.values():
        assert f"rule is enabled          {rule}" in out
    assert out.count("ENABLED, 1 target") == len(itself.rules)
    assert out.count("reserved concurrency 2") == len(itself.functions)
    assert "OK       reconciler ran recently" in out
    assert ", 1 min ago" in out or ", 0 min ago" in out


def test_disabled_rule_and_alarm_in_alarm_are_problems(world: World, itself: Itself) -> None:
    heartbeat(minutes_ago=1)
    rule = itself.rules["RestoreTrailFunctionTrailChanged"]
    alarm = itself.alarms["FunctionErrorsAlarm"]
    aws("events").disable_rule(Name=rule)
    aws("cloudwatch").set_alarm_state(
        AlarmName=alarm,
        StateValue="ALARM",
        StateReason="Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0).",
    )

    with cloudformation(world, itself):
        code, out, _ = run("status")

    assert code == 1
    assert "OK: all 8 checks hold." in out  # the trail is fine; trailguard is not
    lines = out.splitlines()
    rule_row = next(i for i, line in enumerate(lines) if rule in line)
    assert lines[rule_row].startswith("  PROBLEM  rule is enabled")
    assert lines[rule_row].endswith("DISABLED, 1 target")
    assert lines[rule_row + 1] == (
        "           - the rule is DISABLED: the events it matches are dropped"
    )
    alarm_row = next(i for i, line in enumerate(lines) if alarm in line)
    assert lines[alarm_row].startswith("  PROBLEM  alarm is not firing")
    assert lines[alarm_row].endswith("ALARM")
    assert "was greater than the threshold (0.0)." in lines[alarm_row + 1]
    assert "a trailguard function failed" in lines[alarm_row + 2]
    assert f"PROBLEM: 2 of {itself.count} checks of trailguard itself." in out


def test_throttled_deleted_untargeted_and_silent(world: World, itself: Itself) -> None:
    # No heartbeat at all: the reconciler has not run.
    lam = aws("lambda")
    lam.put_function_concurrency(
        FunctionName=itself.functions["RestoreTrailFunction"], ReservedConcurrentExecutions=0
    )
    lam.delete_function(FunctionName=itself.functions["RestoreServiceLinkedRoleFunction"])
    rule = itself.rules["RestoreTrustedAccessFunctionTrustedAccessDisabled"]
    aws("events").remove_targets(Rule=rule, Ids=["RestoreTrustedAccessFunction"])
    aws("cloudwatch").disable_alarm_actions(AlarmNames=[itself.alarms["ReconcilerHeartbeatAlarm"]])

    with cloudformation(world, itself):
        code, out, _ = run("status", "--json")

    document = json.loads(out)
    assert code == 1
    assert document["ok"] is False
    assert document["drifted"] == 0
    assert document["problems"] == 5
    problems = {
        c["resource"]: c["details"] for c in document["self"]["checks"] if c["state"] == "PROBLEM"
    }
    assert problems == {
        itself.functions["RestoreTrailFunction"]: [
            "reserved concurrency is 0: every invocation is throttled, the function never runs"
        ],
        itself.functions["RestoreServiceLinkedRoleFunction"]: ["the function does not exist"],
        rule: ["the rule has no target: the events it matches reach no function"],
        itself.alarms["ReconcilerHeartbeatAlarm"]: [
            "its actions are disabled: a change of state notifies nobody"
        ],
        "trailguard/ReconcilerHeartbeat": [
            "no heartbeat in the last 15 minutes: the reconciler is scheduled every 1 minutes, "
            "it has not run"
        ],
    }


def test_late_heartbeat_and_failed_stack(world: World, itself: Itself) -> None:
    heartbeat(minutes_ago=3)  # two runs of 1 minute missed

    with cloudformation(world, itself, status="UPDATE_ROLLBACK_FAILED"):
        code, out, _ = run("status")

    assert code == 1
    assert "PROBLEM  stack is deployed" in out
    assert "- the stack is UPDATE_ROLLBACK_FAILED" in out
    assert "the reconciler is scheduled every 1 minutes: two or more runs missed" in out
    assert f"PROBLEM: 2 of {itself.count} checks of trailguard itself." in out


def test_a_self_check_that_cannot_be_made_is_exit_2(world: World, itself: Itself) -> None:
    with cloudformation(world, itself, resources_error="AccessDenied"):
        code, out, _ = run("status")

    assert code == 2
    assert "ERROR    stack resources can be read" in out
    assert "cloudformation:ListStackResources" in out
    assert "ERROR: 1 of 2 checks of trailguard itself could not be made." in out


def test_without_the_stack_trailguard_itself_is_not_checked(world: World) -> None:
    key = ("--signing-key", world.signing_key_arn)
    code, out, _ = run("status", "--table", world.table_name, *key)

    assert code == 0
    assert "trailguard itself: not checked (with --table the stack is not read)." in out

    code, out, _ = run("status", "--json", "--table", world.table_name, *key)
    assert json.loads(out)["self"] == {
        "checked": False,
        "reason": "with --table the stack is not read",
    }
