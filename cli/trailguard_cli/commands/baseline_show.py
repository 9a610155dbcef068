"""`trailguard baseline show [TRAIL] [--history]`: the stored baseline, every version."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TextIO

from trailguard.adapters.baseline_store import DynamoBaselineStore
from trailguard.domain.drift import SETTING_LABELS, LiveTrail
from trailguard.domain.trails import TrailBaseline, TrailRef
from trailguard.engine.remediation import Dependencies
from trailguard_cli.baselines import select_baselines
from trailguard_cli.command import Command
from trailguard_cli.context import Context
from trailguard_cli.differences import differences, format_differences, selectors_of
from trailguard_cli.errors import EXIT_DRIFT, EXIT_OK, CliError
from trailguard_cli.output import as_json, blob, count, ident, shown


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
    for name, selectors in selectors_of(snapshot).items():
        if selectors:
            lines.append(f"  {name}")
            lines += blob(selectors, "    ")
        else:
            lines.append(f"  {name}: none")
    if snapshot.tags:
        lines.append("  Tags")
        lines += [f"    {key!r}: {value!r}" for key, value in sorted(snapshot.tags.items())]
    else:
        lines.append("  Tags: none")
    return lines


def format_history(history: Sequence[TrailBaseline]) -> list[str]:
    lines = [f"  History: {count(len(history), 'version')}, oldest first"]
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
            "schema": "trailguard.baselines/1",
            "context": ctx.context_document(),
            "baselines": [baseline_document(b) for b in baselines],
        }
        if history:
            document["history"] = {
                ref.arn: [baseline_document(v) for v in items] for ref, items in versions.items()
            }
        if not baselines:
            document["error"] = why
        ctx.say(as_json(document))
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


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trail", nargs="?", metavar="TRAIL", help="trail name or ARN")
    parser.add_argument("--history", action="store_true", help="also every earlier version")


def _run(ctx: Context, args: argparse.Namespace, stdin: TextIO) -> int:
    return cmd_baseline_show(ctx, args.trail, args.history)


COMMAND = Command(
    words=("baseline", "show"),
    help="print the stored baseline",
    run=_run,
    add_arguments=_arguments,
)
