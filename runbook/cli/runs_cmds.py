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
from runbook.cli.render import warn_damaged
from runbook.journal import find_run, iter_runs, read_events, summarise

runs_app = typer.Typer(help="Earlier runs, from their journals.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def list_runs(as_json: bool = opt.Json, reports_dir: Optional[Path] = opt.ReportsDir,
              runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """All runs, oldest first."""
    ctx = CliContext.create(reports_dir, runs_dir)
    damaged: list[str] = []
    runs = [summarise(p, damaged) for p in iter_runs(ctx.paths.runs)]
    warn_damaged(ctx.err, damaged)
    if as_json:
        print(json.dumps([{**r.__dict__, "path": str(r.path)} for r in runs], indent=2))
        return ExitCode.OK
    table = Table()
    for col in ("run", "kind", "started", "status", "playbook", "incident", "hosts", "outcomes"):
        table.add_column(col)
    for r in runs:
        table.add_row(*(Text(str(value)) for value in (  # from journals: shown as text, never as markup
            r.run_id, r.kind, r.started, r.status, r.playbook, r.incident or "", r.hosts,
            ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())))))
    ctx.out.print(table)
    return ExitCode.OK


@runs_app.command("show")
def show_run(run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."), as_json: bool = opt.Json,
             reports_dir: Optional[Path] = opt.ReportsDir, runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """One run: every host result per step (and, with --json, every event)."""
    ctx = CliContext.create(reports_dir, runs_dir)
    run_dir = find_run(ctx.paths.runs, run_id)
    damaged: list[str] = []
    events = read_events(run_dir / "journal.jsonl", damaged)
    warn_damaged(ctx.err, damaged)
    if as_json:
        print(json.dumps(events, indent=2, ensure_ascii=False))
        return ExitCode.OK
    summary = summarise(run_dir)
    ctx.out.print(f"[bold]{escape(summary.run_id)}[/] {escape(summary.kind)} {escape(repr(summary.playbook))} "
                  f"{escape(summary.status)} started {escape(summary.started)}", highlight=False)
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
    from runbook.units import parse_duration
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
