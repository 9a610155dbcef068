"""`trailguard`: the operator command line, for on-call engineers.

    trailguard status                       every invariant: OK or DRIFTED, with details
    trailguard baseline show [TRAIL]        the stored baseline (--history: every version)
    trailguard baseline diff [TRAIL]        live state against the baseline, field by field
    trailguard baseline capture --reason R  make the live state the new baseline
    trailguard reconcile [--dry-run]        what the scheduled reconciler does, now

It runs with the engineer's own credentials and the same library, adapters and
reconciler as the functions. Where trailguard is deployed comes from the
stack's outputs and parameters (CloudFormation DescribeStacks), or from
--table/--topic when CloudFormation is not to be read.

Exit status: 0 all good; 1 drift found or left (or a baseline is missing, or
the operator declined); 2 trailguard could not find out (bad usage, no
credentials, a permission missing, no such stack).

Values read from AWS (trail settings, tags, selectors, who captured a baseline
and why, error messages) are shown as data only: quoted with repr() or encoded
as JSON, so control characters or terminal escapes in them are never
interpreted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TextIO, cast

from trailguard import clients, runtime
from trailguard.adapters.aws_errors import call
from trailguard.adapters.baseline_store import DynamoBaselineStore
from trailguard.adapters.sns import SnsAlertSink
from trailguard.domain.alerts import Alert, Outcome, now
from trailguard.domain.drift import EVERY_ASPECT, SETTING_LABELS, Aspect, LiveTrail, trail_drift
from trailguard.domain.text import clean_text
from trailguard.domain.trails import TrailBaseline, TrailRef, TrailSnapshot
from trailguard.engine.capture import capture, protected_selection
from trailguard.engine.reconciler import ReconcileReport, protected_baselines, reconcile
from trailguard.engine.remediation import Dependencies
from trailguard.errors import AlertNotDelivered, AwsCallFailed, InvalidEvent
from trailguard.ports import AlertSink, Trails
from trailguard.protected.service_linked_role import ROLE_NAME
from trailguard.protected.trusted_access import CLOUDTRAIL
from trailguard.render.sns import RenderedAlert, render
from trailguard.settings import Settings, SettingsError, settings_from

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2
DEFAULT_STACK = "trailguard"
DEFAULT_REGION = "us-east-1"
DETECTED_BY = "operator"  # alerts from `trailguard reconcile` say detectedBy: operator
DEFAULT_REASON = "operator request (trailguard CLI)"

OK, DRIFTED, ERROR = "OK", "DRIFTED", "ERROR"
_IDENTIFIER = re.compile(r"^[A-Za-z0-9:/._@+=,*-]{1,512}$")
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
_NO_CREDENTIALS = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "TokenRetrievalError",
    "SSOTokenLoadError",
    "UnauthorizedSSOTokenError",
)
_THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException")


class CliError(Exception):
    """trailguard could not do what was asked; `hint` says what to do (exit status 2)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


# ---------------------------------------------------------------- showing values


def ident(value: str) -> str:
    """An identifier (ARN, name) as is when it is plainly one, else quoted by repr()."""
    return value if _IDENTIFIER.match(value) else repr(value)


def shown(value: object) -> str:
    """A setting's value: '(not set)' for '', else repr() (strings quoted, escapes visible)."""
    return "(not set)" if value == "" else repr(value)


def aws_text(value: object, limit: int = 500) -> str:
    """Text that may carry AWS error messages: control characters replaced, bounded."""
    return clean_text(str(value), limit)


def operator_hint(exc: AwsCallFailed) -> str:
    """The library's hint, reworded for someone running with their own credentials."""
    if exc.code in _NO_CREDENTIALS:
        return (
            "your AWS credentials are missing, invalid or expired: sign in again "
            "(for example `aws sso login`) or set AWS_PROFILE"
        )
    if exc.code in _DENIED:
        return exc.hint.replace(
            "the function's role is missing", "your credentials are missing"
        ).replace(": add it to the role", ": sign in with a role that has it")
    if exc.code in _THROTTLED:
        return "AWS throttled the call after retries: try again in a minute"
    if exc.code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return "AWS could not be reached: check the network and --region"
    return exc.hint


def _json(document: object) -> str:
    # ensure_ascii: every non-ASCII or control character is escaped.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _blob(value: object, indent: str) -> list[str]:
    return [indent + line for line in _json(value).splitlines()]


# ---------------------------------------------------------------- where trailguard is


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
    signing_key: str = ""  # the baselines' KMS HMAC key (reads are verified with it)


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


@dataclass(frozen=True)
class Options:
    stack: str = DEFAULT_STACK
    region: str = ""
    table: str = ""
    topic: str = ""
    protected_trails: str | None = None
    mode: str | None = None
    signing_key: str = ""


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
    stack = (read_stack or describe_stack)(options.stack, region)
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


