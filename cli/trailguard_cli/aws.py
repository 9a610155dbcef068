"""AWS as the command line reaches it: every call through trailguard's one client
factory (trailguard.clients) and its error translation (adapters.aws_errors.call)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trailguard import clients, runtime
from trailguard.adapters.aws_errors import call
from trailguard.adapters.sns import SnsAlertSink
from trailguard.domain.alerts import Alert
from trailguard.engine.remediation import Dependencies
from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard.render.sns import RenderedAlert
from trailguard.settings import Settings
from trailguard_cli.errors import CliError


def describe_stack(name: str, region: str) -> dict[str, Any]:
    try:
        response = call(
            "DescribeStacks",
            "cloudformation:DescribeStacks",
            clients.client("cloudformation", region).describe_stacks,
            StackName=name,
        )
    except AwsCallFailed as exc:
        if exc.code == "ValidationError":  # "Stack with id ... does not exist"
            raise CliError(
                f"no CloudFormation stack {name!r} in {region}",
                "trailguard runs in the protected trail's home region: pass --region REGION "
                "(and --stack NAME if it is not trailguard), or --table (and --topic for "
                "reconcile) to skip CloudFormation",
            ) from exc
        raise
    return dict(response["Stacks"][0])


def caller_identity(region: str) -> tuple[str, str]:
    """(account id, caller ARN): also the first check that the credentials work."""
    response = call(
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
        clients.client("sts", region).get_caller_identity,
    )
    return str(response["Account"]), str(response["Arn"])


class NoAlertTopic:
    """The alert sink when no topic is known: commands that get one never publish."""

    def publish(self, alert: Alert) -> str:
        raise AlertNotDelivered("no alert topic: pass --topic or use the stack")

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        raise AlertNotDelivered("no alert topic: pass --topic or use the stack")


def build_dependencies(settings: Settings) -> Dependencies:
    """The functions' adapters (runtime.build_dependencies). The command line handles
    no EventBridge deliveries, so its settings carry no delivery ledger."""
    topic = SnsAlertSink(settings.alert_topic_arn) if settings.alert_topic_arn else None
    deps = runtime.build_dependencies(settings, topic or NoAlertTopic())
    # The bucket and key may be in the log-archive account, whose companion role trusts
    # only trailguard's functions: the chain is theirs to check (and a capture here keeps
    # the chain the last baseline recorded, engine/capture.py).
    deps.chain = None
    return deps


# ---------------------------------------------------------------- trailguard itself
# Read-only calls for `status`'s self-health checks (trailguard_cli.self_health judges).


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str  # '' while CloudFormation has not created it
    status: str


def stack_resources(stack_name: str, region: str) -> list[StackResource]:
    client = clients.client("cloudformation", region)
    found: list[StackResource] = []
    token: dict[str, str] = {}
    while True:
        page = call(
            "ListStackResources",
            "cloudformation:ListStackResources",
            client.list_stack_resources,
            StackName=stack_name,
            **token,
        )
        found += [
            StackResource(
                logical_id=str(r["LogicalResourceId"]),
                type=str(r["ResourceType"]),
                physical_id=str(r.get("PhysicalResourceId", "")),
                status=str(r.get("ResourceStatus", "")),
            )
            for r in page.get("StackResourceSummaries", [])
        ]
        if not page.get("NextToken"):
            return found
        token = {"NextToken": str(page["NextToken"])}


def _missing(exc: AwsCallFailed) -> bool:
    return exc.code == "ResourceNotFoundException"


def rule_state(name: str, bus: str, region: str) -> tuple[str, int] | None:
    """(State, number of targets) of a rule; None when it does not exist."""
    events = clients.client("events", region)
    try:
        rule = call(
            "DescribeRule", "events:DescribeRule", events.describe_rule, Name=name, EventBusName=bus
        )
        targets = call(
            "ListTargetsByRule",
            "events:ListTargetsByRule",
            events.list_targets_by_rule,
            Rule=name,
            EventBusName=bus,
        )
    except AwsCallFailed as exc:
        if _missing(exc):
            return None
        raise
    return str(rule.get("State", "")), len(targets.get("Targets", []))


ABSENT = -1  # GetFunctionConcurrency: the function exists and reserves nothing


def reserved_concurrency(function_name: str, region: str) -> int | None:
    """The function's reserved concurrency (ABSENT: none reserved); None when it does
    not exist. GetFunctionConcurrency, not GetFunction: it also answers 0."""
    try:
        response = call(
            "GetFunctionConcurrency",
            "lambda:GetFunctionConcurrency",
            clients.client("lambda", region).get_function_concurrency,
            FunctionName=function_name,
        )
    except AwsCallFailed as exc:
        if _missing(exc):
            return None
        raise
    value = response.get("ReservedConcurrentExecutions")
    return ABSENT if value is None else int(value)


def alarms(names: list[str], region: str) -> dict[str, dict[str, Any]]:
    """DescribeAlarms for these names (metric and composite), by name; absent ones missing."""
    cloudwatch = clients.client("cloudwatch", region)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
        token: dict[str, str] = {}
        while True:
            page = call(
                "DescribeAlarms",
                "cloudwatch:DescribeAlarms",
                cloudwatch.describe_alarms,
                AlarmNames=names[start : start + 100],
                AlarmTypes=["MetricAlarm", "CompositeAlarm"],
                **token,
            )
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[str(alarm["AlarmName"])] = dict(alarm)
            if not page.get("NextToken"):
                break
            token = {"NextToken": str(page["NextToken"])}
    return found


def metric_sums(
    namespace: str,
    metric: str,
    dimensions: Mapping[str, str],
    *,
    start: datetime,
    end: datetime,
    region: str,
) -> list[tuple[datetime, float]]:
    """(period start, Sum) of one metric per minute between start and end."""
    response = call(
        "GetMetricStatistics",
        "cloudwatch:GetMetricStatistics",
        clients.client("cloudwatch", region).get_metric_statistics,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=start,
        EndTime=end,
        Period=60,
        Statistics=["Sum"],
    )
    return [
        (point["Timestamp"].astimezone(UTC), float(point.get("Sum", 0.0)))
        for point in response.get("Datapoints", [])
    ]
