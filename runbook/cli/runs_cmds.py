"""`runbook runs list|show`: what earlier runs did, from their journals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from runbook.cli import app, options as opt
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.cli.completion import complete_incident, complete_run_id
from runbook.cli.render import warn_damaged
from runbook.errors import RunbookError
from runbook.journal import read_events, summarise
from runbook.run_index import KINDS, find_runs, runs_with_prefix
from runbook.units import parse_duration

runs_app = typer.Typer(help="Earlier runs, from their journals.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def list_runs(
    customer: Optional[str] = typer.Option(None, "--customer", help="Only runs over this customer's hosts (slug)."),
    incident: Optional[str] = typer.Option(None, "--incident", autocompletion=complete_incident,
                                           help="Only runs of this incident."),
    since: Optional[str] = typer.Option(None, "--since", help="Only runs started since: 24h, 2d, or a date/time."),
    kind: Optional[str] = typer.Option(None, "--kind", help=f"Only one kind: {' | '.join(KINDS)}."),
    last: int = typer.Option(50, "--last", "-n", min=0, help="The newest N runs (0: all)."),
    as_json: bool = opt.Json, reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Earlier runs, newest first, in local time."""
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(KINDS)}", param_hint="--kind")
    ctx = CliContext.create(reports_dir, runs_dir)
    found = find_runs(ctx.paths.runs, kind=kind, customer=customer, incident=incident,
                      since=_since(since, ctx.clock()) if since else None)
    shown = found[:last] if last else found
    damaged: list[str] = []
    runs = [summarise(r.path, damaged) for r in shown]
    warn_damaged(ctx.err, damaged)
    if as_json:
        print(json.dumps([{**r.__dict__, "path": str(r.path), "customers": list(s.customers)}
                          for r, s in zip(runs, shown)], indent=2))
        return ExitCode.OK
    table = Table()
    for col in ("run", "kind", f"started ({_zone()})", "status", "playbook", "customer", "incident", "hosts",
                "outcomes"):
        table.add_column(col)
    for r, s in zip(runs, shown):
        table.add_row(*(Text(str(value)) for value in (  # from journals: shown as text, never as markup
            r.run_id, r.kind, local_time(s.started), r.status, r.playbook, ",".join(s.customers), r.incident or "",
            r.hosts, ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())))))
    ctx.out.print(table)
    if len(shown) < len(found):
        ctx.out.print(f"the newest {len(shown)} of {len(found)} runs; --last 0 shows all", highlight=False)
    elif not found:
        ctx.out.print(f"no runs in {ctx.paths.runs}" + (" match" if customer or incident or since or kind else ""),
                      highlight=False, markup=False)
    return ExitCode.OK


def local_time(when: datetime | None) -> str:
    """A run's time as the engineer's clock shows it."""
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S") if when is not None else "?"


def _zone() -> str:
    return datetime.now().astimezone().strftime("%Z")