class NoAlertTopic:
    """The alert sink when no topic is known: commands that get one never publish."""

    def publish(self, alert: Alert) -> str:
        raise AlertNotDelivered("no alert topic: pass --topic or use the stack")

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        raise AlertNotDelivered("no alert topic: pass --topic or use the stack")


@dataclass(frozen=True)
class Undelivered:
    rendered: RenderedAlert
    error: str

    def document(self) -> dict[str, object]:
        body = json.loads(self.rendered.message)
        return {
            "subject": self.rendered.subject,
            "error": self.error,
            "alert": json.loads(body["default"]),
        }

    def text(self) -> list[str]:
        body = json.loads(self.rendered.message)
        lines = [self.rendered.subject, *str(body["email"]).splitlines()]
        return [clean_text(line, 2000) for line in lines]


class OperatorAlerts:
    """The stack's topic as an operator reaches it: a refused alert is kept, not raised.

    The topic's policy lets only trailguard's own roles publish, so an
    operator's Publish is normally refused. The run goes on (an alert must never
    hold up the next repair) and the command prints what could not be sent."""

    def __init__(self, inner: AlertSink) -> None:
        self._inner = inner
        self.undelivered: list[Undelivered] = []

    def publish(self, alert: Alert) -> str:
        return self.publish_rendered(render(alert))

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        try:
            return self._inner.publish_rendered(rendered)
        except AlertNotDelivered as exc:
            # The AWS error itself; the library's hint is written for the functions.
            cause = exc.__cause__ if isinstance(exc.__cause__, AwsCallFailed) else exc
            self.undelivered.append(Undelivered(rendered, aws_text(cause)))
            return ""


def build_dependencies(settings: Settings) -> Dependencies:
    """The functions' adapters (runtime.build_dependencies). The command line handles
    no EventBridge deliveries, so its settings carry no delivery ledger."""
    topic = SnsAlertSink(settings.alert_topic_arn) if settings.alert_topic_arn else None
    return runtime.build_dependencies(settings, topic or NoAlertTopic())


def caller_identity(region: str) -> tuple[str, str]:
    """(account id, caller ARN): also the first check that the credentials work."""
    response = call(
        "GetCallerIdentity",
        "sts:GetCallerIdentity",
        clients.client("sts", region).get_caller_identity,
    )
    return str(response["Account"]), str(response["Arn"])


@dataclass
class Context:
    deps: Dependencies
    deployment: Deployment
    account_id: str
    caller_arn: str
    as_json: bool
    out: TextIO
    err: TextIO

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def context_document(self) -> dict[str, object]:
        return {
            "source": self.deployment.source,
            "stack": self.deployment.stack_name or None,
            "region": self.deployment.region,
            "account": self.account_id,
            "caller": self.caller_arn,
            "baselineTable": self.deployment.table,
            "alertTopic": self.deployment.topic or None,
            "mode": self.deployment.mode,
            "protectedTrailNames": list(self.deps.settings.protected_trail_names),
        }

    def header(self, command: str) -> str:
        d = self.deployment
        protected = ", ".join(self.deps.settings.protected_trail_names) or "every baseline"
        return (
            f"trailguard {command}: {d.source}, region {d.region}, account {self.account_id}, "
            f"mode {d.mode}\n  baseline table {ident(d.table)}, protected trails: {protected}\n"
            f"  caller {ident(self.caller_arn)}"
        )


# ---------------------------------------------------------------- status


@dataclass(frozen=True)
class Check:
    invariant: str
    title: str
    resource: str
    state: str  # OK | DRIFTED | ERROR
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "invariant": self.invariant,
            "check": self.title,
            "resource": self.resource,
            "state": self.state,
            "details": list(self.details),
        }


# What status checks on each protected trail, in invariant order.
TRAIL_CHECKS: tuple[tuple[Aspect, str, str], ...] = (
    (Aspect.LOGGING, "I2", "trail is logging"),
    (Aspect.EXISTS, "I3", "trail exists"),
    (Aspect.TAGS, "I3", "tags match the baseline"),
    (Aspect.SETTINGS, "I4", "settings match the baseline"),
    (Aspect.EVENT_SELECTORS, "I5", "event selectors match the baseline"),
    (Aspect.INSIGHT_SELECTORS, "I5", "insight selectors match the baseline"),
)


def _failed(exc: AwsCallFailed) -> tuple[str, ...]:
    return (aws_text(exc), f"hint: {operator_hint(exc)}")


