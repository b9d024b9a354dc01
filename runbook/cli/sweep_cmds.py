"""`runbook sweep`: the read-only health check of every host, for people and for monitoring."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from runbook.cli import app
from runbook.cli import options as opt
from runbook.cli.context import CliContext, one_customer, stop_on_signals
from runbook.cli.exitcodes import ExitCode
from runbook.cli.terminal import escape, one_line
from runbook.connection import ConnectOptions
from runbook.errors import UsageError
from runbook.health import Status
from runbook.health.monitoring import to_json, to_nagios
from runbook.health.verdict import Sweep, load_sweep
from runbook.hostvars import HostVars
from runbook.inventory import Inventory, load_inventory, parse_extra_vars
from runbook.limits import require_open_files
from runbook.paths import Paths
from runbook.playbook import load_playbook
from runbook.run.options import RunOptions
from runbook.run.results import HostOutcome
from runbook.run.start import plan_hosts, start_run
from runbook.shipped import shipped

#: the sweeps of these last days make the forecasts shown below the table
FORECAST_WINDOW = timedelta(days=3)
if TYPE_CHECKING:
    from runbook.sweeps.alert_mail import AlertTarget  # imported for real only with --alert

STATUS_STYLE = {Status.OK: "green", Status.WARNING: "yellow", Status.CRITICAL: "bold red",
                Status.UNKNOWN: "magenta"}


@app.command()
def sweep(
    inventory: opt.OptInventoryList = typer.Option(
        None, "-i", "--inventory", envvar="RUNBOOK_INVENTORY",
        help="Inventory file or directory (default: RUNBOOK_INVENTORY, config, else this machine over the local connection)."),
    limit: Optional[str] = opt.Limit,
    extra_var: opt.StrList = opt.ExtraVars,
    forks: int = typer.Option(50, "--forks", "-f", min=1, max=500, envvar="RUNBOOK_SWEEP_FORKS",
                              help="Hosts checked in parallel (RUNBOOK_SWEEP_FORKS, config: sweep_forks)."),
    as_json: bool = opt.Json,
    nagios: bool = typer.Option(False, "--nagios", help="One monitoring-plugins line with perfdata."),
    accept_new_host_keys: bool = opt.AcceptNew,
    connect_timeout: Optional[float] = opt.ConnectTimeout,
    incident: Optional[str] = opt.Incident,
    alert: bool = typer.Option(False, "--alert", help="Mail what changed since the last alerting sweep "
                               "(contacts.on_call) and tell the provider about network outages; for cron."),
    alert_to: opt.StrList = typer.Option(None, "--alert-to", help="Send alerts here instead (repeatable)."),
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Check every host: reachability, disk, inodes, memory, swap, load. Exit 0/1/2/3 = OK/WARNING/CRITICAL/UNKNOWN."""
    if as_json and nagios:
        raise UsageError("choose one: --json for programs, --nagios for a monitoring plugin", option="--json/--nagios")
    require_open_files(forks)
    ctx = CliContext.create(reports_dir, runs_dir)
    inv = load_inventory(inventory or [shipped("inventory/local.yml")], parse_extra_vars(extra_var or []),
                         contracts=False)
    book = load_playbook(shipped("playbooks/health-check.yml"))
    # plan_hosts reads every host's threshold vars: a bad one stops the sweep before any host is
    # contacted (exit 78), rather than a per-host UNKNOWN that another host's CRITICAL hides in cron.
    hosts = one_customer(ctx, inv, plan_hosts(inv, book, limit), incident=incident, limit=limit)
    if alert_to and not alert:
        raise UsageError("needs --alert", option="--alert-to")
    targets: Mapping[str, AlertTarget] = {}
    if alert:
        from runbook.sweeps.alert_mail import alert_targets  # mail and SLA code only for --alert
        targets = alert_targets(inv, hosts, state_dir(ctx.paths), alert_to or [], os.environ)
    options = RunOptions(forks=forks, connect=ConnectOptions(accept_new_host_keys, None, connect_timeout))
    progress = _progress(ctx, len(hosts), quiet=as_json or nagios)
    task_id = progress.add_task("", total=len(hosts)) if progress else None

    def advance(o: HostOutcome) -> None:
        if progress is not None:
            progress.update(task_id, advance=1, description=o.host)

    engine = start_run(inv, hosts, book, ctx.paths, options, kind="sweep", incident=incident, on_outcome=advance)
    with progress or nullcontext(), stop_on_signals(engine, ctx):
        # Only the status is kept: every host's result is in the journal, which load_sweep
        # reads back. Holding both at once doubled the peak memory of a 5,000-host sweep.
        run_status = engine.run().status
    result_sweep = load_sweep(engine.journal.run_dir)
    if as_json:
        json.dump(to_json(result_sweep), sys.stdout, indent=2, ensure_ascii=False)  # in pieces, not one string
        print()
    elif nagios:
        print(to_nagios(result_sweep))
    else:
        print_sweep(ctx, result_sweep)
        print_forecasts(ctx, {h.name for h in hosts})
    if engine.journal.failure is not None:  # the verdict above stands; the record is incomplete
        if nagios:  # a monitoring plugin's second line is its long output; its exit is the verdict's
            print(f"runbook: {one_line(str(engine.journal.failure))}")
        else:
            ctx.err.print(f"runbook: error: {escape(str(engine.journal.failure))}", highlight=False)
    if run_status == "interrupted":
        return ExitCode.INTERRUPTED  # an unfinished sweep changes no alert state
    if targets:
        send_alerts(ctx, inv, result_sweep, targets, engine.journal.path, quiet=as_json or nagios)
    if engine.journal.failure is not None and not nagios:
        return ExitCode.CANTCREAT
    return ExitCode(int(result_sweep.status))


