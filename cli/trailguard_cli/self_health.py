"""trailguard's own health, for `trailguard status`: is the guard able to act?

An attacker's first move is to silence the guard (protected/trailguard_itself.py
alerts on each such call). This reads the result instead: from the stack's own
resource list (CloudFormation ListStackResources), every EventBridge rule is
enabled and has a target, every function exists and is not throttled below
the stack's ReservedConcurrency, every alarm is out of ALARM with its actions
enabled, and the reconciler's heartbeat metric (ReconcilerHeartbeat, emitted
first thing on each scheduled run; ReconcilerHeartbeatAlarm watches it) was
seen within two schedule intervals.

The judges are pure functions of what AWS answered; `check_self` reads AWS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from trailguard.errors import AwsCallFailed
from trailguard_cli import aws
from trailguard_cli.deployment import Deployment
from trailguard_cli.errors import operator_hint
from trailguard_cli.output import aws_text, ident

OK, PROBLEM, ERROR = "OK", "PROBLEM", "ERROR"
RULE, FUNCTION, ALARM = "AWS::Events::Rule", "AWS::Lambda::Function", "AWS::CloudWatch::Alarm"
T = TypeVar("T")
DEFAULT_INTERVAL_MINUTES = 5  # the template's ReconcileIntervalMinutes default


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, str]


# What the reconciler emits (Powertools EMF: POWERTOOLS_METRICS_NAMESPACE, service
# dimension) and ReconcilerHeartbeatAlarm watches; a unit test holds them to the template.
HEARTBEAT = Metric("trailguard", "ReconcilerHeartbeat", {"service": "trailguard"})


@dataclass(frozen=True)
class SelfCheck:
    title: str
    resource: str
    state: str  # OK | PROBLEM | ERROR
    summary: str = ""  # one line, e.g. "ENABLED, 1 target"
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.title,
            "resource": self.resource,
            "state": self.state,
            "summary": self.summary,
            "details": list(self.details),
        }


# ---------------------------------------------------------------- judges (pure)

_BROKEN_STACK = ("FAILED", "ROLLBACK_COMPLETE", "DELETE_")
# Rolled back to the previous template: stable, running what was deployed before.
_ROLLED_BACK_UPDATE = ("UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE")


def judge_stack(name: str, status: str) -> SelfCheck:
    status = aws_text(status, 60)
    broken = any(mark in status for mark in _BROKEN_STACK)
    if broken and status not in _ROLLED_BACK_UPDATE:
        return SelfCheck(
            "stack is deployed",
            name,
            PROBLEM,
            status,
            (f"the stack is {status}: its resources may be missing or out of date",),
        )
    return SelfCheck("stack is deployed", name, OK, status)


def rule_address(physical_id: str) -> tuple[str, str]:
    """(rule name, event bus) from a rule's physical id: CloudFormation names a rule
    on a custom bus 'bus|rule', and one on the default bus by its name alone."""
    bus, _, name = physical_id.rpartition("|")
    return name, bus or "default"


def judge_rule(resource: str, found: tuple[str, int] | None) -> SelfCheck:
    title = "rule is enabled"
    if found is None:
        return SelfCheck(
            title,
            resource,
            PROBLEM,
            "missing",
            ("the rule does not exist: the events it matched reach no function",),
        )
    state, targets = found
    summary = f"{aws_text(state, 40)}, {targets} target" + ("" if targets == 1 else "s")
    problems = []
    if not state.startswith("ENABLED"):
        problems.append(f"the rule is {aws_text(state, 40)}: the events it matches are dropped")
    if targets == 0:
        problems.append("the rule has no target: the events it matches reach no function")
    return SelfCheck(title, resource, PROBLEM if problems else OK, summary, tuple(problems))


def judge_function(name: str, reserved: int | None, expected: int | None) -> SelfCheck:
    """`expected`: the stack's ReservedConcurrency (0: the stack reserves none;
    None: unknown). Less than expected lets other functions starve trailguard."""
    title = "function exists"
    if reserved is None:
        return SelfCheck(title, name, PROBLEM, "missing", ("the function does not exist",))
    if reserved == aws.ABSENT:
        summary = "no reserved concurrency"
    else:
        summary = f"reserved concurrency {reserved}"
    if reserved == 0:
        return SelfCheck(
            title,
            name,
            PROBLEM,
            summary,
            ("reserved concurrency is 0: every invocation is throttled, the function never runs",),
        )
    if expected and (reserved == aws.ABSENT or reserved < expected):
        return SelfCheck(
            title,
            name,
            PROBLEM,
            summary,
            (f"the stack reserves {expected}: other functions can take its concurrency",),
        )
    return SelfCheck(title, name, OK, summary)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return aws_text(value, 40)


def judge_alarm(name: str, alarm: Mapping[str, Any] | None) -> SelfCheck:
    title = "alarm is not firing"
    if alarm is None:
        return SelfCheck(
            title, name, PROBLEM, "missing", ("the alarm does not exist: nobody is told",)
        )
    state = str(alarm.get("StateValue", ""))
    problems = []
    if state == "ALARM":
        since = _when(alarm.get("StateUpdatedTimestamp", "?"))
        problems.append(f"in ALARM since {since}: {aws_text(alarm.get('StateReason', ''), 300)}")
        if alarm.get("AlarmDescription"):
            problems.append(aws_text(alarm["AlarmDescription"], 300))
    if alarm.get("ActionsEnabled") is False:
        problems.append("its actions are disabled: a change of state notifies nobody")
    return SelfCheck(title, name, PROBLEM if problems else OK, aws_text(state, 40), tuple(problems))


def heartbeat_window(interval_minutes: int) -> timedelta:
    return timedelta(minutes=max(3 * interval_minutes, 15))


def judge_heartbeat(
    points: Sequence[tuple[datetime, float]], now: datetime, interval_minutes: int
) -> SelfCheck:
    """The last minute with a heartbeat; late after two missed runs (as the alarm)."""
    title = "reconciler ran recently"
    resource = f"{HEARTBEAT.namespace}/{HEARTBEAT.name}"
    schedule = f"the reconciler is scheduled every {interval_minutes} minutes"
    beats = [when for when, total in points if total > 0]
    if not beats:
        minutes = int(heartbeat_window(interval_minutes).total_seconds() // 60)
        return SelfCheck(
            title,
            resource,
            PROBLEM,
            "no heartbeat",
            (f"no heartbeat in the last {minutes} minutes: {schedule}, it has not run",),
        )
    last = max(beats)
    age = max(0, int((now - last).total_seconds() // 60))
    summary = f"last {_when(last)}, {age} min ago"
    # The datapoint is stamped with the start of its minute: one minute of slack.
    if now - last > timedelta(minutes=2 * interval_minutes + 1):
        return SelfCheck(
            title, resource, PROBLEM, summary, (f"{schedule}: two or more runs missed",)
        )
    return SelfCheck(title, resource, OK, summary)


# ---------------------------------------------------------------- reading AWS


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _failed(title: str, resource: str, exc: AwsCallFailed) -> SelfCheck:
    return SelfCheck(title, resource, ERROR, "", (aws_text(exc), f"hint: {operator_hint(exc)}"))


def _checked(
    title: str, resource: str, read: Callable[[], T], judge: Callable[[T], SelfCheck]
) -> SelfCheck:
    try:
        found = read()
    except AwsCallFailed as exc:
        return _failed(title, resource, exc)
    return judge(found)


def check_self(deployment: Deployment, now: datetime | None = None) -> list[SelfCheck]:
    """Every self check for the stack the deployment was read from. Read-only; a
    check that cannot be made is an ERROR row and the others still run."""
    stack, region = deployment.stack_name, deployment.region
    checks = [judge_stack(stack, deployment.stack_status)]
    try:
        resources = aws.stack_resources(stack, region)
    except AwsCallFailed as exc:
        return [*checks, _failed("stack resources can be read", stack, exc)]
    by_type: dict[str, list[aws.StackResource]] = {RULE: [], FUNCTION: [], ALARM: []}
    for resource in sorted(resources, key=lambda r: r.logical_id):
        if resource.type in by_type and resource.physical_id:
            by_type[resource.type].append(resource)
    if not any(by_type.values()):
        checks.append(
            SelfCheck(
                "stack has trailguard's resources",
                stack,
                PROBLEM,
                "none",
                ("no rule, function or alarm in the stack: is it trailguard's?",),
            )
        )
    for rule in by_type[RULE]:
        name, bus = rule_address(rule.physical_id)
        shown = name if bus == "default" else f"{bus}/{name}"  # as in the rule ARN
        checks.append(
            _checked(
                "rule is enabled",
                shown,
                partial(aws.rule_state, name, bus, region),
                partial(judge_rule, shown),
            )
        )
    expected = _int(deployment.stack_values.get("ReservedConcurrency"))
    for function in by_type[FUNCTION]:
        name = function.physical_id
        checks.append(
            _checked(
                "function exists",
                name,
                partial(aws.reserved_concurrency, name, region),
                partial(judge_function, name, expected=expected),
            )
        )
    names = [a.physical_id for a in by_type[ALARM]]
    try:
        found = aws.alarms(names, region) if names else {}
        checks += [judge_alarm(name, found.get(name)) for name in names]
    except AwsCallFailed as exc:
        checks += [_failed("alarm is not firing", name, exc) for name in names]
    interval = (
        _int(deployment.stack_values.get("ReconcileIntervalMinutes")) or DEFAULT_INTERVAL_MINUTES
    )
    moment = now or datetime.now(UTC)
    checks.append(
        _checked(
            "reconciler ran recently",
            f"{HEARTBEAT.namespace}/{HEARTBEAT.name}",
            partial(
                aws.metric_sums,
                HEARTBEAT.namespace,
                HEARTBEAT.name,
                HEARTBEAT.dimensions,
                start=moment - heartbeat_window(interval),
                end=moment,
                region=region,
            ),
            partial(judge_heartbeat, now=moment, interval_minutes=interval),
        )
    )
    return checks


# ---------------------------------------------------------------- showing


def format_self(stack: str, checks: Sequence[SelfCheck]) -> str:
    title_width = max(len(c.title) for c in checks)
    resource_width = max(len(ident(c.resource)) for c in checks)
    lines = [
        f"trailguard itself (stack {stack!r}):",
        f"  {'STATE':<8} {'CHECK':<{title_width}}  {'RESOURCE':<{resource_width}}  STATUS",
    ]
    for c in checks:
        row = f"  {c.state:<8} {c.title:<{title_width}}  {ident(c.resource):<{resource_width}}"
        lines.append(f"{row}  {c.summary}".rstrip())
        lines += [f"{'':11}- {detail}" for detail in c.details]
    problems = sum(1 for c in checks if c.state == PROBLEM)
    errors = sum(1 for c in checks if c.state == ERROR)
    lines.append("")
    if errors:
        lines.append(
            f"ERROR: {errors} of {len(checks)} checks of trailguard itself could not be made"
            + (f", {problems} found a problem" if problems else "")
            + "."
        )
    elif problems:
        lines.append(
            f"PROBLEM: {problems} of {len(checks)} checks of trailguard itself. trailguard may "
            "be blind: read its alerts, then redeploy the stack to restore it."
        )
    else:
        lines.append(f"OK: trailguard itself: all {len(checks)} checks hold.")
    return "\n".join(lines)