def _account_check(
    invariant: str, title: str, resource: str, holds: Callable[[], bool], drift: str
) -> Check:
    try:
        ok = holds()
    except AwsCallFailed as exc:
        return Check(invariant, title, resource, ERROR, _failed(exc))
    return Check(invariant, title, resource, OK if ok else DRIFTED, () if ok else (drift,))


def trail_checks(baseline: TrailBaseline, live: LiveTrail) -> list[Check]:
    """One check per aspect of a protected trail, judged by drift.trail_drift."""
    arn = baseline.ref.arn
    drifts = trail_drift(baseline.snapshot, live, EVERY_ASPECT)
    if not live.exists:
        return [Check("I3", "trail exists", arn, DRIFTED, tuple(d.summary for d in drifts))]
    checks = []
    for aspect, invariant, title in TRAIL_CHECKS:
        found = tuple(d.summary for d in drifts if d.aspect is aspect)
        checks.append(Check(invariant, title, arn, DRIFTED if found else OK, found))
    return checks


def check_status(deps: Dependencies) -> list[Check]:
    """Every invariant, read-only. A check that cannot be made is an ERROR, not a stop."""
    checks = [
        _account_check(
            "I1",
            "trusted access is enabled",
            CLOUDTRAIL,
            lambda: deps.trusted_access.is_enabled(CLOUDTRAIL),
            f"trusted access for {CLOUDTRAIL} is disabled",
        ),
        _account_check(
            "I6",
            "service-linked role exists",
            ROLE_NAME,
            lambda: deps.roles.exists(CLOUDTRAIL),
            f"{ROLE_NAME} does not exist",
        ),
    ]
    table = deps.settings.baseline_table_name
    try:
        baselines, problems = protected_baselines(deps)
    except AwsCallFailed as exc:
        return [
            *checks,
            Check("I3", "baselines can be read", table, ERROR, _failed(exc)),
        ]
    for problem in problems:
        name = problem.split(":", 1)[0]
        checks.append(Check("I3", "trail has a baseline", name, DRIFTED, (problem,)))
    if not baselines and not problems:
        checks.append(
            Check(
                "I3",
                "a protected trail has a baseline",
                table,
                DRIFTED,
                ("no baseline in this region: nothing is protected",),
            )
        )
    for baseline in sorted(baselines, key=lambda b: b.ref):
        try:
            live = deps.trails.read(baseline.ref, EVERY_ASPECT)
        except AwsCallFailed as exc:
            checks.append(
                Check("I2-I5", "trail can be read", baseline.ref.arn, ERROR, _failed(exc))
            )
            continue
        checks.extend(trail_checks(baseline, live))
    return checks


def status_exit(checks: Iterable[Check]) -> int:
    states = {c.state for c in checks}
    if ERROR in states:
        return EXIT_ERROR
    return EXIT_DRIFT if DRIFTED in states else EXIT_OK


def format_status(checks: Sequence[Check]) -> str:
    """The status table: state first, then invariant, check and resource; details below."""
    width = max((len(c.title) for c in checks), default=10)
    lines = [f"  {'STATE':<8} {'INV':<5} {'CHECK':<{width}}  RESOURCE"]
    for c in checks:
        lines.append(f"  {c.state:<8} {c.invariant:<5} {c.title:<{width}}  {ident(c.resource)}")
        lines += [f"{'':17}- {detail}" for detail in c.details]
    drifted = sum(1 for c in checks if c.state == DRIFTED)
    errors = sum(1 for c in checks if c.state == ERROR)
    lines.append("")
    if errors:
        lines.append(
            f"ERROR: {errors} of {len(checks)} checks could not be made"
            + (f", {drifted} drifted" if drifted else "")
            + "."
        )
    elif drifted:
        lines.append(
            f"DRIFTED: {drifted} of {len(checks)} checks. "
            "Preview the repair with `trailguard reconcile --dry-run`."
        )
    else:
        lines.append(f"OK: all {len(checks)} checks hold.")
    return "\n".join(lines)


def cmd_status(ctx: Context) -> int:
    checks = check_status(ctx.deps)
    code = status_exit(checks)
    if ctx.as_json:
        document = {
            "schema": "trailguard.status/1",
            "ok": code == EXIT_OK,
            "drifted": sum(1 for c in checks if c.state == DRIFTED),
            "errors": sum(1 for c in checks if c.state == ERROR),
            "context": ctx.context_document(),
            "checks": [c.as_dict() for c in checks],
        }
        ctx.say(_json(document))
    else:
        ctx.say(ctx.header("status"))
        ctx.say()
        ctx.say(format_status(checks))
    return code


