"""`runbook exec` (one command over many hosts) and `runbook shell HOST` (an interactive session).

``exec`` is a one-step playbook made on the spot, so it has everything a playbook run has: the
inventory's connections and strict host keys, ``-l``, ``--forks``, timeouts, Ctrl-C, the
journal (kind "exec") and the exit status. Without ``--change`` the command is recorded as a
read (the ``command`` action): runbook cannot know what a command does, so it is the engineer
who says, with ``--change``, that it changes something; it is then the ``command.change``
action: ``--check`` shows it, applying asks once for all hosts (unless ``--yes``), and the
journal and the customer report record it as a measure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import yaml

import typer
from rich.markup import escape

from runbook.cli import app, options as opt
from runbook.cli.completion import complete_host
from runbook.cli.context import CliContext, confirm_step, one_customer, stop_on_signals
from runbook.cli.exitcodes import ExitCode, for_run
from runbook.cli.progress import live_hosts
from runbook.cli.render import OUTCOME_STYLE
from runbook.cli.run_cmds import sudo_password
from runbook.connection import ConnectOptions
from runbook.errors import ConfigError, ConnectError, UsageError
from runbook.inventory import load_inventory, parse_extra_vars
from runbook.limits import require_open_files
from runbook.playbook import Playbook, load_playbook
from runbook.run.options import RunOptions
from runbook.run.results import HostOutcome
from runbook.run.start import plan_hosts, start_run
from runbook.task import NO_ACTIVITY


def exec_playbook(cmd: str, *, change: bool, sudo: bool, timeout: float | None, why: str | None) -> Playbook:
    """The one-step playbook ``runbook exec`` runs, validated like any other."""
    params: dict[str, object] = {"cmd": cmd, "sudo": sudo}
    if change and why:
        params["why"] = why
    step: dict[str, object] = {"name": cmd[:60], "action": "command.change" if change else "command", "params": params}
    if not change:
        step["check_mode"] = "run"  # a read: it runs in --check too, and never asks
    if timeout is not None:
        step["timeout"] = timeout
    document = {"name": f"exec: {cmd[:200]}", "steps": [step]}
    return load_playbook(Path("<exec>"), text=yaml.safe_dump(document, sort_keys=False))


def print_exec_outcome(ctx: CliContext, o: HostOutcome) -> None:
    """``web1 | ok | exit 0`` and then the host's output, every line, indented."""
    style = OUTCOME_STYLE.get(o.outcome, "")
    code = o.data.get("exit_code")
    head = f"[{style}]{escape(o.host)} | {o.outcome}[/]" + (f" | exit {code}" if code is not None else "")
    if o.outcome in ("failed", "unreachable", "skipped") or o.message.startswith("would:") or code is None:
        head += f" | {escape(o.message)}"
    lines = [head]
    for stream in ("stdout", "stderr"):
        text = str(o.data.get(stream) or "").rstrip("\n")
        lines += [("  " if stream == "stdout" else "  [dim]stderr:[/] ") + escape(line) for line in text.splitlines()]
    # one print per host: hosts finish in parallel threads, and their lines must not interleave
    ctx.out.print("\n".join(lines), highlight=False, soft_wrap=True)


