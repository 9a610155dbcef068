"""Where trailguard is deployed and how it is configured: the stack, or the command line."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from trailguard.settings import Settings, SettingsError, settings_from
from trailguard_cli import aws
from trailguard_cli.errors import CliError

DEFAULT_STACK = "trailguard"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Deployment:
    """Where trailguard is deployed and how it is configured, as the CLI found it."""

    source: str  # "stack 'trailguard'" or "command line"
    stack_name: str  # '' when CloudFormation was not read
    region: str
    table: str
    topic: str  # '' when not given and not needed
    protected_trail_names: str
    allowed_principal_arns: str
    mode: str  # enforce | detect
    stack_status: str = ""  # '' when CloudFormation was not read
    # The stack's parameters and outputs by key (empty without the stack).
    stack_values: Mapping[str, str] = field(default_factory=dict)
    signing_key: str = ""  # the baselines' KMS HMAC key (reads are verified with it)


@dataclass(frozen=True)
class Options:
    stack: str = DEFAULT_STACK
    region: str = ""
    table: str = ""
    topic: str = ""
    protected_trails: str | None = None
    mode: str | None = None
    signing_key: str = ""


def stack_configuration(stack: Mapping[str, Any]) -> dict[str, str]:
    """Parameters and outputs of one DescribeStacks stack, by key (outputs win)."""
    values = {
        str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
        for p in stack.get("Parameters", [])
    }
    values.update(
        {str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])}
    )
    return values


def resolve_deployment(
    options: Options,
    *,
    needs_topic: bool,
    read_stack: Callable[[str, str], Mapping[str, Any]] | None = None,
) -> Deployment:
    """The deployment from the command line, reading the stack only for what is missing.

    With --table (and --topic when the command publishes) CloudFormation is not
    read; ProtectedTrailNames then defaults to empty (every baseline in the table)
    and Mode to enforce, unless --protected-trails and --mode say otherwise.
    """
    region = options.region or os.environ.get("AWS_REGION", "").strip() or DEFAULT_REGION
    if options.table and (options.topic or not needs_topic):
        return Deployment(
            source="command line (--table" + (", --topic)" if options.topic else ")"),
            stack_name="",
            region=region,
            table=options.table,
            topic=options.topic,
            protected_trail_names=options.protected_trails or "",
            allowed_principal_arns="",
            mode=options.mode or "enforce",
            signing_key=options.signing_key,
        )
    # Looked up when called, so that tests can replace aws.describe_stack.
    stack = (read_stack or aws.describe_stack)(options.stack, region)
    config = stack_configuration(stack)
    status = str(stack.get("StackStatus", "?"))
    table = options.table or config.get("BaselineTableName", "")
    topic = options.topic or config.get("AlertTopicArn", "")
    for value, output in ((table, "BaselineTableName"), (topic, "AlertTopicArn")):
        if not value:
            raise CliError(
                f"stack {options.stack!r} ({status}) has no output {output}",
                "is it a trailguard stack? Pass --stack NAME, or --table and --topic",
            )
    mode = options.mode or config.get("Mode", "") or "enforce"
    return Deployment(
        source=f"stack {options.stack!r}",
        stack_name=options.stack,
        region=region,
        table=table,
        topic=topic,
        protected_trail_names=(
            config.get("ProtectedTrailNames", "")
            if options.protected_trails is None
            else options.protected_trails
        ),
        allowed_principal_arns=config.get("AllowedPrincipalArns", ""),
        mode=mode,
        stack_status=status,
        stack_values=config,
        signing_key=options.signing_key or config.get("BaselineSigningKeyArn", ""),
    )


def settings_for(deployment: Deployment) -> Settings:
    """Settings validated by the same code as the functions' (settings.settings_from)."""
    if deployment.mode not in ("enforce", "detect"):
        raise CliError(f"Mode must be enforce or detect, got {deployment.mode!r}")
    env = {
        "AWS_REGION": deployment.region,
        # settings_from insists on a topic; without one, a well-formed stand-in
        # is validated and then removed: nothing can publish to it.
        "ALERT_TOPIC_ARN": deployment.topic
        or f"arn:aws:sns:{deployment.region}:000000000000:no-topic",
        "BASELINE_TABLE_NAME": deployment.table,
        "PROTECTED_TRAIL_NAMES": deployment.protected_trail_names,
        "ALLOWED_PRINCIPAL_ARNS": deployment.allowed_principal_arns,
        "DETECT_ONLY": "true" if deployment.mode == "detect" else "false",
        "STACK_NAME": deployment.stack_name,
        "BASELINE_SIGNING_KEY_ID": deployment.signing_key,
    }
    try:
        settings = settings_from(env)
    except SettingsError as exc:
        raise CliError(f"unusable configuration from {deployment.source}: {exc}") from exc
    if not deployment.topic:
        settings = replace(settings, alert_topic_arn="")
    return settings
