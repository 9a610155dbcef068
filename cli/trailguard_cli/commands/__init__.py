"""The commands, one module each, in the order `trailguard --help` lists them."""

from __future__ import annotations

from trailguard_cli.command import Command
from trailguard_cli.commands import (
    baseline_capture,
    baseline_diff,
    baseline_show,
    reconcile,
    status,
)

# Commands with more than one word are grouped under their first word.
GROUPS = {"baseline": "show, diff or capture"}

COMMANDS: tuple[Command, ...] = (
    status.COMMAND,
    baseline_show.COMMAND,
    baseline_diff.COMMAND,
    baseline_capture.COMMAND,
    reconcile.COMMAND,
)
