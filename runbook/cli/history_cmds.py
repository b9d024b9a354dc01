"""`runbook history` and `runbook forecast`: what the sweeps found over time, and where it leads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from runbook.units import parse_duration
from runbook.cli import app
from runbook.cli import options as opt
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.errors import UsageError
from runbook.sweeps.forecast import SOON, forecasts
from runbook.sweeps.history import iso_seconds, records, spread, status_periods, sweep_dirs
from runbook.inventory import load_inventory, select_hosts

#: sweeps a forecast reads at most, evenly spread over its window (see history.spread)
FORECAST_SWEEPS = 48


def parse_since(value: str, now: datetime, option: str = "--since") -> datetime:
    """``24h``, ``7d``, ``1d12h`` back from now, or an ISO 8601 time (UTC unless it says)."""
    try:
        return now - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{value!r} is neither a duration (24h, 7d) nor a time (2026-12-01T08:00)",
                         option=option) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=now.tzinfo)


def chosen_hosts(inventory: list[Path] | None, limit: str | None) -> set[str] | None:
    """The host names of ``-i``/``-l``; None (every host in the journals) without ``-i``."""
    if not inventory:
        if limit:
            raise UsageError("needs --inventory", option="--limit")
        return None
    inv = load_inventory(inventory, contracts=False)
    return {h.name for h in select_hosts(inv, limit)}


@app.command()
def history(
    inventory: opt.OptInventoryList = opt.OptInventories,
    limit: Optional[str] = opt.Limit,
    since: str = typer.Option("24h", "--since", help="How far back: 24h, 7d, or a time (2026-12-01T08:00Z)."),
    check: Optional[str] = typer.Option(None, "--check", help="Only checks whose name starts so (disk:/var)."),
    as_json: bool = opt.Json,
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Per host and check, its status over time from the sweep journals, newest first."""
    ctx = CliContext.create(reports_dir, runs_dir)
    start = parse_since(since, ctx.clock())
    hosts = chosen_hosts(inventory, limit)
    periods = [p for p in status_periods(records(sweep_dirs(ctx.paths.runs, since=start), hosts))
               if check is None or p.check.startswith(check)]
    if as_json:
        print(json.dumps({"since": iso_seconds(start), "periods": [p.to_json() for p in periods]},
                         indent=2, ensure_ascii=False))
        return ExitCode.OK
    if not periods:
        ctx.out.print(f"no sweep since {iso_seconds(start)} in {escape(str(ctx.paths.runs))}", highlight=False)
        return ExitCode.OK
    table = Table(caption="times UTC, newest first")
    for column in ("host", "check", "status", "from", "to", "sweeps", "newest"):
        table.add_column(column, overflow="fold")
    for p in periods:
        table.add_row(escape(p.host), escape(p.check), p.status, f"{p.first_seen:%Y-%m-%d %H:%M}",
                      f"{p.last_seen:%Y-%m-%d %H:%M}", str(p.sweeps), escape(p.message))
    ctx.out.print(table)
    return ExitCode.OK


@app.command()
def forecast(
    inventory: opt.OptInventoryList = opt.OptInventories,
    limit: Optional[str] = opt.Limit,
    days: float = typer.Option(3.0, "--days", min=0.25, help="Sweeps of the last DAYS days make the trend."),
    as_json: bool = opt.Json,
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Per host and mount: growth of used space and inodes, and when it reaches crit and 100 %."""
    ctx = CliContext.create(reports_dir, runs_dir)
    now = ctx.clock()
    found = forecasts(records(spread(sweep_dirs(ctx.paths.runs, since=now - timedelta(days=days)), FORECAST_SWEEPS),
                              chosen_hosts(inventory, limit)))
    if as_json:
        print(json.dumps({"now": iso_seconds(now), "days": days, "forecasts": [f.to_json(now) for f in found]},
                         indent=2, ensure_ascii=False))
        return ExitCode.OK
    if not found:
        ctx.out.print(f"no trend yet: a forecast needs 3 sweeps over 6 hours within the last {days:g} days",
                      highlight=False)
        return ExitCode.OK
    for f in found:
        style = "bold red" if f.due_within(SOON, now) else ""
        line = escape(f.sentence(now))
        ctx.out.print(f"[{style}]{line}[/]" if style else line, highlight=False)
    return ExitCode.OK
