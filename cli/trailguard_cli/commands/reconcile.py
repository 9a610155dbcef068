"""`trailguard reconcile [--dry-run]`: what the scheduled reconciler does, now."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from typing import TextIO

from trailguard.domain.alerts import Outcome
from trailguard.engine.reconciler import ReconcileReport, reconcile
from trailguard_cli.alerts import OperatorAlerts, Undelivered
from trailguard_cli.command import Command
from trailguard_cli.context import Context
from trailguard_cli.errors import EXIT_DRIFT, EXIT_OK
from trailguard_cli.output import as_json, aws_text, count, ident

DETECTED_BY = "operator"  # alerts from `trailguard reconcile` say detectedBy: operator


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
            f"{count(len(report.planned), 'repair')} planned. Run `trailguard reconcile` to repair."
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
            f"{count(len(undelivered), 'alert')} could not be published to the alert topic "
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
            as_json(
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


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the repairs that would run; change nothing, publish nothing",
    )


def _run(ctx: Context, args: argparse.Namespace, stdin: TextIO) -> int:
    return cmd_reconcile(ctx, args.dry_run)


COMMAND = Command(
    words=("reconcile",),
    help="check and repair every invariant now",
    run=_run,
    add_arguments=_arguments,
    publishes=lambda args: not args.dry_run,
)
