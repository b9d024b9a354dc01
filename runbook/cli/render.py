"""Terminal rendering of run outcomes (rich). NO_COLOR and non-TTY output are respected by rich."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from runbook.run.results import HostOutcome, RunResult
from runbook.units import shorten

OUTCOME_STYLE = {"ok": "green", "changed": "yellow", "skipped": "dim", "failed": "bold red",
                 "unreachable": "bold magenta"}


def outcome_line(o: HostOutcome) -> str:
    style = OUTCOME_STYLE.get(o.outcome, "")
    return f"[{style}]{o.outcome:<11}[/] {escape(o.host):<16} {escape(o.step_name)}: {escape(o.message)}"


def print_outcome(console: Console, o: HostOutcome) -> None:
    console.print(outcome_line(o), highlight=False, markup=True, overflow="fold")


def cell_width(console: Console, *others: int) -> int | None:
    """How wide the last column of a table may be so the table fits the terminal (``others``:
    the other columns' widths); None when the output is no terminal (nothing is shortened)."""
    if not console.is_terminal:
        return None
    borders = 3 * (len(others) + 1) + 1
    return max(console.width - sum(others) - borders, 20)


def print_summary(console: Console, result: RunResult, run_dir: str) -> None:
    table = Table(title=f"run {result.run_id}: {result.status}", title_justify="left")
    table.add_column("host")
    table.add_column("step")
    table.add_column("outcome")
    table.add_column("message", no_wrap=True)
    fit = cell_width(console, max((len(o.host) for o in result.outcomes), default=4),
                     max((len(o.step_name) for o in result.outcomes), default=4), 11)
    for o in result.outcomes:
        style = OUTCOME_STYLE.get(o.outcome, "")
        message = shorten(" ".join(o.message.split()), fit) if fit else o.message
        table.add_row(escape(o.host), escape(o.step_name), f"[{style}]{o.outcome}[/]", escape(message))
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
