"""The thin CLI: parse, build a context, call the library, render, map to an exit status."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click
import typer

from runbook import __version__
from runbook.cli.exitcodes import ExitCode
from runbook.errors import ConfigError, RunbookError

app = typer.Typer(name="runbook", no_args_is_help=True, add_completion=False,
                  help="On-call toolkit: health sweeps, remediation playbooks over SSH, customer reports.",
                  context_settings={"help_option_names": ["-h", "--help"]}, pretty_exceptions_enable=False)


def _version(value: bool) -> None:
    if value:
        print(f"runbook {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """runbook: the on-call engineer's toolkit."""


def _register() -> None:
    from runbook.cli import commands, inventory_cmds, runs_cmds  # noqa: F401  (they add commands)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every error becomes one line on stderr and an exit status, never a traceback."""
    _register()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name="runbook", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        print("runbook: aborted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except click.ClickException as exc:
        print(f"runbook: {exc.format_message()}", file=sys.stderr)
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            print(f"Try '{exc.ctx.command_path} --help'.", file=sys.stderr)
        code = ExitCode.USAGE
    except ConfigError as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        code = ExitCode.CONFIG
    except RunbookError as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        code = ExitCode.FAILED
    except KeyboardInterrupt:
        print("runbook: interrupted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except Exception as exc:  # the one top-level boundary
        if os.environ.get("RUNBOOK_DEBUG"):
            traceback.print_exc()
        print(f"runbook: internal error: {exc!r} (set RUNBOOK_DEBUG=1 for the traceback)", file=sys.stderr)
        code = ExitCode.SOFTWARE
    sys.exit(int(code or 0))