def send_alerts(ctx: CliContext, inv: Inventory, done: Sweep, targets: Mapping[str, AlertTarget], journal: Path,
                *, quiet: bool) -> None:
    """Alert on what changed; then the provider notice for new network outages."""
    from runbook.sweeps.alert_mail import alert_after_sweep, network_outages
    from runbook.sweeps.alerts import AlertPolicy

    policies = {h.name: AlertPolicy.from_vars(HostVars.of(inv.hosts[h.name])) for h in done.hosts}
    delivered = alert_after_sweep(done, targets, policies, ctx.clock(), journal=journal)
    for item in delivered:
        if item.error is not None:
            ctx.err.print(f"runbook: alert not sent ({escape(item.alert.host)} {escape(item.alert.check)} "
                          f"{item.alert.status}): "
                          f"{escape(item.error)}", highlight=False)
    if delivered and not quiet:
        sent = sum(1 for d in delivered if d.error is None)
        ctx.out.print(f"alerts: {sent} sent, {len(delivered) - sent} not sent", highlight=False)
    down = network_outages(done, [d for d in delivered if d.error is None])
    if down:
        book = load_playbook(shipped("playbooks/provider-notice.yml"))
        engine = start_run(inv, [inv.hosts[n] for n in down], book, ctx.paths, RunOptions(assume_yes=True),
                           kind="run")
        with stop_on_signals(engine, ctx):
            engine.run()


def state_dir(paths: Paths) -> Path:
    """``<reports>/state/alerts``: beside the journals (with a separate --runs-dir, its parent)."""
    return paths.runs.parent / "state" / "alerts"


def print_forecasts(ctx: CliContext, hosts: set[str]) -> None:
    """Below the table: mounts that reach crit or 100 % within 7 days, by the last days' sweeps."""
    from runbook.cli.history_cmds import FORECAST_SWEEPS
    from runbook.sweeps.forecast import SOON, forecasts
    from runbook.sweeps.history import records, spread, sweep_dirs

    now = ctx.clock()
    recent = spread(sweep_dirs(ctx.paths.runs, since=now - FORECAST_WINDOW), FORECAST_SWEEPS)
    for f in forecasts(records(recent, hosts)):
        if f.due_within(SOON, now):
            ctx.out.print(f"[yellow]forecast[/] {escape(f.sentence(now))}", highlight=False)


def _progress(ctx: CliContext, total: int, *, quiet: bool) -> Any:
    """A live progress bar on a terminal; None otherwise (cron, pipes, --json: not even imported)."""
    if quiet or not ctx.err.is_terminal:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    return Progress(TextColumn("sweeping"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), console=ctx.err, transient=True)


def print_sweep(ctx: CliContext, s: Sweep) -> None:
    """Hosts with problems in a table, OK hosts as one quiet line each, then the verdict."""
    from rich.table import Table
    from rich.text import Text

    for h in s.hosts:
        if h.status == Status.OK:
            ctx.out.print(f"[green]OK[/]       {escape(f'{h.name:<16}')} [dim]{escape(','.join(h.roles))}[/dim]  "
                          f"{escape(_ok_summary(h.checks))}",
                          highlight=False)
    bad = [h for h in s.hosts if h.status != Status.OK]
    if bad:
        table = Table(show_lines=False)
        table.add_column("host")
        table.add_column("roles")
        table.add_column("status")
        table.add_column("what is not OK", overflow="fold")
        for h in bad:
            style = STATUS_STYLE[h.status]
            table.add_row(Text(h.name), Text(",".join(h.roles)), f"[{style}]{h.status.name}[/]",
                          "\n".join(f"[{STATUS_STYLE[Status[c['status']]]}]{c['status']}[/] {escape(c['message'])}"
                                    for c in h.problems) or escape(h.message))
        ctx.out.print(table)
    style = STATUS_STYLE[s.status]
    ctx.out.print(f"[{style}]{s.status.name}[/]: {len(s.hosts)} host(s), "
                  f"{sum(1 for h in s.hosts if h.status == Status.OK)} OK -- run {s.run_id}", highlight=False)


def _ok_summary(checks: tuple[dict, ...]) -> str:
    parts = []
    for c in checks:
        if c["name"].startswith("disk:") and c.get("value") is not None:
            parts.append(f"{c['name'][5:]} {c['value']:.0f}%")
        elif c["name"] == "memory" and c.get("value") is not None:
            parts.append(f"mem {c['value']:.0f}% avail")
        elif c["name"] == "load" and c.get("value") is not None:
            parts.append(f"load {c['value']:.2f}/cpu")
    return ", ".join(parts)
