"""`trailguard baseline diff [TRAIL]`: live state against the baseline, field by field."""

from __future__ import annotations

import argparse
from typing import TextIO

from trailguard.domain.drift import EVERY_ASPECT
from trailguard_cli.baselines import select_baselines
from trailguard_cli.command import Command
from trailguard_cli.context import Context
from trailguard_cli.differences import differences, format_differences
from trailguard_cli.errors import EXIT_DRIFT, EXIT_OK
from trailguard_cli.output import as_json, ident


def cmd_baseline_diff(ctx: Context, trail: str | None) -> int:
    baselines, why = select_baselines(ctx.deps, trail)
    found = [
        (b, differences(b.snapshot, ctx.deps.trails.read(b.ref, EVERY_ASPECT))) for b in baselines
    ]
    differs = any(diffs for _, diffs in found)
    if ctx.as_json:
        ctx.say(
            as_json(
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


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trail", nargs="?", metavar="TRAIL", help="trail name or ARN")


def _run(ctx: Context, args: argparse.Namespace, stdin: TextIO) -> int:
    return cmd_baseline_diff(ctx, args.trail)


COMMAND = Command(
    words=("baseline", "diff"),
    help="live state against the baseline",
    run=_run,
    add_arguments=_arguments,
)
