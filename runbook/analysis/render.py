"""Rendering an ``Analysis`` (and a merged timeline) to a rich Console.

The one module of the package that imports rich: it runs locally only and is left out of the
remote bundle (see ``remote``). Per log set: a summary line, a per-minute sparkline of all
events and of problems, status classes and top error paths/clients for access logs, the
fingerprint table (new ones flagged) and the slowest requests or queries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Dict, List, Optional, Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .model import SEVERITIES, SEVERITY_RANK, Analysis, LogSetAnalysis, MinuteBucket, Ranked
from .timeline import TimelineEvent

_BARS = " ▁▂▃▄▅▆▇█"
_STYLE = {"emerg": "bold red", "alert": "bold red", "crit": "bold red", "error": "red",
          "warning": "yellow", "notice": "cyan", "info": "", "debug": "dim"}


def sparkline(values: Sequence[int], width: int = 60) -> str:
    """Values as a one-line bar chart, summed into at most ``width`` columns."""
    if not values:
        return ""
    group = max(1, -(-len(values) // width))
    columns = [sum(values[i:i + group]) for i in range(0, len(values), group)]
    top = max(columns) or 1
    return "".join(_BARS[0 if v == 0 else max(1, round(v * 8 / top))] for v in columns)


def _series(buckets: Sequence[MinuteBucket], step: int, keys: Sequence[str]) -> List[int]:
    """Counts of ``keys`` per bucket, with empty buckets filled in as zeros."""
    if not buckets:
        return []
    by_start = {b.start: sum(b.counts.get(k, 0) for k in keys) for b in buckets}
    start, end = buckets[0].start, buckets[-1].start
    values = []
    moment = start
    while moment <= end:
        values.append(by_start.get(moment, 0))
        moment += timedelta(seconds=step)
    return values


def _when(moment: Optional[datetime]) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _ranked_table(title: str, rows: Sequence[Ranked]) -> Table:
    table = Table(title=title, show_edge=False, title_justify="left")
    table.add_column("count", justify="right")
    table.add_column("key", overflow="fold")
    for row in rows:
        table.add_row(str(row.count), Text(row.key))  # paths and clients from the log: text, not markup
    return table


def _render_set(log: LogSetAnalysis, console: Console) -> None:
    console.rule("[bold]%s[/] (%s)" % (escape(log.name), escape(log.format)))
    severities = ", ".join("[%s]%s %d[/]" % (_STYLE[s] or "default", s, log.severity_counts[s])
                           for s in SEVERITIES if s in log.severity_counts)
    console.print("%d lines, %d garbage, %d events in window; %s -> %s (UTC)" % (
        log.lines, log.garbage, log.events, _when(log.first_event), _when(log.last_event)))
    console.print("severities: " + (severities or "-"))
    problems = [s for s in SEVERITIES if SEVERITY_RANK[s] <= SEVERITY_RANK["warning"]]
    if log.per_minute:
        label = "per %d min" % (log.bucket_seconds // 60)
        console.print(Text("all      %s  %s" % (
            sparkline(_series(log.per_minute, log.bucket_seconds, SEVERITIES)), label)))
        console.print(Text("problems %s" % sparkline(
            _series(log.per_minute, log.bucket_seconds, problems))), style="red")
    if log.access is not None:
        acc = log.access
        console.print("requests %d, 5xx rate %.2f%%, classes: %s" % (
            acc.requests, 100 * acc.rate_5xx,
            ", ".join("%s %d" % kv for kv in sorted(acc.status_classes.items()))))
        if acc.per_minute:
            console.print(Text("5xx      %s" % sparkline(
                _series(acc.per_minute, log.bucket_seconds, ["5xx"]))), style="red")
        for title, rows in (("top 5xx paths", acc.top_paths_5xx),
                            ("top 5xx clients", acc.top_clients_5xx),
                            ("top 4xx paths", acc.top_paths_4xx),
                            ("top 4xx clients", acc.top_clients_4xx)):
            if rows:
                console.print(_ranked_table(title, rows))
    if log.fingerprints:
        table = Table(title="messages (fingerprints)", show_edge=False, title_justify="left")
        for name, justify in (("count", "right"), ("severity", "left"), ("first", "left"),
                              ("last", "left"), ("", "left"), ("template", "left")):
            table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
        for fp in log.fingerprints:
            table.add_row(str(fp.count), Text(fp.severity, style=_STYLE.get(fp.severity, "")),
                          _when(fp.first_seen), _when(fp.last_seen),
                          Text("NEW", style="bold magenta") if fp.new else "", Text(fp.template))
        console.print(table)
    slowest = log.access.slowest if log.access is not None else log.slowest
    if slowest:
        table = Table(title="slowest", show_edge=False, title_justify="left")
        table.add_column("seconds", justify="right")
        table.add_column("when")
        table.add_column("what", overflow="fold")
        for entry in slowest:
            table.add_row("%.3f" % entry.seconds, _when(entry.time), Text(entry.what))
        console.print(table)


def render_analysis(result: Analysis, console: Console) -> None:
    """Print every log set of ``result`` to ``console`` as tables and sparklines."""
    window = "%s -> %s" % (_when(result.since) if result.since else "start",
                           _when(result.until) if result.until else "end")
    console.print("[bold]Log analysis[/] window %s (UTC), naive times read as %s"
                  % (window, escape(result.naive_tz)))
    for note in result.notes:
        console.print("[yellow]note:[/] " + escape(note))
    for log in result.sets:
        _render_set(log, console)


def render_timeline(events: Sequence[TimelineEvent], console: Console) -> None:
    """Print a merged timeline (``merge_timeline``) as one table."""
    table = Table(title="timeline (UTC)", show_edge=False, title_justify="left")
    for name in ("time", "host", "log", "severity", "what", "count"):
        table.add_column(name, overflow="fold")
    seen: Dict[str, str] = {}
    for event in events:
        log = seen.setdefault(event.log, event.log.rsplit("/", 1)[-1])
        what = ("NEW " if event.new else "") + "%s: %s" % (event.kind, event.text)
        table.add_row(_when(event.time), Text(event.host), Text(log),
                      Text(event.severity, style=_STYLE.get(event.severity, "")), Text(what),
                      str(event.count))
    console.print(table)
