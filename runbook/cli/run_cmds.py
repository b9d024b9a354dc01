"""`runbook run`, `runbook check`, `runbook actions`."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from runbook.actions import ACTIONS
from runbook.actions.user import load_local_actions
from runbook.actions.params import describe
from runbook.cli import app, options as opt
from runbook.cli.context import CliContext, confirm_step, env_sudo_password, one_customer, stop_on_signals
from runbook.cli.exitcodes import ExitCode, for_run
from runbook.cli.progress import live_hosts
from runbook.cli.render import print_outcome, print_summary
from runbook.cli.terminal import printable
from runbook.connection import ConnectOptions
from runbook.limits import require_open_files
from runbook.inventory import Host, load_inventory, parse_extra_vars
from runbook.cli.completion import complete_playbook
from runbook.playbook import Playbook, load_playbook
from runbook.playbook.hostvars import misspelt_vars, vars_read_by
from runbook.shipped import find_playbook
from runbook.run.options import RunOptions
from runbook.run.start import plan_hosts, start_run
from runbook.task import NO_ACTIVITY


def sudo_password(ask: bool) -> str | None:
    if ask:
        return getpass.getpass("sudo password (used for every host, never stored): ")
    return env_sudo_password()


PlaybookArg = typer.Argument(..., metavar="PLAYBOOK", autocompletion=complete_playbook,
                             help="A playbook file, or the name of a local or shipped one (`runbook playbooks`).")


def find_and_load(ctx: CliContext, name: str, inventories: Sequence[Path]) -> Playbook:
    """The playbook ``name`` finds (a local file wins over a shipped one), said on stderr; the
    actions/ beside the inventories are registered first, so its steps may use them."""
    load_local_actions(ACTIONS, inventories)
    found = find_playbook(name, inventories)
    if found.origin != "file":
        ctx.err.print(found.describe(), highlight=False, markup=False)
    return load_playbook(found.path)


@app.command()
def run(
    playbook: str = PlaybookArg,
    inventory: opt.InventoryList = opt.Inventories,
    limit: Optional[str] = opt.Limit,
    extra_var: opt.StrList = opt.ExtraVars,
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
    """Run a playbook over the inventory's hosts; every event goes to the run journal."""
    require_open_files(forks)
    ctx = CliContext.create(reports_dir, runs_dir)
    inv = load_inventory(inventory, parse_extra_vars(extra_var or []), contracts=False)
    book = find_and_load(ctx, playbook, inventory)
    hosts = plan_hosts(inv, book, limit)
    warn_misspelt(hosts)
    hosts = one_customer(ctx, inv, hosts, incident=incident, limit=limit, playbook=book, check=check, yes=yes)
    options = RunOptions(check=check, assume_yes=yes, forks=forks,
                         connect=ConnectOptions(accept_new_host_keys, sudo_password(ask_sudo_pass), connect_timeout))
    with live_hosts(ctx.err, enabled=not as_json) as live:
        engine = start_run(inv, hosts, book, ctx.paths, options, incident=incident,
                           confirm=confirm_step(ctx, live.paused if live else None), activity=live or NO_ACTIVITY,
                           on_outcome=None if as_json else (lambda o: print_outcome(ctx.err, o)))
        if incident and engine.incident is None:
            ctx.err.print(f"[yellow]note:[/] incident {escape(incident)} is not open under "
                          f"{escape(str(ctx.paths.reports))}: templates see `incident` as empty (none)", highlight=False)
        with stop_on_signals(engine, ctx):
            result = engine.run()
    if as_json:
        ctx.out.print_json(json.dumps({
            "run_id": result.run_id, "status": result.status, "counts": result.counts(),
            "journal": str(engine.journal.path),
            "results": [{"host": o.host, "step": o.step, "step_name": o.step_name, "outcome": o.outcome,
                         "message": o.message, "changes": list(o.changes), "data": dict(o.data),
                         "error": o.error} for o in result.outcomes]}, default=str))
    else:
        print_summary(ctx.out, result, str(engine.journal.run_dir))
    if engine.journal.failure is not None:  # after the verdict: it is not lost with the journal
        ctx.err.print(f"runbook: error: {escape(str(engine.journal.failure))}", highlight=False)
    local_failure = engine.journal.failure is not None or any(
        (o.error or {}).get("type") == "LocalWriteError" for o in result.outcomes)
    return for_run(result.status, result.counts(), local_failure=local_failure)


@app.command()
def check(
    playbook: str = PlaybookArg,
    inventory: opt.OptInventoryList = opt.OptInventories,
    limit: Optional[str] = opt.Limit,
    extra_var: opt.StrList = opt.ExtraVars,
) -> int:
    """Validate a playbook (with -i: its templates and host vars, for every targeted host).

    Every host var the playbook's actions read is read, and var names close to one runbook
    reads are warned about. Contacts no host."""
    book = find_and_load(CliContext.create(), playbook, inventory or [])
    where = ""
    if inventory:
        inv = load_inventory(inventory, parse_extra_vars(extra_var or []))
        hosts = plan_hosts(inv, book, limit)
        warn_misspelt(hosts)
        where = f" for {len(hosts)} host(s), {len(vars_read_by(book))} host var(s) read"
    print(printable(f"{book.file}: OK: {book.name!r}, {len(book.steps)} step(s){where}"))
    return ExitCode.OK


def _paired(names: Sequence[str]) -> list[str]:
    """``disk_warn, disk_crit`` as ``disk_warn/crit``: the threshold pairs take one line less each."""
    return [f"{n}/crit" if n.endswith("_warn") and n[:-4] + "crit" in names else n
            for n in names if not (n.endswith("_crit") and n[:-4] + "warn" in names)]


def warn_misspelt(hosts: Sequence[Host]) -> None:
    """Var names no part of runbook reads but close to one it does, on stderr; the command
    goes on (the user's own vars for templates are allowed)."""
    for found in misspelt_vars(hosts):
        print(f"runbook: warning: {found}", file=sys.stderr)


@app.command()
def actions(inventory: opt.OptInventoryList = opt.OptInventories, as_json: bool = opt.Json) -> int:
    """List every action with its one-line doc, params, the host vars it reads and its origin.

    With -i, also the actions/ directory beside the inventory; installed packages' actions
    (entry point group runbook.actions) always."""
    load_local_actions(ACTIONS, inventory or [])
    rows = [(name, cls.summary(), describe(cls.Params), cls.confirm, [v.name for v in cls.host_vars],
             ACTIONS.origin(name)) for name, cls in sorted(ACTIONS.items())]
    if as_json:
        print(json.dumps([{"action": n, "summary": s, "confirm": c, "origin": o,
                           "params": [{"name": p, "type": t, "default": d} for p, t, d in ps], "host_vars": hv}
                          for n, s, ps, c, hv, o in rows], indent=2))
        return ExitCode.OK
    ctx = CliContext.create()
    table = Table(title="actions")
    table.add_column("action", style="bold")
    table.add_column("what it does", overflow="fold")
    table.add_column("params", overflow="fold")
    table.add_column("from", overflow="fold")
    for name, summary, params, confirm, host_vars, origin in rows:
        reads = f"\n[dim]host vars: {escape(', '.join(_paired(host_vars)))}[/]" if host_vars else ""
        table.add_row(escape(name + (" (asks)" if confirm else "")), escape(summary) + reads,
                      escape("\n".join(f"{p}: {t} = {d}" for p, t, d in params)), escape(origin))
    ctx.out.print(table)
    return ExitCode.OK
