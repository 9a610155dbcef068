"""The README's command-line examples are the command line's output, not a copy by hand.

`.venv/bin/python -m tests.functional.test_cli_readme` plays the example in a moto
world and writes it into README.md's generated section `cli-examples`; the test
fails when the README and the code's output part ways. Times vary from run to
run, so they are compared as placeholders.
"""

from __future__ import annotations

import re

from drill.world import World
from scripts.readme_sections import read_section, replace_section
from tests.functional.helpers import aws
from tests.functional.test_cli_status_self import cloudformation, deploy_itself, heartbeat, run

SECTION = "cli-examples"
_TIMES = (
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"\b\d+ min ago"), "<n> min ago"),
)


def play(world: World) -> str:
    """The README's example: the trail stopped, its prefix changed to a string with a
    terminal escape in it, and the rule that would have repaired it disabled."""
    itself = deploy_itself(world)
    heartbeat(minutes_ago=3)
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    aws("cloudtrail").update_trail(Name=world.trail_name, S3KeyPrefix="elsewhere\x1b[2J")
    aws("events").disable_rule(Name=itself.rules["RestoreTrailFunctionTrailChanged"])
    parts = []
    for command in (["status"], ["reconcile", "--dry-run"]):
        with cloudformation(world, itself, lists_resources=command == ["status"]):
            code, out, err = run(*command)
        assert code == 1, err
        parts += [f"$ trailguard {' '.join(command)}", out.rstrip(), f"$ echo $?\n{code}", ""]
    return "```\n" + "\n".join(parts).rstrip() + "\n```\n"


def _timeless(text: str) -> str:
    for pattern, placeholder in _TIMES:
        text = pattern.sub(placeholder, text)
    return text


def test_readme_examples_are_the_commands_output(world: World) -> None:
    played = play(world)

    assert "PROBLEM  rule is enabled" in played
    assert "DRIFTED  I2    trail is logging" in played
    assert "\x1b" not in played
    assert _timeless(read_section(SECTION)) == _timeless(played), (
        "README's command-line examples are stale: run "
        "`.venv/bin/python -m tests.functional.test_cli_readme`"
    )


if __name__ == "__main__":
    from drill.world import seeded_world

    with seeded_world() as seeded:
        replace_section(SECTION, play(seeded))
    print(f"README.md: section {SECTION} written")
