"""`trailguard baseline capture --reason R`: make the live state the new baseline.

It shows what would change, asks for confirmation, then stores exactly the
state it showed, by the same code as the capture function (engine.capture).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any, TextIO, cast

from trailguard.domain.alerts import now
from trailguard.domain.drift import LiveTrail
from trailguard.domain.text import clean_text
from trailguard.domain.trails import TrailBaseline, TrailSnapshot
from trailguard.engine.capture import capture, protected_selection
from trailguard.engine.remediation import Dependencies
from trailguard.ports import Trails
from trailguard_cli.command import Command
from trailguard_cli.context import Context
from trailguard_cli.differences import FieldDiff, differences, format_differences
from trailguard_cli.errors import EXIT_DRIFT, EXIT_OK, CliError
from trailguard_cli.output import as_json, aws_text, count, ident

DEFAULT_REASON = "operator request (trailguard CLI)"


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


def _confirm(ctx: Context, n: int, stdin: TextIO) -> bool:
    if not stdin.isatty():
        raise CliError(
            "refusing to replace baselines without confirmation",
            "review `trailguard baseline diff`, then pass --yes",
        )
    print(
        f"Replace {count(n, 'baseline')} with the live state above? Type 'yes' to confirm: ",
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
            ctx.say(as_json({"schema": "trailguard.capture/1", "preview": preview.as_dict()}))
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
            as_json(
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


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reason", default=DEFAULT_REASON, help="why (a change ticket), stored with it"
    )
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _run(ctx: Context, args: argparse.Namespace, stdin: TextIO) -> int:
    reason = clean_text(args.reason, 200) or DEFAULT_REASON
    return cmd_baseline_capture(ctx, reason, args.yes, stdin)


COMMAND = Command(
    words=("baseline", "capture"),
    help="replace the baselines with the live state",
    run=_run,
    add_arguments=_arguments,
)
