"""`trailguard`: the operator command line, for on-call engineers.

    trailguard status                       every invariant: OK or DRIFTED, with details,
                                            and trailguard's own health (rules, functions,
                                            alarms, the reconciler's last heartbeat)
    trailguard baseline show [TRAIL]        the stored baseline (--history: every version)
    trailguard baseline diff [TRAIL]        live state against the baseline, field by field
    trailguard baseline capture --reason R  make the live state the new baseline
    trailguard reconcile [--dry-run]        what the scheduled reconciler does, now

It runs with the engineer's own credentials and the same library, adapters and
reconciler as the functions. Where trailguard is deployed comes from the
stack's outputs and parameters (CloudFormation DescribeStacks), or from
--table/--topic when CloudFormation is not to be read.

Each command is one module in trailguard_cli/commands/; this module only
parses the arguments, builds the context and turns failures into exit status 2.

Exit status: 0 all good; 1 drift found or left (or trailguard itself impaired,
a baseline missing, or the operator declined); 2 trailguard could not find out
(bad usage, no credentials, a permission missing, no such stack).

Values read from AWS (trail settings, tags, selectors, who captured a baseline
and why, error messages) are shown as data only: quoted with repr() or encoded
as JSON, so control characters or terminal escapes in them are never
interpreted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TextIO

from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard_cli import aws
from trailguard_cli.context import Context
from trailguard_cli.deployment import resolve_deployment, settings_for
from trailguard_cli.errors import EXIT_ERROR, CliError, operator_hint
from trailguard_cli.output import aws_text
from trailguard_cli.parser import build_parser, chosen, options_from


def _run(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    command = chosen(args)
    deployment = resolve_deployment(options_from(args), needs_topic=command.publishes(args))
    settings = settings_for(deployment)
    account_id, caller_arn = aws.caller_identity(settings.region)
    ctx = Context(
        deps=aws.build_dependencies(settings),
        deployment=deployment,
        account_id=account_id,
        caller_arn=caller_arn,
        as_json=bool(getattr(args, "json", False)),
        out=out,
        err=err,
    )
    return command.run(ctx, args, stdin)


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run one command; return its exit status (never raises SystemExit).

    argv defaults to sys.argv[1:]; the streams default to the process's own."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2)
        return int(exc.code or 0)
    library_log = logging.getLogger("trailguard")
    quiet = logging.NullHandler()
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.INFO, stream=err, format="%(levelname)s %(message)s")
    elif not library_log.handlers:
        # The command prints its own account of what happened; without -v the
        # library's log lines (meant for CloudWatch) stay out of the terminal.
        library_log.addHandler(quiet)
    try:
        return _run_reporting_errors(args, out, err, stdin or sys.stdin)
    finally:
        # Leave the logger as found: Powertools treats a logger with handlers as
        # already set up, and a handler of ours would break it in this process.
        library_log.removeHandler(quiet)


def console_script() -> None:
    """The `trailguard` executable that pip installs ([project.scripts])."""
    raise SystemExit(main())


def _run_reporting_errors(args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> int:
    try:
        return _run(args, out, err, stdin)
    except CliError as exc:
        print(f"trailguard: {exc}", file=err)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=err)
    except AwsCallFailed as exc:
        print(f"trailguard: {aws_text(exc)}", file=err)
        print(f"  hint: {operator_hint(exc)}", file=err)
    except AlertNotDelivered as exc:
        print(f"trailguard: the alert could not be published: {aws_text(exc)}", file=err)
        print(
            "  hint: a repair may already have been made; run `trailguard status`, "
            "and check the alert topic's policy and key",
            file=err,
        )
    except KeyboardInterrupt:
        print("trailguard: interrupted", file=err)
        return 130
    except Exception as exc:
        from botocore.exceptions import BotoCoreError

        if not isinstance(exc, BotoCoreError):
            raise
        print(f"trailguard: {aws_text(exc)}", file=err)
        print("  hint: check AWS_PROFILE and your AWS configuration", file=err)
    return EXIT_ERROR