# ---------------------------------------------------------------- differences


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs. Values are raw; rendering quotes them."""

    invariant: str
    field: str
    baseline: Any
    live: Any
    is_document: bool = False  # selectors: shown as JSON blobs

    def as_dict(self) -> dict[str, object]:
        return {
            "invariant": self.invariant,
            "field": self.field,
            "baseline": self.baseline,
            "live": self.live,
        }


_ABSENT = None  # a tag on one side only (tag values are strings, never None)


def _selectors(snapshot: TrailSnapshot) -> dict[str, list[Any]]:
    s = snapshot.selectors
    return {
        "EventSelectors": [dict(x) for x in s.event_selectors],
        "AdvancedEventSelectors": [dict(x) for x in s.advanced_event_selectors],
        "InsightSelectors": [dict(x) for x in s.insight_selectors],
    }


def differences(baseline: TrailSnapshot, live: LiveTrail) -> list[FieldDiff]:
    """Live state against the baseline, field by field.

    Which aspects differ is decided by drift.trail_drift, as for the
    reconciler; this only spells out the fields of each."""
    if not live.exists:
        return [FieldDiff("I3", "Trail", "exists", "does not exist")]
    drifted = {d.aspect for d in trail_drift(baseline, live, EVERY_ASPECT)}
    diffs: list[FieldDiff] = []
    if Aspect.LOGGING in drifted:
        diffs.append(FieldDiff("I2", "IsLogging", True, False))
    snapshot = live.snapshot
    if snapshot is None:  # only the status was read
        return diffs
    for key, expected, actual in baseline.settings.differences(snapshot.settings):
        diffs.append(FieldDiff("I4", SETTING_LABELS[key], expected, actual))
    before, after = _selectors(baseline), _selectors(snapshot)
    if Aspect.EVENT_SELECTORS in drifted:
        for name in ("EventSelectors", "AdvancedEventSelectors"):
            if before[name] or after[name]:
                diffs.append(FieldDiff("I5", name, before[name], after[name], True))
    if Aspect.INSIGHT_SELECTORS in drifted:
        name = "InsightSelectors"
        diffs.append(FieldDiff("I5", name, before[name], after[name], True))
    if Aspect.TAGS in drifted:
        mine, theirs = dict(baseline.tags), dict(snapshot.tags)
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                diffs.append(
                    FieldDiff(
                        "I3", f"Tag {key!r}", mine.get(key, _ABSENT), theirs.get(key, _ABSENT)
                    )
                )
    return diffs


def _value(value: Any) -> str:
    return "(absent)" if value is _ABSENT else shown(value)


def format_differences(
    diffs: Sequence[FieldDiff], before: str = "baseline", after: str = "live", indent: str = "  "
) -> list[str]:
    rows = [d for d in diffs if not d.is_document]
    width = max((len(d.field) for d in rows), default=0)
    lines = [
        f"{indent}{d.invariant:<4}{d.field:<{width}}  {before} {_value(d.baseline)}, "
        f"{after} {_value(d.live)}"
        for d in rows
    ]
    for d in diffs:
        if d.is_document:
            lines.append(f"{indent}{d.invariant:<4}{d.field} differ")
            lines.append(f"{indent}    {before}:")
            lines += _blob(d.baseline, indent + "      ")
            lines.append(f"{indent}    {after}:")
            lines += _blob(d.live, indent + "      ")
    return lines


# ---------------------------------------------------------------- baselines


def trail_matcher(raw: str, region: str) -> Callable[[TrailRef], bool]:
    """TRAIL on the command line: a trail ARN, or a name in the stack's region."""
    if raw.startswith("arn:"):
        try:
            arn = TrailRef.from_arn(raw).arn
        except ValueError as exc:
            raise CliError(f"not a trail ARN: {raw!r}") from exc
        return lambda ref: ref.arn == arn
    try:
        name = TrailRef.parse(raw, region, "000000000000").name
    except InvalidEvent as exc:
        raise CliError(f"not a trail name: {raw!r}") from exc
    return lambda ref: (ref.name, ref.region) == (name, region)


def select_baselines(deps: Dependencies, trail: str | None) -> tuple[list[TrailBaseline], str]:
    """(baselines asked for, why none when empty). No TRAIL: the protected trails'."""
    if trail is None:
        baselines, problems = protected_baselines(deps)
        why = "; ".join(problems) or f"no baseline in {deps.settings.region}"
        return sorted(baselines, key=lambda b: b.ref), why
    matches = trail_matcher(trail, deps.settings.region)
    chosen = [b for b in deps.baselines.all() if matches(b.ref)]
    return sorted(chosen, key=lambda b: b.ref), f"no baseline for trail {trail!r}"


def baseline_document(baseline: TrailBaseline) -> dict[str, object]:
    return {
        "trail": baseline.ref.arn,
        "capturedAt": baseline.captured_at,
        "capturedBy": baseline.captured_by,
        "reason": baseline.reason,
        "snapshot": json.loads(baseline.snapshot.to_json()),
    }


