"""`trailguard status` on trailguard itself: the judges of what AWS answered, and the table.

The same checks against moto are in tests/functional/test_cli_status_self.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from drill import template as tpl
from trailguard_cli import aws
from trailguard_cli.self_health import (
    HEARTBEAT,
    SelfCheck,
    format_self,
    judge_alarm,
    judge_function,
    judge_heartbeat,
    judge_rule,
    judge_stack,
    rule_address,
)

NOW = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def test_heartbeat_is_the_metric_the_template_alarms_on() -> None:
    template = tpl.load_template()
    alarm = tpl.resources(template)["ReconcilerHeartbeatAlarm"]["Properties"]
    environment = tpl.global_environment(template)

    assert alarm["Namespace"] == HEARTBEAT.namespace == environment["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["MetricName"] == HEARTBEAT.name
    assert alarm["Dimensions"] == [
        {"Name": name, "Value": value} for name, value in HEARTBEAT.dimensions.items()
    ]
    assert HEARTBEAT.dimensions == {"service": environment["POWERTOOLS_SERVICE_NAME"]}


def test_rule_address_from_the_physical_id() -> None:
    assert rule_address("trailguard-Rule-1A2B") == ("trailguard-Rule-1A2B", "default")
    assert rule_address("trailguard-global-events|trailguard-Rule-1A2B") == (
        "trailguard-Rule-1A2B",
        "trailguard-global-events",
    )


@pytest.mark.parametrize(
    ("found", "state", "details"),
    [
        (("ENABLED", 1), "OK", ()),
        (("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", 1), "OK", ()),
        (("DISABLED", 1), "PROBLEM", ("the rule is DISABLED: the events it matches are dropped",)),
        (
            ("ENABLED", 0),
            "PROBLEM",
            ("the rule has no target: the events it matches reach no function",),
        ),
        (None, "PROBLEM", ("the rule does not exist: the events it matched reach no function",)),
    ],
)
def test_rules(found: tuple[str, int] | None, state: str, details: tuple[str, ...]) -> None:
    check = judge_rule("r", found)

    assert (check.state, check.details) == (state, details)


@pytest.mark.parametrize(
    ("reserved", "expected", "state", "summary"),
    [
        (2, 2, "OK", "reserved concurrency 2"),
        (5, 2, "OK", "reserved concurrency 5"),
        (aws.ABSENT, 0, "OK", "no reserved concurrency"),  # the stack reserves none
        (aws.ABSENT, 2, "PROBLEM", "no reserved concurrency"),
        (1, 2, "PROBLEM", "reserved concurrency 1"),
        (0, 2, "PROBLEM", "reserved concurrency 0"),
        (0, None, "PROBLEM", "reserved concurrency 0"),
        (None, 2, "PROBLEM", "missing"),
    ],
)
def test_functions(reserved: int | None, expected: int | None, state: str, summary: str) -> None:
    check = judge_function("f", reserved, expected)

    assert (check.state, check.summary) == (state, summary)


def test_throttled_to_zero_says_it_never_runs() -> None:
    assert judge_function("f", 0, 2).details == (
        "reserved concurrency is 0: every invocation is throttled, the function never runs",
    )


def test_alarm_in_alarm_names_the_reason_and_what_to_do() -> None:
    alarm = {
        "StateValue": "ALARM",
        "StateUpdatedTimestamp": NOW,
        "StateReason": "Threshold Crossed\x1b[2J",
        "AlarmDescription": "trailguard CRITICAL - read the alert",
        "ActionsEnabled": True,
    }

    check = judge_alarm("a", alarm)

    assert check.state == "PROBLEM"
    assert check.details[0].startswith("in ALARM since 2026-12-01T10:30:00Z: Threshold Crossed")
    assert "\x1b" not in check.details[0]
    assert check.details[1] == "trailguard CRITICAL - read the alert"


@pytest.mark.parametrize(
    ("alarm", "state"),
    [
        ({"StateValue": "OK", "ActionsEnabled": True}, "OK"),
        ({"StateValue": "INSUFFICIENT_DATA", "ActionsEnabled": True}, "OK"),
        ({"StateValue": "OK", "ActionsEnabled": False}, "PROBLEM"),
        (None, "PROBLEM"),
    ],
)
def test_alarms(alarm: dict[str, object] | None, state: str) -> None:
    assert judge_alarm("a", alarm).state == state


@pytest.mark.parametrize(
    ("minutes_ago", "state"), [(0, "OK"), (4, "OK"), (11, "OK"), (12, "PROBLEM"), (40, "PROBLEM")]
)
def test_heartbeat_is_late_after_two_missed_runs(minutes_ago: int, state: str) -> None:
    points = [(NOW - timedelta(minutes=minutes_ago), 1.0), (NOW - timedelta(minutes=50), 1.0)]

    check = judge_heartbeat(points, NOW, interval_minutes=5)

    assert check.state == state
    last = (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")
    assert check.summary == f"last {last}, {minutes_ago} min ago"


def test_no_heartbeat() -> None:
    check = judge_heartbeat([(NOW, 0.0)], NOW, interval_minutes=10)

    assert (check.state, check.summary) == ("PROBLEM", "no heartbeat")
    assert check.details == (
        "no heartbeat in the last 30 minutes: the reconciler is scheduled every 10 minutes, "
        "it has not run",
    )


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("CREATE_COMPLETE", "OK"),
        ("UPDATE_COMPLETE", "OK"),
        ("UPDATE_ROLLBACK_COMPLETE", "OK"),
        ("UPDATE_IN_PROGRESS", "OK"),
        ("UPDATE_ROLLBACK_FAILED", "PROBLEM"),
        ("ROLLBACK_COMPLETE", "PROBLEM"),
        ("DELETE_IN_PROGRESS", "PROBLEM"),
    ],
)
def test_stack(status: str, state: str) -> None:
    assert judge_stack("trailguard", status).state == state


def test_table() -> None:
    checks = [
        SelfCheck("stack is deployed", "trailguard", "OK", "UPDATE_COMPLETE"),
        judge_rule("trailguard-Rule-1A2B", ("DISABLED", 1)),
        SelfCheck("function exists", "odd\x1bname", "OK", "reserved concurrency 2"),
    ]

    assert format_self("trailguard", checks).splitlines() == [
        "trailguard itself (stack 'trailguard'):",
        "  STATE    CHECK              RESOURCE              STATUS",
        "  OK       stack is deployed  trailguard            UPDATE_COMPLETE",
        "  PROBLEM  rule is enabled    trailguard-Rule-1A2B  DISABLED, 1 target",
        "           - the rule is DISABLED: the events it matches are dropped",
        "  OK       function exists    'odd\\x1bname'         reserved concurrency 2",
        "",
        "PROBLEM: 1 of 3 checks of trailguard itself. trailguard may be blind: read its "
        "alerts, then redeploy the stack to restore it.",
    ]


# ---------------------------------------------------------------- AWS answers (Stubber)


@pytest.fixture
def stubbed() -> Iterator[Callable[[str], Stubber]]:
    """A Stubber on the client the CLI will get from trailguard's client factory."""
    from trailguard import clients

    clients.reset_clients()
    stubbers: list[Stubber] = []

    def stub(service: str) -> Stubber:
        stubber = Stubber(clients.client(service, "us-east-1"))
        stubber.activate()
        stubbers.append(stubber)
        return stubber

    yield stub
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()
    clients.reset_clients()


