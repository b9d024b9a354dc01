"""The thin CLI: parse, build a context, call the library, render, map to an exit status."""

from __future__ import annotations

import errno
import os
import sys
import traceback
from collections.abc import Sequence

import typer

from runbook import __version__
from runbook.cli.exitcodes import ExitCode
from runbook.cli.terminal import one_line
from runbook.errors import ConfigError, DataError, LocalWriteError, ResourceLimitError, RunbookError, UsageError
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


#: errno values that mean "this machine cannot write there", whatever wrote it
_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                           errno.EISDIR, errno.EFBIG, errno.ENAMETOOLONG})


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every error becomes one line on stderr and an exit status, never a traceback.

    ``runbook sweep --nagios`` is a monitoring plugin: whatever goes wrong, it prints one
    status line on stdout and exits 0-3 (``RUNBOOK UNKNOWN: <the error>``, exit 3)."""
    args = list(sys.argv[1:] if argv is None else argv)
    raise_open_files_limit()  # a sweep of many hosts needs more than the usual soft 1,024
    _register(args)
    code, message, hint = _run(args)
    if message is not None and _monitoring_plugin(args):
        print(f"RUNBOOK UNKNOWN: {one_line(message).replace('|', '/')}")
        code = ExitCode.UNKNOWN
    elif message is not None:
        print(f"runbook: {one_line(message)}", file=sys.stderr)
        if hint:
            print(hint, file=sys.stderr)
    sys.exit(int(code or 0))


def _monitoring_plugin(args: Sequence[str]) -> bool:
    """``sweep --nagios`` (without ``--json``, which together with it is a usage error)."""
    command = next((a for a in args if not a.startswith("-")), None)
    return command == "sweep" and "--nagios" in args and "--json" not in args


def _run(args: Sequence[str]) -> tuple[int, str | None, str | None]:
    """Run the command: (exit status, the one-line error or None, a hint line or None)."""
    try:
        return app(args=args, prog_name="runbook", standalone_mode=False) or 0, None, None
    except _EXIT as exc:
        return exc.exit_code, None, None
    except _ABORT:
        return ExitCode.INTERRUPTED, "aborted", None
    except _CLICK_ERROR as exc:
        # no_args_is_help shows the help and raises with an empty message
        hint = f"Try '{exc.ctx.command_path} --help'." if getattr(exc, "ctx", None) is not None else None
        return ExitCode.USAGE, exc.format_message() or None, hint
    except UsageError as exc:
        return ExitCode.USAGE, f"error: {exc}", None
    except ConfigError as exc:
        return ExitCode.CONFIG, f"error: {exc}", None
    except DataError as exc:
        return ExitCode.DATA, f"error: {exc}", None
    except ResourceLimitError as exc:
        return ExitCode.OSERR, f"error: {exc}", None
    except LocalWriteError as exc:
        return ExitCode.CANTCREAT, f"error: {exc}", None
    except RunbookError as exc:
        return ExitCode.FAILED, f"error: {exc}", None
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED, "interrupted", None
    except OSError as exc:
        if exc.errno in _CANNOT_WRITE:  # a local file or directory, not a bug: say which
            where = exc.filename if exc.filename is not None else "a local file"
            return ExitCode.CANTCREAT, f"error: {LocalWriteError.from_os_error(where, exc)}", None
        return _internal_error(exc)
    except Exception as exc:  # the one top-level boundary
        return _internal_error(exc)


def _internal_error(exc: BaseException) -> tuple[int, str, None]:
    if os.environ.get("RUNBOOK_DEBUG"):
        traceback.print_exc()
    return ExitCode.SOFTWARE, f"internal error: {exc!r} (set RUNBOOK_DEBUG=1 for the traceback)", None
