"""The thin CLI: parse, build a context, call the library, render, map to an exit status."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import typer

from runbook import __version__
from runbook.cli.exitcodes import ExitCode
from runbook.config import applied as config_applied
from runbook.errors import ConfigError, DataError, ResourceLimitError, RunbookError
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
    "check": "Validate a playbook (and, with -i, its templates for every targeted host).",
    "exec": "Run one command on many hosts, with a playbook's connections, limits and journal.",
    "shell": "An interactive SSH session on one host, with the inventory's connection settings.",
    "playbooks": "The playbooks a name finds: shipped ones and local ones, with their descriptions.",
    "actions": "List every action with its one-line doc, params and origin.",
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


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: every error becomes one line on stderr and an exit status, never a traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    raise_open_files_limit()  # a sweep of many hosts needs more than the usual soft 1,024
    try:
        with config_applied():  # the config file fills in the environment, flags still win
            code = _app_for(args)(args=args, prog_name="runbook", standalone_mode=False)
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
