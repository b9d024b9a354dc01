"""The thin CLI: parse, build a context, call the library, render, map to an exit status."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer

from runbook import __version__
from runbook.cli.exitcodes import ExitCode
from runbook.errors import ConfigError, DataError, ResourceLimitError, RunbookError, UsageError
from runbook.limits import raise_open_files_limit

# Typer (0.26-0.28, pinned) vendors click: its usage errors are ``typer.TyperException``s, not
# click's own classes, so only typer's names are used here and click is not a dependency.
_EXIT = typer.Exit
_ABORT = typer.Abort
_CLICK_ERROR = typer.TyperException

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


#: which module defines each top-level command. Only the module of the command being run is
#: imported (all of them for --help): the report and SLA modules bring Jinja2 and the holidays
#: package, which a cron sweep every few minutes should not pay 0.2 s for.
COMMAND_MODULES = {
    "sweep": "sweep_cmds", "run": "run_cmds", "check": "run_cmds", "actions": "run_cmds",
    # ticket_cmds adds the intake and correction commands to incident_cmds' group
    "inventory": "inventory_cmds", "runs": "runs_cmds", "incident": "ticket_cmds",
    "sla": "incident_cmds", "report": "report_cmds", "logs": "logs_cmds",
    "history": "history_cmds", "forecast": "history_cmds",
}


def _register(args: Sequence[str] = ()) -> None:
    import importlib
    command = next((a for a in args if not a.startswith("-")), None)
    wanted = [COMMAND_MODULES[command]] if command in COMMAND_MODULES else list(dict.fromkeys(
        COMMAND_MODULES.values()))
    for module in wanted:
        importlib.import_module(f"runbook.cli.{module}")  # importing a module adds its commands


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every error becomes one line on stderr and an exit status, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    raise_open_files_limit()  # a sweep of many hosts needs more than the usual soft 1,024
    _register(args)
    try:
        code = app(args=args, prog_name="runbook", standalone_mode=False)
    except _EXIT as exc:
        code = exc.exit_code
    except _ABORT:
        print("runbook: aborted", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except _CLICK_ERROR as exc:
        message = exc.format_message()
        if message:  # no_args_is_help shows the help and raises with an empty message
            print(f"runbook: {message}", file=sys.stderr)
        if getattr(exc, "ctx", None) is not None:
            print(f"Try '{exc.ctx.command_path} --help'.", file=sys.stderr)
        code = ExitCode.USAGE
    except UsageError as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        code = ExitCode.USAGE
    except ConfigError as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        code = ExitCode.CONFIG
    except DataError as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        code = ExitCode.DATA
    except ResourceLimitError as exc:
        print(f"runbook: error: {exc}", file=sys.stderr)
        code = ExitCode.OSERR
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