def format_baseline(baseline: TrailBaseline) -> list[str]:
    snapshot = baseline.snapshot
    lines = [
        f"Baseline of {ident(baseline.ref.arn)}",
        f"  Captured at   {baseline.captured_at!r}",
        f"  Captured by   {baseline.captured_by!r}",
        f"  Reason        {baseline.reason!r}",
        "  Settings",
    ]
    values = asdict(snapshot.settings)
    width = max(len(label) for label in SETTING_LABELS.values())
    lines += [
        f"    {label:<{width}}  {shown(values[key])}" for key, label in SETTING_LABELS.items()
    ]
    for name, selectors in _selectors(snapshot).items():
        if selectors:
            lines.append(f"  {name}")
            lines += _blob(selectors, "    ")
        else:
            lines.append(f"  {name}: none")
    if snapshot.tags:
        lines.append("  Tags")
        lines += [f"    {key!r}: {value!r}" for key, value in sorted(snapshot.tags.items())]
    else:
        lines.append("  Tags: none")
    return lines


def format_history(history: Sequence[TrailBaseline]) -> list[str]:
    lines = [f"  History: {_count(len(history), 'version')}, oldest first"]
    previous: TrailBaseline | None = None
    for version in history:
        lines.append(
            f"    {version.captured_at!r} by {version.captured_by!r}, reason {version.reason!r}"
        )
        if previous is not None:
            changes = differences(
                previous.snapshot, LiveTrail(exists=True, snapshot=version.snapshot)
            )
            if changes:
                lines += format_differences(changes, "was", "became", indent="      ")
            else:
                lines.append("      (no change from the previous version)")
        previous = version
    return lines


def _history(deps: Dependencies, ref: TrailRef) -> list[TrailBaseline]:
    store = deps.baselines
    if not isinstance(store, DynamoBaselineStore):
        raise CliError("this baseline store keeps no history")
    return store.history(ref)


def cmd_baseline_show(ctx: Context, trail: str | None, history: bool) -> int:
    baselines, why = select_baselines(ctx.deps, trail)
    versions = {b.ref: _history(ctx.deps, b.ref) for b in baselines} if history else {}
    if ctx.as_json:
        document: dict[str, object] = {
            "schema": "trailguard.engine.capture/1",
            "context": ctx.context_document(),
            "baselines": [baseline_document(b) for b in baselines],
        }
        if history:
            document["history"] = {
                ref.arn: [baseline_document(v) for v in items] for ref, items in versions.items()
            }
        if not baselines:
            document["error"] = why
        ctx.say(_json(document))
    else:
        ctx.say(ctx.header("baseline show"))
        for baseline in baselines:
            ctx.say()
            ctx.say("\n".join(format_baseline(baseline)))
            if history:
                ctx.say("\n".join(format_history(versions[baseline.ref])))
        if not baselines:
            ctx.say()
            ctx.say(f"No baseline: {why}.")
    return EXIT_OK if baselines else EXIT_DRIFT


def _live(deps: Dependencies, ref: TrailRef) -> LiveTrail:
    return deps.trails.read(ref, EVERY_ASPECT)


def cmd_baseline_diff(ctx: Context, trail: str | None) -> int:
    baselines, why = select_baselines(ctx.deps, trail)
    found = [(b, differences(b.snapshot, _live(ctx.deps, b.ref))) for b in baselines]
    differs = any(diffs for _, diffs in found)
    if ctx.as_json:
        ctx.say(
            _json(
                {
                    "schema": "trailguard.diff/1",
                    "context": ctx.context_document(),
                    "same": not differs and bool(baselines),
                    "trails": [
                        {
                            "trail": b.ref.arn,
                            "capturedAt": b.captured_at,
                            "differences": [d.as_dict() for d in diffs],
                        }
                        for b, diffs in found
                    ],
                    **({} if baselines else {"error": why}),
                }
            )
        )
    else:
        ctx.say(ctx.header("baseline diff"))
        for baseline, diffs in found:
            ctx.say()
            ctx.say(
                f"{ident(baseline.ref.arn)}: baseline captured {baseline.captured_at!r} "
                f"by {baseline.captured_by!r}"
            )
            if diffs:
                ctx.say("\n".join(format_differences(diffs)))
            else:
                ctx.say("  live state matches the baseline")
        if not baselines:
            ctx.say()
            ctx.say(f"No baseline: {why}.")
    return EXIT_DRIFT if differs or not baselines else EXIT_OK