@app.command("exec")
def exec_command(
    command: str = typer.Argument(..., metavar="COMMAND", help="The shell command line (Jinja2 over host vars)."),
    inventory: opt.InventoryList = opt.Inventories,
    limit: Optional[str] = opt.Limit,
    extra_var: opt.StrList = opt.ExtraVars,
    change: bool = typer.Option(False, "--change", help="The command changes something: --check shows it, "
                                "applying asks first (or --yes), the journal and reports record it as a measure."),
    why: Optional[str] = typer.Option(None, "--why", help="With --change: what it does, in words for the report."),
    sudo: bool = typer.Option(False, "--sudo", "-b", help="Run it as root (sudo)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=0.1, help="Seconds per host (default: the "
                                            "inventory's command_timeout)."),
    forks: int = opt.Forks,
    check: bool = opt.Check,
    yes: bool = opt.Yes,
    accept_new_host_keys: bool = opt.AcceptNew,
    ask_sudo_pass: bool = opt.AskSudo,
    connect_timeout: Optional[float] = opt.ConnectTimeout,
    incident: Optional[str] = opt.Incident,
    as_json: bool = opt.Json,
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Run one command on many hosts, with a playbook's connections, limits and journal.

    Read-only by default (recorded as a read); --change makes it a confirmed, journaled change."""
    if why and not change:
        raise UsageError("describes a change: it needs --change", option="--why")
    if not command.strip():
        raise UsageError("the command is empty", option="COMMAND")
    require_open_files(forks)
    ctx = CliContext.create(reports_dir, runs_dir)
    inv = load_inventory(inventory, parse_extra_vars(extra_var or []), contracts=False)
    book = exec_playbook(command, change=change, sudo=sudo, timeout=timeout, why=why)
    hosts = one_customer(ctx, inv, plan_hosts(inv, book, limit), incident=incident, limit=limit, playbook=book,
                         check=check, yes=yes)
    options = RunOptions(check=check, assume_yes=yes, forks=forks,
                         connect=ConnectOptions(accept_new_host_keys, sudo_password(ask_sudo_pass), connect_timeout))
    with live_hosts(ctx.out, enabled=not as_json) as live:  # on stdout, where the hosts' output goes
        engine = start_run(inv, hosts, book, ctx.paths, options, kind="exec", incident=incident,
                           confirm=confirm_step(ctx, live.paused if live else None), activity=live or NO_ACTIVITY,
                           on_outcome=None if as_json else (lambda o: print_exec_outcome(ctx, o)))
        with stop_on_signals(engine, ctx):
            result = engine.run()
    if as_json:
        print(json.dumps({"run_id": result.run_id, "status": result.status, "counts": result.counts(),
                          "journal": str(engine.journal.path),
                          "results": [{"host": o.host, "outcome": o.outcome, "message": o.message,
                                       "exit_code": o.data.get("exit_code"), "stdout": o.data.get("stdout"),
                                       "stderr": o.data.get("stderr"), "changes": list(o.changes), "error": o.error}
                                      for o in result.outcomes]}, default=str, indent=2))
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items() if v)
        ctx.err.print(f"{counts or 'nothing ran'} -- journal: {engine.journal.path}", highlight=False, markup=False)
    return for_run(result.status, result.counts())


@app.command("shell")
def shell(
    host: str = typer.Argument(..., help="The host (its inventory name).", autocompletion=complete_host),
    inventory: opt.InventoryList = opt.Inventories,
    accept_new_host_keys: bool = opt.AcceptNew,
    connect_timeout: Optional[float] = opt.ConnectTimeout,
    incident: Optional[str] = opt.Incident,
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """An interactive SSH session on one host, with the inventory's connection settings.

    The jump hosts, key, user and strict host keys of the inventory; the journal records that
    the session was opened and closed (kind "shell"). Exits with the remote shell's status."""
    from runbook.run.session import interactive_shell

    ctx = CliContext.create(reports_dir, runs_dir)
    inv = load_inventory(inventory, contracts=False)
    if host not in inv.hosts:
        raise ConfigError(f"no host {host!r} in the inventory", file=", ".join(str(f) for f in inv.files))
    options = ConnectOptions(accept_new_host_keys, None, connect_timeout)
    try:
        status, journal = interactive_shell(inv, inv.hosts[host], ctx.paths, options, incident=incident,
                                            notice=lambda text: ctx.err.print(text, highlight=False, markup=False))
    except ConnectError as exc:
        ctx.err.print(f"runbook: {exc}", highlight=False, markup=False)
        return ExitCode.UNREACHABLE
    ctx.err.print(f"shell on {host} closed (exit {status}) -- journal: {journal}", highlight=False, markup=False,
                  soft_wrap=True)
    return status
