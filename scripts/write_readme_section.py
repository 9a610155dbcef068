#!/usr/bin/env python3
"""Write a command's figures into their generated section of README.md.

    python scripts/write_readme_section.py NAME "make reliability" < figures.txt

The text on stdin becomes a code block, headed by the command, the date and the
commit it was measured at, between the section's markers (scripts/readme_sections.py).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.readme_sections import replace_section


def _commit() -> str:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip() or "unknown"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    name, command = argv
    figures = sys.stdin.read().rstrip("\n")
    if not figures:
        print(f"write_readme_section: no figures for {name!r} on stdin", file=sys.stderr)
        return 1
    day = datetime.now(UTC).date().isoformat()
    replace_section(
        name,
        f"`{command}` printed, on {day} at commit {_commit()}:\n\n```\n{figures}\n```\n",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