class _AsPreviewed:
    """Trails as the operator saw them before confirming a capture.

    capture() lists the trails itself; it gets the snapshots that were shown,
    so a change made between the preview and the confirmation is not adopted."""

    def __init__(
        self,
        trails: Trails,
        region: str,
        snapshots: list[TrailSnapshot],
        foreign: list[tuple[str, str]],
    ) -> None:
        self._trails = trails
        self._region = region
        self._snapshots = snapshots
        self._foreign = foreign

    def list_home_trails(self, region: str) -> list[TrailSnapshot]:
        assert region == self._region
        return list(self._snapshots)

    def foreign_trails(self, region: str) -> list[tuple[str, str]]:
        assert region == self._region
        return list(self._foreign)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trails, name)


@dataclass
class CapturePreview:
    new: list[TrailSnapshot] = field(default_factory=list)
    changed: list[tuple[TrailBaseline, TrailSnapshot, list[FieldDiff]]] = field(
        default_factory=list
    )
    unchanged: list[TrailSnapshot] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.new) + len(self.changed) + len(self.unchanged)

    def as_dict(self) -> dict[str, object]:
        return {
            "new": [s.ref.arn for s in self.new],
            "changed": [
                {"trail": b.ref.arn, "differences": [d.as_dict() for d in diffs]}
                for b, _, diffs in self.changed
            ],
            "unchanged": [s.ref.arn for s in self.unchanged],
            "missing": self.missing,
        }


def preview_capture(deps: Dependencies, snapshots: list[TrailSnapshot]) -> CapturePreview:
    chosen, missing, _ = protected_selection(snapshots, deps.settings)
    preview = CapturePreview(missing=missing)
    for snapshot in chosen:
        current = deps.baselines.get(snapshot.ref)
        if current is None:
            preview.new.append(snapshot)
            continue
        diffs = differences(current.snapshot, LiveTrail(exists=True, snapshot=snapshot))
        if diffs:
            preview.changed.append((current, snapshot, diffs))
        else:
            preview.unchanged.append(snapshot)
    return preview


def format_preview(preview: CapturePreview) -> list[str]:
    lines = []
    for snapshot in preview.new:
        lines.append(f"{ident(snapshot.ref.arn)}: no baseline yet; the live state becomes one")
    for current, snapshot, diffs in preview.changed:
        lines.append(
            f"{ident(snapshot.ref.arn)}: baseline of {current.captured_at!r} would change:"
        )
        lines += format_differences(diffs, "now", "new")
    for snapshot in preview.unchanged:
        lines.append(f"{ident(snapshot.ref.arn)}: live state equals the baseline (recorded again)")
    for name in preview.missing:
        lines.append(f"{ident(name)}: protected, but no such trail in this region")
    return lines


def _confirm(ctx: Context, count: int, stdin: TextIO) -> bool:
    if not stdin.isatty():
        raise CliError(
            "refusing to replace baselines without confirmation",
            "review `trailguard baseline diff`, then pass --yes",
        )
    print(
        f"Replace {_count(count, 'baseline')} with the live state above? Type 'yes' to confirm: ",
        end="",
        file=ctx.err,
        flush=True,
    )
    return stdin.readline().strip().lower() == "yes"


def cmd_baseline_capture(ctx: Context, reason: str, yes: bool, stdin: TextIO) -> int:
    deps, region = ctx.deps, ctx.deps.settings.region
    snapshots = deps.trails.list_home_trails(region)
    foreign = deps.trails.foreign_trails(region)
    preview = preview_capture(deps, snapshots)
    if not ctx.as_json:
        ctx.say(ctx.header("baseline capture"))
        ctx.say()
        ctx.say("\n".join(format_preview(preview) or ["No protected trail found."]))
    if preview.count == 0:
        if ctx.as_json:
            ctx.say(_json({"schema": "trailguard.capture/1", "preview": preview.as_dict()}))
        return EXIT_DRIFT
    if not yes and not _confirm(ctx, preview.count, stdin):
        ctx.say("Nothing captured.")
        return EXIT_DRIFT
    report = capture(
        cast(Trails, _AsPreviewed(deps.trails, region, snapshots, foreign)),
        deps.baselines,
        deps.settings,
        captured_at=now().isoformat(),
        captured_by=ctx.caller_arn,
        reason=reason,
        replace_existing=True,
    )
    if ctx.as_json:
        ctx.say(
            _json(
                {
                    "schema": "trailguard.capture/1",
                    "context": ctx.context_document(),
                    "preview": preview.as_dict(),
                    "capturedBy": ctx.caller_arn,
                    "reason": reason,
                    "ok": report.ok,
                    **report.as_dict(),
                }
            )
        )
    else:
        ctx.say()
        for arn in report.captured:
            ctx.say(f"captured  {ident(arn)}")
        for problem in report.missing:
            ctx.say(f"MISSING   {aws_text(problem)}")
        for note in report.skipped:
            ctx.say(f"skipped   {aws_text(note)}")
        ctx.say(f"captured by {ident(ctx.caller_arn)}, reason {reason!r}")
    return EXIT_OK if report.ok else EXIT_DRIFT


