"""AWS as the command line reaches it: every call through trailguard's one client
factory (trailguard.clients) and its error translation (adapters.aws_errors.call)."""

from __future__ import annotations

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
    return runtime.build_dependencies(settings, topic or NoAlertTopic())
