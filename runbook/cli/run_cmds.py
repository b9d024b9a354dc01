"""`runbook run`, `runbook check`, `runbook actions`."""

from __future__ import annotations

import getpass
import json
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
from runbook.cli.context import CliContext, confirm_step, env_sudo_password, stop_on_signals
from runbook.cli.exitcodes import ExitCode, for_run
from runbook.cli.progress import live_hosts
from runbook.cli.render import print_outcome, print_summary
from runbook.connection import ConnectOptions
from runbook.limits import require_open_files
from runbook.inventory import load_inventory, parse_extra_vars
from runbook.cli.completion import complete_playbook
from runbook.playbook import Playbook, load_playbook
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
    return for_run(result.status, result.counts())


@app.command()
def check(
    playbook: str = PlaybookArg,
    inventory: opt.OptInventoryList = opt.OptInventories,
    limit: Optional[str] = opt.Limit,
    extra_var: opt.StrList = opt.ExtraVars,
) -> int:
    """Validate a playbook (and, with -i, its templates for every targeted host). Contacts no host."""
    book = find_and_load(CliContext.create(), playbook, inventory or [])
    where = ""
    if inventory:
        inv = load_inventory(inventory, parse_extra_vars(extra_var or []))
        hosts = plan_hosts(inv, book, limit)
        where = f" for {len(hosts)} host(s)"
    print(f"{book.file}: OK: {book.name!r}, {len(book.steps)} step(s){where}")
    return ExitCode.OK


@app.command()
def actions(inventory: opt.OptInventoryList = opt.OptInventories, as_json: bool = opt.Json) -> int:
    """List every action with its one-line doc, params and origin.

    With -i, also the actions/ directory beside the inventory; installed packages' actions
    (entry point group runbook.actions) always."""
    load_local_actions(ACTIONS, inventory or [])
    rows = [(name, cls.summary(), describe(cls.Params), cls.confirm, ACTIONS.origin(name))
            for name, cls in sorted(ACTIONS.items())]
    if as_json:
        print(json.dumps([{"action": n, "summary": s, "confirm": c, "origin": o,
                           "params": [{"name": p, "type": t, "default": d} for p, t, d in ps]}
                          for n, s, ps, c, o in rows], indent=2))
        return ExitCode.OK
    ctx = CliContext.create()
    table = Table(title="actions")
    table.add_column("action", style="bold")
    table.add_column("what it does", overflow="fold")
    table.add_column("params", overflow="fold")
    table.add_column("from", overflow="fold")
    for name, summary, params, confirm, origin in rows:
        table.add_row(escape(name + (" (asks)" if confirm else "")), escape(summary),
                      escape("\n".join(f"{p}: {t} = {d}" for p, t, d in params)), escape(origin))
    ctx.out.print(table)
    return ExitCode.OK