def _since(value: str, now: datetime) -> datetime:
    """``--since``: a duration back from now (24h, 2d), or a date or time (local unless it says)."""
    try:
        return now - timedelta(seconds=parse_duration(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("not a duration (24h, 2d) or a date/time (2026-11-25, 2026-11-25T02:00)",
                                 param_hint="--since") from None
    return when if when.tzinfo is not None else when.astimezone()


@runs_app.command("show")
def show_run(run_id: str = typer.Argument(..., help="Run id (or a unique prefix).", autocompletion=complete_run_id),
             as_json: bool = opt.Json, reports_dir: Optional[Path] = opt.ReportsDir,
             runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """One run: every host result per step (and, with --json, every event)."""
    ctx = CliContext.create(reports_dir, runs_dir)
    matches = runs_with_prefix(ctx.paths.runs, run_id)
    if not matches:
        raise RunbookError(f"no run matches {run_id!r} in {ctx.paths.runs}")
    if len(matches) > 1:
        ctx.err.print(f"runbook: {len(matches)} runs match {run_id!r}; give more of the id:", highlight=False,
                      markup=False)
        for m in matches:
            ctx.err.print(f"  {m.run_id}  {m.kind:<5}  {local_time(m.started)}  {m.playbook}"
                          + (f"  incident {m.incident}" if m.incident else ""), highlight=False, markup=False)
        return ExitCode.USAGE
    run_dir = matches[0].path
    damaged: list[str] = []
    events = read_events(run_dir / "journal.jsonl", damaged)
    warn_damaged(ctx.err, damaged)
    if as_json:
        print(json.dumps(events, indent=2, ensure_ascii=False))
        return ExitCode.OK
    summary = summarise(run_dir)
    ctx.out.print(f"[bold]{escape(summary.run_id)}[/] {escape(summary.kind)} {escape(repr(summary.playbook))} "
                  f"{escape(summary.status)} started {local_time(matches[0].started)}", highlight=False)
    table = Table()
    for col in ("step", "host", "outcome", "message"):
        table.add_column(col, overflow="fold")
    names = {e.get("step"): e["name"] for e in events if e["event"] == "step.start"}
    for e in events:
        if e["event"] == "host.end":
            table.add_row(*(Text(str(value)) for value in (
                names.get(e.get("step"), e.get("step")), e["host"], e["outcome"], e.get("message", ""))))
    ctx.out.print(table)
    return ExitCode.OK


@runs_app.command("prune")
def prune_runs(
    older_than: str = typer.Option(..., "--older-than", help="Remove runs started longer ago than this (30d)."),
    keep_incidents: bool = typer.Option(False, "--keep-incidents", help="Keep the runs of every incident."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would go and how much; remove nothing."),
    yes: bool = opt.Yes,
    as_json: bool = opt.Json,
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """Remove old run journals and archives; never those of an open incident or of the last 2 days."""
    from runbook.units import format_bytes
    from runbook.sweeps.prune import MIN_AGE, apply_prune, plan_prune

    try:
        age = timedelta(seconds=parse_duration(older_than))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from None
    if age < MIN_AGE:
        raise typer.BadParameter("runs of the last 2 days make the next-day and daily reports: use 2d or more",
                                 param_hint="--older-than")
    ctx = CliContext.create(reports_dir, runs_dir)
    now = ctx.clock()
    open_ids, all_ids = incident_ids(ctx.paths.reports, now)
    plan = plan_prune(ctx.paths.runs, older_than=age, now=now, open_incidents=open_ids, all_incidents=all_ids,
                      keep_incidents=keep_incidents)
    counts = ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(plan.counts().items()))
    summary = (f"{len(plan.remove)} run(s) started before {plan.cutoff:%Y-%m-%d %H:%M} UTC, "
               f"{format_bytes(plan.bytes)}" + (f" ({counts})" if counts else ""))
    removed = 0
    if plan.remove and not dry_run:
        if not yes and not ctx.interactive:
            ctx.err.print("not a terminal: nothing removed; run with --yes to remove", highlight=False)
        elif yes or ctx.err.input(f"Remove {summary}? [y/N] ").strip().lower() in ("y", "yes", "j", "ja"):
            removed = apply_prune(plan, ctx.paths.runs)
    if as_json:
        print(json.dumps({"cutoff": plan.cutoff.isoformat(), "dry_run": dry_run, "removed": removed,
                          "would_remove": [r.run_id for r in plan.remove], "bytes": plan.bytes,
                          "kept": [{"run_id": r.run_id, "reason": why} for r, why in plan.kept]}, indent=2))
        return ExitCode.OK
    verb = "removed" if removed else "would remove"
    ctx.out.print(f"{verb} {summary}", highlight=False)
    for run, why in plan.kept:
        ctx.out.print(f"kept {run.run_id} ({run.kind}): {why}", highlight=False)
    return ExitCode.OK


def incident_ids(reports: Path, now: datetime) -> tuple[set[str], set[str]]:
    """The ids of open incidents (next-day report due today or later) and of all incidents."""
    from runbook.incidents import IncidentStore, report_due

    incidents = IncidentStore(reports).list()
    open_ids = {i.id for i in incidents if report_due(i) >= now.astimezone(i.contract.timezone).date()}
    return open_ids, {i.id for i in incidents}
