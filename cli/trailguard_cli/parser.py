"""The command line's grammar: shared options, then one subcommand per command module."""

from __future__ import annotations

import argparse
from typing import Any

from trailguard_cli.command import Command
from trailguard_cli.commands import COMMANDS, GROUPS
from trailguard_cli.deployment import DEFAULT_REGION, DEFAULT_STACK, Options


def _common_options() -> argparse.ArgumentParser:
    # Shared options go on every (sub)parser with SUPPRESS defaults, so that
    # `trailguard --json status` and `trailguard status --json` both work.
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_argument_group("where trailguard is deployed")
    where.add_argument(
        "--stack",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help=f"the stack's name (default: {DEFAULT_STACK})",
    )
    where.add_argument(
        "--region",
        default=argparse.SUPPRESS,
        help=f"the stack's region (default: $AWS_REGION, else {DEFAULT_REGION})",
    )
    where.add_argument(
        "--table",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="baseline table; with --table (and --topic for reconcile) the stack is not read",
    )
    where.add_argument("--topic", metavar="ARN", default=argparse.SUPPRESS, help="alert topic ARN")
    where.add_argument(
        "--signing-key",
        metavar="ARN",
        default=argparse.SUPPRESS,
        help="the baselines' signing key (default: the stack's BaselineSigningKeyArn)",
    )
    where.add_argument(
        "--protected-trails",
        metavar="NAMES",
        default=argparse.SUPPRESS,
        help="comma-separated trail names (default: the stack's ProtectedTrailNames; "
        "without the stack, every baseline in the table)",
    )
    where.add_argument(
        "--mode",
        choices=("enforce", "detect"),
        default=argparse.SUPPRESS,
        help="override the stack's Mode (without the stack: enforce)",
    )
    output = common.add_argument_group("output")
    output.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
    )
    output.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS,
        help="log the library's steps to stderr",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="trailguard",
        parents=[common],
        description="Operator command line of trailguard: check, inspect and repair the "
        "organization trail's invariants with your own credentials.",
        epilog="Exit status: 0 all good; 1 drift found or left, trailguard itself impaired, "
        "a baseline missing, or declined; 2 could not find out (usage, credentials, "
        "permissions, no stack).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, Any] = {}
    for command in COMMANDS:
        first, *rest = command.words
        if not rest:
            leaf = commands.add_parser(first, parents=[common], help=command.help)
        else:
            if first not in groups:
                group = commands.add_parser(first, parents=[common], help=GROUPS[first])
                groups[first] = group.add_subparsers(
                    dest=f"{first}_command", required=True, metavar="ACTION"
                )
            leaf = groups[first].add_parser(rest[0], parents=[common], help=command.help)
        command.add_arguments(leaf)
        leaf.set_defaults(handler=command)
    return parser


def chosen(args: argparse.Namespace) -> Command:
    handler: Command = args.handler
    return handler


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        stack=getattr(args, "stack", DEFAULT_STACK),
        region=getattr(args, "region", ""),
        table=getattr(args, "table", ""),
        topic=getattr(args, "topic", ""),
        protected_trails=getattr(args, "protected_trails", None),
        mode=getattr(args, "mode", None),
        signing_key=getattr(args, "signing_key", ""),
    )
