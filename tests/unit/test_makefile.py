"""The Makefile a new user meets first: `make` lists the targets, and the drill installs
only what it runs with, saying so in one line."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = (ROOT / "Makefile").read_text()
TARGETS = ("drill", "test", "lint", "check-template", "reliability", "bench", "build", "ci")


def _recipe(target_pattern: str) -> list[str]:
    """The recipe lines of the rule whose target matches the pattern."""
    match = re.search(rf"^{target_pattern}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE)
    assert match, target_pattern
    return match.group(1).splitlines()


@pytest.mark.parametrize("argv", [["make"], ["make", "help"]], ids=" ".join)
def test_make_alone_and_make_help_list_every_target(argv: list[str]) -> None:
    result = subprocess.run(
        [*argv, "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines()[1:] if line.strip()}
    assert set(TARGETS) <= listed
    assert "installing" not in result.stdout  # listing installs nothing


def test_the_drill_installs_only_its_own_requirements_in_one_announced_line() -> None:
    recipe = _recipe(r"\$\(DRILL_STAMP\)")
    shown = [line for line in recipe if not line.lstrip("\t").startswith("@")]
    continued = [line for line in recipe if line.startswith("\t  ")]
    assert set(shown) == set(continued)  # only continuation lines of silent commands
    [echo] = [line for line in recipe if "@echo" in line]
    assert "installing" in echo
    assert "-r requirements-drill.txt" in "".join(recipe)
    assert "requirements-dev.txt" not in "".join(recipe)
    assert re.search(r"^drill: \$\(DRILL_STAMP\) ##", MAKEFILE, re.MULTILINE)


def test_the_development_set_contains_the_drills() -> None:
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    drill = (ROOT / "requirements-drill.txt").read_text().splitlines()
    assert "-r requirements-drill.txt" in dev
    assert "-r layers/trailguard/requirements.txt" in drill
    assert re.search(r"^test: \$\(STAMP\) \$\(TEMPLATE_CHECKED\) ##", MAKEFILE, re.MULTILINE)
