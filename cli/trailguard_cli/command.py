"""What a command module declares: its words, its arguments and how it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from trailguard_cli.context import Context


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    return None


def _never(args: argparse.Namespace) -> bool:
    return False


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # ("status",) or ("baseline", "show")
    help: str
    run: Callable[[Context, argparse.Namespace, TextIO], int]  # (ctx, args, stdin) -> exit
    add_arguments: Callable[[argparse.ArgumentParser], None] = _no_arguments
    # Whether this invocation may publish alerts, so needs the alert topic.
    publishes: Callable[[argparse.Namespace], bool] = _never
