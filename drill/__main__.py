"""`python -m drill`: attack a local, seeded AWS (moto) and watch trailguard repair it.

Exit status: 0 every invariant holds and every attack was answered as expected;
1 an invariant is left broken; 3 invariants hold but trailguard did not do what
a scenario expects (wrong route, missing alert, failed handler); 2 bad usage.
With --cli, a drill that passed exits with the command line's own status.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from drill.scenarios import BY_NAME, SCENARIOS
from drill.template import ROOT

if TYPE_CHECKING:
    from drill.runner import DrillReport
    from drill.world import World

EXIT_USAGE = 2


def _put_code_on_path() -> None:
    """What Lambda does by mounting the layer under /opt/python: make `trailguard`
    (and the functions' packages) importable, as pytest's pythonpath does for tests."""
    for folder in (ROOT / "functions", ROOT / "layers" / "trailguard", ROOT / "cli"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m drill",
        description="Play attacks on an organization trail against a local moto AWS with "
        "trailguard deployed from template.yaml, and show what trailguard does.",
        epilog="Exit status: 0 all good, 1 an invariant left broken, "
        "3 trailguard did not do what a scenario expects, 2 bad usage. "
        "With --cli, a drill that passed exits with the command line's status.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--scenario",
        metavar="NAME",
        choices=sorted(BY_NAME),
        help="play only this attack (see --list)",
    )
    which.add_argument("--list", action="store_true", help="list the attacks and exit")
    which.add_argument(
        "--event",
        metavar="FILE",
        type=Path,
        help="deliver this event file to the seeded world and report what trailguard did: "
        'an EventBridge event, or a CloudTrail record or log file ({"Records": [...]}), '
        "which is wrapped as EventBridge delivers it",
    )
    parser.add_argument(
        "--apply",
        action="store_true",
        help="with --event: first make the API call the event records against the world "
        "(as its caller did), so that the replay shows the real repair",
    )
    parser.add_argument(
        "--email",
        action="store_true",
        help="also print each alert's e-mail text, as an e-mail subscriber receives it",
    )
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write a machine-readable report to FILE ('-': stdout, "
        "and the readable report goes to stderr)",
    )
    parser.add_argument(
        "--cli",
        metavar="ARGS...",
        nargs=argparse.REMAINDER,
        help="after the attacks, run the operator command line (bin/trailguard) with ARGS "
        "against the drill's world, e.g. --cli status; it must come last. The world's "
        "table, topic and signing key are passed as --table, --topic and --signing-key",
    )
    return parser


def _list(out: TextIO) -> int:
    """One attack a line: its name, how trailguard hears of it (its event, or the
    schedule when the events are lost), and what it does."""
    width = max(len(s.name) for s in SCENARIOS) + 2
    via = max(len(s.detected_by) for s in SCENARIOS) + 2
    for scenario in SCENARIOS:
        out.write(
            f"{scenario.name.ljust(width)}{scenario.detected_by.ljust(via)}{scenario.title}\n"
        )
    return 0


def _unwritable(target: str) -> str:
    """Why the JSON report cannot be written to `target`, or '' when it can: checked
    before any attack is played, not found out after all of them."""
    if target == "-":
        return ""
    path = Path(target)
    existed = path.exists()
    try:
        with path.open("a"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    if not existed:
        path.unlink()
    return ""


def _cli_step(
    argv: list[str], out: TextIO, err: TextIO, codes: list[int]
) -> Callable[[World], None]:
    """The operator command line, run in the drill's world after the plays. The world
    has no CloudFormation stack: the command is pointed at its table and topic."""

    def step(world: World) -> None:
        # `trailguard_cli.main(argv)` is the entry; older layouts keep it in trailguard_cli.app.
        package = importlib.import_module("trailguard_cli")
        cli_main: Any = getattr(package, "main", None)
        if cli_main is None:
            cli_main = importlib.import_module("trailguard_cli.app").main

        where = [] if {"--table", "--stack"} & set(argv) else ["--table", world.table_name]
        if where and "--topic" not in argv:
            where += ["--topic", world.topic_arn]
        if where and "--signing-key" not in argv:
            where += ["--signing-key", world.signing_key_arn]  # baselines are verified
        shown = " ".join(argv)
        out.write(f"\n== trailguard {shown} (the operator command line, in the drill's world)\n")
        # The functions' output is being captured: the command's own goes to the reader.
        with redirect_stdout(out), redirect_stderr(err):
            code = cli_main([*argv, *where], stdout=out, stderr=err)
        out.write(f"== trailguard {shown}: exit {code}\n")
        world.drain_alerts()  # the command's alerts are its own output, not a play's
        codes.append(code)

    return step


def _write_json(report: DrillReport, target: str, stdout: TextIO, cli_codes: list[int]) -> None:
    from drill.report import as_json

    document = as_json(report)
    if cli_codes:
        document["cliExitCode"] = cli_codes[0]
    text = json.dumps(document, indent=2, default=str) + "\n"
    if target == "-":
        stdout.write(text)
    else:
        Path(target).write_text(text)


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parser().parse_args(argv)
    if args.list:
        return _list(stdout)
    _put_code_on_path()
    from drill.render import Renderer, colour_wanted, safe
    from drill.replay import ReplayError, read_replay, run_replay
    from drill.runner import run_scenarios

    def usage(message: str) -> int:
        stderr.write(f"python -m drill: {safe(message)}\n")
        return EXIT_USAGE

    if args.apply and args.event is None:
        return usage("--apply needs --event FILE: it makes the call that event records")
    if args.cli is not None and not args.cli:
        return usage("--cli needs the command line's arguments, e.g. --cli status")
    if args.json and (problem := _unwritable(args.json)):
        return usage(f"cannot write the JSON report to {args.json}: {problem}")
    if args.event is not None:
        try:
            read_replay(args.event)
        except ReplayError as exc:
            return usage(f"cannot replay {args.event}: {exc}")

    # With `--json -` stdout carries the JSON alone, so that it can be piped.
    readable = stderr if args.json == "-" else stdout
    renderer = Renderer(readable, colour_wanted(readable, os.environ), email=args.email)
    cli_codes: list[int] = []
    after = _cli_step(list(args.cli), readable, stderr, cli_codes) if args.cli else None

    if args.event is not None:
        report = run_replay(args.event, on_play=renderer.play, apply=args.apply, after=after)
    else:
        chosen = [BY_NAME[args.scenario]] if args.scenario else list(SCENARIOS)
        renderer.total = len(chosen)
        report = run_scenarios(chosen, on_play=renderer.play, after=after)

    renderer.summary(report)
    if args.json:
        _write_json(report, args.json, stdout, cli_codes)
    return report.exit_code or (cli_codes[0] if cli_codes else 0)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
