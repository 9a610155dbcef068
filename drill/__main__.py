"""`python -m drill`: attack a local, seeded AWS (moto) and watch trailguard repair it.

Exit status: 0 every invariant holds and every attack was answered as expected;
1 an invariant is left broken; 3 invariants hold but trailguard did not do what
a scenario expects (wrong route, missing alert, failed handler); 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drill.scenarios import BY_NAME, SCENARIOS
from drill.template import ROOT

if TYPE_CHECKING:
    from drill.runner import DrillReport

EXIT_USAGE = 2


def _put_code_on_path() -> None:
    """What Lambda does by mounting the layer under /opt/python: make `trailguard`
    (and the functions' packages) importable, as pytest's pythonpath does for tests."""
    for folder in (ROOT / "functions", ROOT / "layers" / "trailguard"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m drill",
        description="Play attacks on an organization trail against a local moto AWS with "
        "trailguard deployed from template.yaml, and show what trailguard does.",
        epilog="Exit status: 0 all good, 1 an invariant left broken, "
        "3 trailguard did not do what a scenario expects, 2 bad usage.",
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
        help="deliver this EventBridge event file to the seeded world as it "
        "is (no API call is made first) and report what trailguard did",
    )
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write a machine-readable report to FILE ('-': stdout, "
        "and the readable report goes to stderr)",
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


def _unreadable_event(path: Path) -> str:
    """Why the file cannot be replayed, or '' when it is a JSON object."""
    try:
        with path.open() as handle:
            event = json.load(handle)
    except (OSError, ValueError) as exc:
        return str(exc)
    return "" if isinstance(event, dict) else "an EventBridge event is a JSON object"


def _write_json(report: DrillReport, target: str, stdout: TextIO) -> None:
    from drill.report import as_json

    text = json.dumps(as_json(report), indent=2, default=str) + "\n"
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
    from drill.runner import run_replay, run_scenarios

    # With `--json -` stdout carries the JSON alone, so that it can be piped.
    readable = stderr if args.json == "-" else stdout
    renderer = Renderer(readable, colour_wanted(readable, os.environ))

    if args.event is not None:
        problem = _unreadable_event(args.event)
        if problem:
            stderr.write(f"python -m drill: cannot replay {safe(args.event)}: {safe(problem)}\n")
            return EXIT_USAGE
        report = run_replay(args.event, on_play=renderer.play)
    else:
        chosen = [BY_NAME[args.scenario]] if args.scenario else list(SCENARIOS)
        renderer.total = len(chosen)
        report = run_scenarios(chosen, on_play=renderer.play)

    renderer.summary(report)
    if args.json:
        _write_json(report, args.json, stdout)
    return report.exit_code


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