def _resource(n: int) -> dict[str, Any]:
    return {
        "LogicalResourceId": f"Rule{n}",
        "PhysicalResourceId": f"trailguard-Rule{n}-1A2B3C4D5E6F",
        "ResourceType": "AWS::Events::Rule",
        "LastUpdatedTimestamp": NOW,
        "ResourceStatus": "CREATE_COMPLETE",
    }


def test_stack_resources_follow_next_token(stubbed: Callable[[str], Stubber]) -> None:
    cloudformation = stubbed("cloudformation")
    cloudformation.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [_resource(1)], "NextToken": "page-2"},
        {"StackName": "trailguard"},
    )
    cloudformation.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [_resource(2)]},
        {"StackName": "trailguard", "NextToken": "page-2"},
    )

    found = aws.stack_resources("trailguard", "us-east-1")

    assert [r.logical_id for r in found] == ["Rule1", "Rule2"]
    assert found[1].physical_id == "trailguard-Rule2-1A2B3C4D5E6F"


def test_alarms_are_asked_for_100_names_at_a_time(stubbed: Callable[[str], Stubber]) -> None:
    cloudwatch = stubbed("cloudwatch")
    names = [f"trailguard-Alarm{n}" for n in range(150)]
    for batch in (names[:100], names[100:]):
        cloudwatch.add_response(
            "describe_alarms",
            {"MetricAlarms": [{"AlarmName": batch[0], "StateValue": "OK"}]},
            {"AlarmNames": batch, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]},
        )

    found = aws.alarms(names, "us-east-1")

    assert sorted(found) == ["trailguard-Alarm0", "trailguard-Alarm100"]


def test_a_missing_function_or_rule_is_none_not_an_error(
    stubbed: Callable[[str], Stubber],
) -> None:
    stubbed("lambda").add_client_error(
        "get_function_concurrency", "ResourceNotFoundException", "Function not found", 404
    )
    stubbed("events").add_client_error(
        "describe_rule", "ResourceNotFoundException", "Rule r does not exist.", 400
    )

    assert aws.reserved_concurrency("gone", "us-east-1") is None
    assert aws.rule_state("r", "default", "us-east-1") is None


def test_no_reserved_concurrency_is_absent(stubbed: Callable[[str], Stubber]) -> None:
    stubbed("lambda").add_response("get_function_concurrency", {}, {"FunctionName": "f"})

    assert aws.reserved_concurrency("f", "us-east-1") == aws.ABSENT
