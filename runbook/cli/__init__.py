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
from runbook.config import applied as config_applied
from runbook.errors import ConfigError, DataError, LocalWriteError, ResourceLimitError, RunbookError, UsageError
from runbook.limits import raise_open_files_limit

# Typer (0.26-0.28, pinned) vendors click: its usage errors are ``typer.TyperException``s, not
# click's own classes, so only typer's names are used here and click is not a dependency.
_EXIT = typer.Exit
_ABORT = typer.Abort
_CLICK_ERROR = typer.TyperException


def _root_app() -> typer.Typer:
    """The root command: its options only; commands are added by the command modules."""
    # rich_markup_mode=None: click's plain help. Typer's Rich help imports Markdown and more: 0.1 s.
    root = typer.Typer(name="runbook", no_args_is_help=True, add_completion=True, rich_markup_mode=None,
                       help="On-call toolkit: health sweeps, remediation playbooks over SSH, customer reports.",
                       context_settings={"help_option_names": ["-h", "--help"]}, pretty_exceptions_enable=False)
    root.callback()(_root)
    return root


def _version(value: bool) -> None:
    if value:
        print(f"runbook {__version__}")
        raise typer.Exit(0)


def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")) -> None:
    """runbook: the on-call engineer's toolkit."""


app = _root_app()

#: which module defines each top-level command. Only the module of the command being run is
#: imported: the report and SLA modules bring Jinja2 and the holidays package, the run modules
#: Paramiko, which a cron sweep every few minutes, or `--help`, should not pay for.
COMMAND_MODULES = {
    "sweep": "sweep_cmds", "run": "run_cmds", "check": "run_cmds", "actions": "run_cmds",
    "playbooks": "playbook_cmds", "exec": "exec_cmds", "shell": "exec_cmds",
    # ticket_cmds adds the intake and correction commands to incident_cmds' group
    "inventory": "inventory_cmds", "runs": "runs_cmds", "incident": "ticket_cmds",
    "sla": "incident_cmds", "report": "report_cmds", "logs": "logs_cmds",
    "history": "history_cmds", "forecast": "history_cmds", "config": "config_cmds",
}

#: ``runbook --help`` lists every command with the first line of its help, from here, so it
#: imports none of the command modules (tests/habits/test_startup.py holds this to the real ones).
COMMAND_HELP = {
    "sweep": "Check every host: reachability, disk, inodes, memory, swap, load.",
    "run": "Run a playbook over the inventory's hosts; every event goes to the run journal.",
    "check": "Validate a playbook (with -i: its templates and host vars, for every targeted host).",
    "exec": "Run one command on many hosts, with a playbook's connections, limits and journal.",
    "shell": "An interactive SSH session on one host, with the inventory's connection settings.",
    "playbooks": "The playbooks a name finds: shipped ones and local ones, with their descriptions.",
    "actions": "List every action with its one-line doc, params, the host vars it reads and its origin.",
    "history": "Per host and check, its status over time from the sweep journals, newest first.",
    "forecast": "Per host and mount: growth of used space and inodes, and when it reaches crit and 100 %.",
    "inventory": "Show resolved hosts and vars.",
    "runs": "Earlier runs, from their journals.",
    "incident": "Incidents: received, reaction deadline, SLA verdict, runs.",
    "sla": "The SLA clock.",
    "report": "Customer reports (German or English) from run journals.",
    "logs": "Log files: analyse local copies or archives.",
    "config": "Your settings: the config file, the environment and the defaults.",
}

#: root options that take a value (so the value is not taken for a command name)
_ROOT_VALUE_OPTIONS = ("--install-completion", "--show-completion")


def command_of(args: Sequence[str]) -> str | None:
    """The command a command line runs (its first word that is not a root option)."""
    words = iter(args)
    for word in words:
        if word in _ROOT_VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def _completion_words() -> list[str] | None:
    """The words of the command line being completed (bash, zsh, fish), or None."""
    if not os.environ.get("_RUNBOOK_COMPLETE"):
        return None
    line = os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS") or ""
    return line.split()[1:]


def _stub(ctx: typer.Context) -> None:  # never runs: a named command imports its real module
    raise typer.Exit(int(ExitCode.SOFTWARE))


def _help_app() -> typer.Typer:
    """The root command with every command as a stub carrying its help line: what --help,
    a bare ``runbook``, a typo and completing a command name need, without any command module."""
    root = _root_app()
    for name, text in COMMAND_HELP.items():
        root.command(name, help=text, short_help=text, add_help_option=False,
                     context_settings={"ignore_unknown_options": True, "allow_extra_args": True})(_stub)
    return root


def _app_for(args: Sequence[str]) -> typer.Typer:
    import importlib
    words = _completion_words()
    command = command_of(words if words is not None else args)
    if command not in COMMAND_MODULES:
        return _help_app()
    importlib.import_module(f"runbook.cli.{COMMAND_MODULES[command]}")  # importing a module adds its commands
    return app


#: errno values that mean "this machine cannot write there", whatever wrote it
_CANNOT_WRITE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR,
                           errno.EISDIR, errno.EFBIG, errno.ENAMETOOLONG})


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every error becomes one line on stderr and an exit status, never a traceback.

    ``runbook sweep --nagios`` is a monitoring plugin: whatever goes wrong, it prints one
    status line on stdout and exits 0-3 (``RUNBOOK UNKNOWN: <the error>``, exit 3)."""
    args = list(sys.argv[1:] if argv is None else argv)
    raise_open_files_limit()  # a sweep of many hosts needs more than the usual soft 1,024
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
    return command_of(args) == "sweep" and "--nagios" in args and "--json" not in args


def _run(args: Sequence[str]) -> tuple[int, str | None, str | None]:
    """Run the command: (exit status, the one-line error or None, a hint line or None)."""
    try:
        with config_applied():  # the config file fills in the environment, flags still win
            return _app_for(args)(args=args, prog_name="runbook", standalone_mode=False) or 0, None, None
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
