"""`trailguard status`: every invariant, read-only: OK, DRIFTED or ERROR, with details;
then, when the stack was read, trailguard's own health (self_health.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

from trailguard.domain.drift import EVERY_ASPECT, Aspect, LiveTrail, trail_drift
from trailguard.domain.trails import TrailBaseline
from trailguard.engine.reconciler import protected_baselines
from trailguard.engine.remediation import Dependencies
from trailguard.errors import AwsCallFailed
from trailguard.protected.service_linked_role import ROLE_NAME
from trailguard.protected.trusted_access import CLOUDTRAIL
from trailguard_cli.command import Command
from trailguard_cli.context import Context
from trailguard_cli.errors import EXIT_DRIFT, EXIT_ERROR, EXIT_OK, operator_hint
from trailguard_cli.output import as_json, aws_text, ident
from trailguard_cli.self_health import PROBLEM, check_self, format_self

OK, DRIFTED, ERROR = "OK", "DRIFTED", "ERROR"


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


def failed(exc: AwsCallFailed) -> tuple[str, ...]:
    return (aws_text(exc), f"hint: {operator_hint(exc)}")


def _account_check(
    invariant: str, title: str, resource: str, holds: Callable[[], bool], drift: str
) -> Check:
    try:
        ok = holds()
    except AwsCallFailed as exc:
        return Check(invariant, title, resource, ERROR, failed(exc))
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
            Check("I3", "baselines can be read", table, ERROR, failed(exc)),
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
            checks.append(Check("I2-I5", "trail can be read", baseline.ref.arn, ERROR, failed(exc)))
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


NOT_CHECKED = "with --table the stack is not read"


def run(ctx: Context, args: argparse.Namespace, stdin: TextIO) -> int:
    checks = check_status(ctx.deps)
    stack = ctx.deployment.stack_name
    itself = check_self(ctx.deployment) if stack else []
    code = status_exit(checks)
    states = {c.state for c in itself}
    if ERROR in states:
        code = EXIT_ERROR
    elif PROBLEM in states and code == EXIT_OK:
        code = EXIT_DRIFT
    if ctx.as_json:
        document = {
            "schema": "trailguard.status/1",
            "ok": code == EXIT_OK,
            "drifted": sum(1 for c in checks if c.state == DRIFTED),
            "errors": sum(1 for c in checks if c.state == ERROR)
            + sum(1 for c in itself if c.state == ERROR),
            "problems": sum(1 for c in itself if c.state == PROBLEM),
            "context": ctx.context_document(),
            "checks": [c.as_dict() for c in checks],
            "self": (
                {"checked": True, "stack": stack, "checks": [c.as_dict() for c in itself]}
                if stack
                else {"checked": False, "reason": NOT_CHECKED}
            ),
        }
        ctx.say(as_json(document))
    else:
        ctx.say(ctx.header("status"))
        ctx.say()
        ctx.say(format_status(checks))
        ctx.say()
        if stack:
            ctx.say(format_self(stack, itself))
        else:
            ctx.say(f"trailguard itself: not checked ({NOT_CHECKED}).")
    return code


COMMAND = Command(words=("status",), help="every invariant: OK or DRIFTED, with details", run=run)
