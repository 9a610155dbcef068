"""Running `python -m drill` in-process, as a user would, and reading its JSON."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from drill.__main__ import main


@dataclass
class DrillRun:
    exit_code: int
    readable: str
    report: dict[str, Any]


def run_drill(*arguments: str) -> DrillRun:
    """The drill with `--json -`: the JSON on stdout, the readable report on stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    # --json first: --cli takes every argument after it.
    code = main(["--json", "-", *arguments], stdout=stdout, stderr=stderr)
    return DrillRun(code, stderr.getvalue(), json.loads(stdout.getvalue()))


def only_play(report: dict[str, Any]) -> dict[str, Any]:
    [play] = report["plays"]
    return dict(play)
