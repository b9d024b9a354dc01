"""Terminal rendering of run outcomes (rich). NO_COLOR and non-TTY output are respected by rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runbook.run.results import HostOutcome, RunResult

OUTCOME_STYLE = {"ok": "green", "changed": "yellow", "skipped": "dim", "failed": "bold red",
                 "unreachable": "bold magenta"}


def outcome_line(o: HostOutcome) -> str:
    style = OUTCOME_STYLE.get(o.outcome, "")
    return f"[{style}]{o.outcome:<11}[/] {escape(o.host):<16} {escape(o.step_name)}: {escape(o.message)}"


def print_outcome(console: Console, o: HostOutcome) -> None:
    console.print(outcome_line(o), highlight=False, markup=True, overflow="fold")


def print_summary(console: Console, result: RunResult, run_dir: str) -> None:
    table = Table(title=f"run {result.run_id}: {result.status}", title_justify="left")
    table.add_column("host")
    table.add_column("step")
    table.add_column("outcome")
    table.add_column("message", overflow="fold")
    for o in result.outcomes:
        style = OUTCOME_STYLE.get(o.outcome, "")
        table.add_row(escape(o.host), escape(o.step_name), f"[{style}]{o.outcome}[/]", escape(o.message))
    console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts().items() if v)
    console.print(escape(f"{counts or 'nothing ran'} -- journal: {run_dir}/journal.jsonl"), highlight=False)


def warn_damaged(err: Console, damaged: list[str], shown: int = 10) -> None:
    """Name the damaged journal lines that were skipped (the first few, then how many more)."""
    for where in damaged[:shown]:
        err.print(f"runbook: warning: {escape(where)}", highlight=False)
    if len(damaged) > shown:
        err.print(f"runbook: warning: {len(damaged) - shown} more damaged journal line(s) skipped",
                      highlight=False)