# ---------------------------------------------------------------- reconcile


def format_plan(report: ReconcileReport) -> list[str]:
    lines = ["Dry run: nothing was changed and no alert was published.", ""]
    for plan in report.planned:
        lines.append(f"{plan.invariant}  {ident(plan.resource)}")
        lines += [f"  drift: {item}" for item in plan.drift]
        if plan.alert_only:
            lines.append("  would alert only: mode is detect (a real run changes nothing)")
        else:
            lines.append("  would run, in this order:")
            lines += [
                f"    {n}. {call_name} {ident(target)}"
                for n, (call_name, target) in enumerate(plan.steps, 1)
            ]
    lines += [f"FAILED  {aws_text(failure)}" for failure in report.failures]
    if report.planned or report.failures:
        lines.append("")
    if report.planned:
        lines.append(
            f"{_count(len(report.planned), 'repair')} planned. "
            "Run `trailguard reconcile` to repair."
        )
    else:
        lines.append("Nothing to repair: every invariant holds.")
    return lines


def format_results(report: ReconcileReport, undelivered: Sequence[Undelivered] = ()) -> list[str]:
    lines = []
    for result in report.results:
        reason = "" if result.reason == result.outcome.value else f": {result.reason}"
        lines.append(f"{result.outcome.value:<10} {ident(result.resource)}{reason}")
        lines += [f"  - {a.call} {ident(a.target)}: {a.result}" for a in result.actions]
        if result.alert_id:
            lines.append(f"  alert published, message id {ident(result.alert_id)}")
        else:
            lines.append("  alert NOT published (below)")
    lines += [f"FAILED     {aws_text(failure)}" for failure in report.failures]
    if not report.results and not report.failures:
        lines.append("Nothing to repair: every invariant holds.")
    if undelivered:
        lines += [
            "",
            f"{_count(len(undelivered), 'alert')} could not be published to the alert topic "
            "(its policy normally lets only trailguard's own roles publish).",
            f"  error: {undelivered[0].error}",
            "  Forward the text below to the on-call channel:",
        ]
        for item in undelivered:
            lines += ["", *[f"  | {line}".rstrip() for line in item.text()]]
    return lines


def reconcile_exit(report: ReconcileReport) -> int:
    if report.failures or report.planned:
        return EXIT_DRIFT
    if any(r.outcome is not Outcome.REPAIRED for r in report.results):
        return EXIT_DRIFT  # detect mode: alerted, still drifted
    return EXIT_OK


def cmd_reconcile(ctx: Context, dry_run: bool) -> int:
    alerts = OperatorAlerts(ctx.deps.alerts)
    deps = replace(ctx.deps, alerts=alerts)
    report = reconcile(deps, ctx.account_id, plan_only=dry_run, detected_by=DETECTED_BY)
    if ctx.as_json:
        ctx.say(
            _json(
                {
                    "schema": "trailguard.reconcile/1",
                    "dryRun": dry_run,
                    "context": ctx.context_document(),
                    **report.summary(),
                    "alertsNotPublished": [u.document() for u in alerts.undelivered],
                }
            )
        )
    else:
        ctx.say(ctx.header("reconcile --dry-run" if dry_run else "reconcile"))
        ctx.say()
        lines = format_plan(report) if dry_run else format_results(report, alerts.undelivered)
        ctx.say("\n".join(lines))
    return reconcile_exit(report)


# ---------------------------------------------------------------- arguments


