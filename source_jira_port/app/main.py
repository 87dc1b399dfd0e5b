"""`jira-port`: sync Jira into Port in one command, or watch it work on a local sandbox.

    jira-port --version
    jira-port sync --config sync.yaml [--full-refresh] [--dry-run [--format jsonl|table]]
    jira-port sandbox [--deployment cloud|server] [--issues N] [--dir DIR] [--serve]
    jira-port webhooks serve|register --config sync.yaml

Progress, logs and the summary go to stderr (`--quiet`: errors only; `--log-format json`: one
JSON object per line); `--dry-run` prints the entities on stdout.

Exit codes:
    0    success
    1    the sync failed at run time (Jira or Port unreachable, 5xx, timeouts); the state file
         keeps the last confirmed checkpoint
    2    bad usage or configuration: a sync.yaml or state file that cannot be used, or an error
         Jira or Port reports as a config error (credentials, JQL, project, URL, dates, Port's
         credentials or blueprints, an entity Port rejects); the message says what to fix
    3    the sync completed but skipped records (`on_invalid_record: skip`; they are pending
         retry by later syncs), or a dry run found records that would fail
    130  interrupted (Ctrl-C); the state file keeps the last confirmed checkpoint

A sync that fails before its first checkpoint writes no state file.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import textwrap
from pathlib import Path
from typing import TextIO

from airbyte_cdk.utils.airbyte_secrets_utils import update_secrets

from source_jira_port.app.config import EXAMPLE, ConfigError, load_job
from source_jira_port.app.progress import Reporter, ReporterLogHandler
from source_jira_port.app.sandbox import SandboxOptions, run_sandbox
from source_jira_port.app.stray_output import StrayOutput
from source_jira_port.app.sync import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    SyncOptions,
    sync,
)
from source_jira_port.app.webhooks.cli import add_subcommands as add_webhook_commands
from source_jira_port.version import version_line

_SYNC_HELP = f"""\
sync.yaml (${{VAR}} is an environment variable; relative paths are from the file's folder):
{textwrap.indent(EXAMPLE, "  ")}
exit codes: 0 ok, 1 sync failed (state kept at the last checkpoint), 2 bad usage or config
(sync.yaml, state file, or credentials, JQL, project, URL, dates Jira or Port refused), 3 records
skipped (pending retry) or, in a dry run, would fail, 130 interrupted (state kept)"""


def build_parser() -> argparse.ArgumentParser:
    """Return the `jira-port` argument parser."""
    output = argparse.ArgumentParser(add_help=False)
    group = output.add_argument_group("output (stderr)")
    group.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    group.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="json: one event per line"
    )
    group.add_argument("-v", "--verbose", action="store_true", help="also print info logs")
    group.add_argument("--debug", action="store_true", help="debug logs and tracebacks")

    parser = argparse.ArgumentParser(
        prog="jira-port",
        description="Sync Jira projects and issues into Port.",
        epilog="Exit codes: 0 ok, 1 sync failed, 2 bad usage or config, 3 records skipped, "
        "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=version_line("jira-port"))
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sync_parser = commands.add_parser(
        "sync",
        parents=[output],
        help="run a sync described by a sync.yaml",
        description="Read Jira and write Port in one process. The state is saved after every "
        "checkpoint Port confirms, so the next run is incremental.",
        epilog=_SYNC_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync_parser.add_argument("--config", type=Path, required=True, help="the sync.yaml")
    sync_parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="re-read everything, ignore the saved state, delete entities Jira no longer has",
    )
    sync_parser.add_argument(
        "--dry-run", action="store_true", help="print the entities instead of writing them"
    )
    sync_parser.add_argument(
        "--format", choices=("jsonl", "table"), default="jsonl", help="--dry-run output on stdout"
    )

    sandbox = commands.add_parser(
        "sandbox",
        parents=[output],
        help="sync a local fake Jira into a local fake Port, change issues, sync again",
    )
    sandbox.add_argument(
        "--deployment", choices=("cloud", "server"), default="cloud", help="the fake Jira's kind"
    )
    sandbox.add_argument("--issues", type=_positive, default=3000, help="issues to generate")
    sandbox.add_argument(
        "--projects", type=int, default=4, choices=range(1, 9), metavar="1..8", help="projects"
    )
    sandbox.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    sandbox.add_argument("--dir", type=Path, help="where to write sync.yaml (default: a temp dir)")
    sandbox.add_argument(
        "--serve",
        action="store_true",
        help="only start the servers and write sync.yaml; serve until Ctrl-C",
    )
    add_webhook_commands(commands, parents=[output])
    return parser


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return number


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run `jira-port` with `argv` (default: the command line) and return the exit code.

    `out` (default: `sys.stdout`) gets the command's own output. Meanwhile `sys.stdout` is a
    `StrayOutput`: whatever else is printed (the CDK prints some Airbyte messages) is logged.
    """
    out = out or sys.stdout
    try:
        with contextlib.redirect_stdout(out):
            args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help, --version (0) or bad usage (2)
        return int(exit_.code or 0)
    reporter = Reporter("quiet" if args.quiet else args.log_format, debug=args.debug)
    _route_logging(reporter, args)
    try:
        with contextlib.redirect_stdout(StrayOutput()):
            return _command(args, reporter, out)
    except BrokenPipeError:  # stdout's reader stopped early (`| head`): not a failure
        return EXIT_OK
    except ConfigError as error:
        reporter.error(str(error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        reporter.error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:  # a bug: say so in one line; --debug shows where
        reporter.error(f"unexpected {type(error).__name__}: {error}")
        return EXIT_FAILED


def _command(args: argparse.Namespace, reporter: Reporter, out: TextIO) -> int:
    if args.command == "webhooks":
        with contextlib.redirect_stdout(out):  # `register` prints Jira's webhook
            return int(args.handler(args))
    if args.command == "sandbox":
        sandbox = SandboxOptions(
            args.deployment, args.issues, args.projects, args.seed, args.dir, args.serve
        )
        return run_sandbox(sandbox, reporter, out)
    job = load_job(args.config)
    update_secrets(list(job.secrets))
    options = SyncOptions(args.full_refresh, args.dry_run, args.format)
    return sync(job, options, reporter, out)


def _route_logging(reporter: Reporter, args: argparse.Namespace) -> None:
    """Send all Python logging to the reporter (the CDK's default handler prints to stdout)."""
    if args.quiet:
        level = logging.ERROR
    elif args.debug:
        level = logging.DEBUG
    else:
        level = logging.INFO if args.verbose else logging.WARNING
    root = logging.getLogger()
    root.handlers = [ReporterLogHandler(reporter, level)]
    root.setLevel(level)
    logging.getLogger("airbyte").setLevel(level)


def run() -> None:
    """Console script entry point.

    Ctrl-C works even where a non-interactive shell started the command in the background
    (which ignores SIGINT). The process exits without waiting for other threads: after a failure
    or Ctrl-C the CDK's reader threads would go on paging through Jira; the state is saved.
    Until then, what those threads print is logged, not written to stdout.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    out = sys.stdout
    sys.stdout = StrayOutput()
    code = main(out=out)
    for stream in (out, sys.stderr):
        with contextlib.suppress(OSError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
