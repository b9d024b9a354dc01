"""`runbook runs list|show`: what earlier runs did, from their journals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from runbook.cli import app, options as opt
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.journal import find_run, iter_runs, read_events, summarise

runs_app = typer.Typer(help="Earlier runs, from their journals.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def list_runs(as_json: bool = opt.Json, reports_dir: Optional[Path] = opt.ReportsDir,
              runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """All runs, oldest first."""
    ctx = CliContext.create(reports_dir, runs_dir)
    runs = [summarise(p) for p in iter_runs(ctx.paths.runs)]
    if as_json:
        print(json.dumps([{**r.__dict__, "path": str(r.path)} for r in runs], indent=2))
        return ExitCode.OK
    table = Table()
    for col in ("run", "kind", "started", "status", "playbook", "incident", "hosts", "outcomes"):
        table.add_column(col)
    for r in runs:
        table.add_row(r.run_id, r.kind, r.started, r.status, r.playbook, r.incident or "", str(r.hosts),
                      ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())))
    ctx.out.print(table)
    return ExitCode.OK


@runs_app.command("show")
def show_run(run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."), as_json: bool = opt.Json,
             reports_dir: Optional[Path] = opt.ReportsDir, runs_dir: Optional[Path] = opt.RunsDir) -> int:
    """One run: every host result per step (and, with --json, every event)."""
    ctx = CliContext.create(reports_dir, runs_dir)
    run_dir = find_run(ctx.paths.runs, run_id)
    events = read_events(run_dir / "journal.jsonl")
    if as_json:
        print(json.dumps(events, indent=2, ensure_ascii=False))
        return ExitCode.OK
    summary = summarise(run_dir)
    ctx.out.print(f"[bold]{summary.run_id}[/] {summary.kind} {summary.playbook!r} {summary.status} "
                  f"started {summary.started}", highlight=False)
    table = Table()
    for col in ("step", "host", "outcome", "message"):
        table.add_column(col, overflow="fold")
    names = {e["step"]: e["name"] for e in events if e["event"] == "step.start"}
    for e in events:
        if e["event"] == "host.end":
            table.add_row(names.get(e["step"], str(e["step"])), e["host"], e["outcome"], e["message"])
    ctx.out.print(table)
    return ExitCode.OK