def build_parser() -> argparse.ArgumentParser:
    # Shared options go on every (sub)parser with SUPPRESS defaults, so that
    # `trailguard --json status` and `trailguard status --json` both work.
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where trailguard is deployed")
    where.add_argument(
        "--stack",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help=f"the stack's name (default: {DEFAULT_STACK})",
    )
    where.add_argument(
        "--region",
        default=argparse.SUPPRESS,
        help=f"the stack's region (default: $AWS_REGION, else {DEFAULT_REGION})",
    )
    where.add_argument(
        "--table",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="baseline table; with --table (and --topic for reconcile) the stack is not read",
    )
    where.add_argument("--topic", metavar="ARN", default=argparse.SUPPRESS, help="alert topic ARN")
    where.add_argument(
        "--signing-key",
        metavar="ARN",
        default=argparse.SUPPRESS,
        help="the baselines' signing key (default: the stack's BaselineSigningKeyArn)",
    )
    where.add_argument(
        "--protected-trails",
        metavar="NAMES",
        default=argparse.SUPPRESS,
        help="comma-separated trail names (default: the stack's ProtectedTrailNames; "
        "without the stack, every baseline in the table)",
    )
    where.add_argument(
        "--mode",
        choices=("enforce", "detect"),
        default=argparse.SUPPRESS,
        help="override the stack's Mode (without the stack: enforce)",
    )
    output = common.add_argument_group("output")
    output.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    output.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log the library's steps to stderr",
    )

    parser = argparse.ArgumentParser(
        prog="trailguard",
        parents=[common],
        description="Operator command line of trailguard: check, inspect and repair the "
        "organization trail's invariants with your own credentials.",
        epilog="Exit status: 0 all good; 1 drift found or left, a baseline missing, or "
        "declined; 2 could not find out (usage, credentials, permissions, no stack).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "status", parents=[common], help="every invariant: OK or DRIFTED, with details"
    )
    baseline = commands.add_parser("baseline", parents=[common], help="show, diff or capture")
    actions = baseline.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", parents=[common], help="print the stored baseline")
    show.add_argument("trail", nargs="?", metavar="TRAIL", help="trail name or ARN")
    show.add_argument("--history", action="store_true", help="also every earlier version")
    diff = actions.add_parser("diff", parents=[common], help="live state against the baseline")
    diff.add_argument("trail", nargs="?", metavar="TRAIL", help="trail name or ARN")
    grab = actions.add_parser(
        "capture", parents=[common], help="replace the baselines with the live state"
    )
    grab.add_argument(
        "--reason", default=DEFAULT_REASON, help="why (a change ticket), stored with it"
    )
    grab.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    fix = commands.add_parser(
        "reconcile", parents=[common], help="check and repair every invariant now"
    )
    fix.add_argument(
        "--dry-run",
        action="store_true",
        help="print the repairs that would run; change nothing, publish nothing",
    )
    return parser


def _options(args: argparse.Namespace) -> Options:
    return Options(
        stack=getattr(args, "stack", DEFAULT_STACK),
        region=getattr(args, "region", ""),
        table=getattr(args, "table", ""),
        topic=getattr(args, "topic", ""),
        protected_trails=getattr(args, "protected_trails", None),
        mode=getattr(args, "mode", None),
        signing_key=getattr(args, "signing_key", ""),
    )


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    publishes = args.command == "reconcile" and not args.dry_run
    deployment = resolve_deployment(_options(args), needs_topic=publishes)
    settings = settings_for(deployment)
    account_id, caller_arn = caller_identity(settings.region)
    ctx = Context(
        deps=build_dependencies(settings),
        deployment=deployment,
        account_id=account_id,
        caller_arn=caller_arn,
        as_json=bool(getattr(args, "json", False)),
        out=out,
        err=err,
    )
    if args.command == "status":
        return cmd_status(ctx)
    if args.command == "reconcile":
        return cmd_reconcile(ctx, args.dry_run)
    if args.baseline_command == "show":
        return cmd_baseline_show(ctx, args.trail, args.history)
    if args.baseline_command == "diff":
        return cmd_baseline_diff(ctx, args.trail)
    reason = clean_text(args.reason, 200) or DEFAULT_REASON
    return cmd_baseline_capture(ctx, reason, args.yes, stdin)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2)
        return int(exc.code or 0)
    library_log = logging.getLogger("trailguard")
    quiet = logging.NullHandler()
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.INFO, stream=err, format="%(levelname)s %(message)s")
    elif not library_log.handlers:
        # The command prints its own account of what happened; without -v the
        # library's log lines (meant for CloudWatch) stay out of the terminal.
        library_log.addHandler(quiet)
    try:
        return _run_reporting_errors(args, out, err, stdin or sys.stdin)
    finally:
        # Leave the logger as found: Powertools treats a logger with handlers as
        # already set up, and a handler of ours would break it in this process.
        library_log.removeHandler(quiet)


def _run_reporting_errors(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    try:
        return _run(args, out, err, stdin)
    except CliError as exc:
        print(f"trailguard: {exc}", file=err)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=err)
    except AwsCallFailed as exc:
        print(f"trailguard: {aws_text(exc)}", file=err)
        print(f"  hint: {operator_hint(exc)}", file=err)
    except AlertNotDelivered as exc:
        print(f"trailguard: the alert could not be published: {aws_text(exc)}", file=err)
        print(
            "  hint: a repair may already have been made; run `trailguard status`, "
            "and check the alert topic's policy and key",
            file=err,
        )
    except KeyboardInterrupt:
        print("trailguard: interrupted", file=err)
        return 130
    except Exception as exc:
        from botocore.exceptions import BotoCoreError

        if not isinstance(exc, BotoCoreError):
            raise
        print(f"trailguard: {aws_text(exc)}", file=err)
        print("  hint: check AWS_PROFILE and your AWS configuration", file=err)
    return EXIT_ERROR
