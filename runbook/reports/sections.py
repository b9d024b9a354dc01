"""Journal payloads turned into report sections: evidence pairs, archives, analyses, output tails.

Each function reads one event's fields (schema in ``runbook.journal``) leniently: a field
that is missing or null yields an empty section, never an exception, because a report of a
crashed run is exactly when the customer needs one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.analysis.model import Analysis as LogAnalysis
from runbook.analysis.timeline import TimelineEvent, merge_timeline
from runbook.journal import parse_ts
from runbook.reports.model import Analysis, ArchivedFile, DiskPair, MemoryPair, Observation

OUTPUT_TAIL_LINES = 3
OUTPUT_TAIL_CHARS = 300
# The columns shown for a runbook.analysis fingerprint (one line pattern of a log set).
FINGERPRINT_COLUMNS = ("count", "severity", "template", "first_seen", "last_seen")
TOP_FINGERPRINTS = 10
# Control characters other than tab and newline (find -print0's NULs, terminal escapes) have
# no place in an HTML page, a Markdown comment or a mail; NUL separates records, so it ends a line.
_CONTROL = re.compile(r"[\x01-\x08\x0b-\x1f\x7f]")


def mapping(value: Any) -> Mapping[str, Any]:
    """A JSON object field, or an empty one when the journal has null (or junk) there."""
    return value if isinstance(value, Mapping) else {}


def analyses(analysis: Mapping[str, Any], host: str, ts: datetime, rid: str, action: str) -> list[Analysis]:
    """runbook.analysis results ({"schema", "sets": [...]}) give one table per log set, its
    most frequent line patterns; any other shape goes through the generic summary table."""
    sets = analysis.get("sets")
    if not isinstance(sets, list) or "schema" not in analysis:
        return [_analysis(analysis, host, ts, rid, action)]
    out = []
    for log_set in (s for s in sets if isinstance(s, Mapping)):
        prints = [p for p in log_set.get("fingerprints") or () if isinstance(p, Mapping)]
        rows = tuple(tuple(_when(p.get(c)) if c.endswith("_seen") else _scalar(p.get(c))
                           for c in FINGERPRINT_COLUMNS) for p in prints[:TOP_FINGERPRINTS])
        title = f"{log_set.get('name', '?')} ({log_set.get('format', '?')})"
        out.append(Analysis(host=host, ts=ts, run_id=rid, title=title, columns=FINGERPRINT_COLUMNS, rows=rows))
    return out


def _when(value: Any) -> Any:
    """An ISO time from an analysis as a datetime, so the report shows it in local time."""
    if isinstance(value, str):
        try:
            return parse_ts(value)
        except ValueError:
            return value
    return value


def _analysis(analysis: Mapping[str, Any], host: str, ts: datetime, rid: str, action: str) -> Analysis:
    """Any other analysis: its "summary" (a mapping, a list of rows) as a table, else its scalars."""
    title = str(analysis.get("title") or analysis.get("format") or analysis.get("kind") or action or "analysis")
    summary = analysis.get("summary")
    columns: tuple[str, ...] = ()
    rows: list[tuple[Any, ...]] = []
    if isinstance(summary, Mapping):
        rows = [(k, _scalar(v)) for k, v in summary.items()]
    elif isinstance(summary, list) and summary and all(isinstance(r, Mapping) for r in summary):
        keys: dict[str, None] = {}
        for r in summary:
            keys.update(dict.fromkeys(str(k) for k in r))
        columns = tuple(keys)
        rows = [tuple(_scalar(r.get(k)) for k in columns) for r in summary]
    elif isinstance(summary, list):
        rows = [tuple(_scalar(c) for c in r) if isinstance(r, (list, tuple)) else (_scalar(r),)
                for r in summary]
    else:
        rows = [(k, v) for k, v in analysis.items() if _is_scalar(v) and k not in ("title", "format", "kind")]
    return Analysis(host=host, ts=ts, run_id=rid, title=title, columns=columns, rows=tuple(rows))


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _scalar(value: Any) -> Any:
    return value if _is_scalar(value) else str(value)


def manifest(manifest: Any) -> tuple[ArchivedFile, ...]:
    """Accept a list of {path, bytes, sha256}, {"files": [...]}, or {path: {bytes, sha256}}."""
    if isinstance(manifest, Mapping):
        if "files" in manifest:
            manifest = manifest["files"]
        else:
            manifest = [{"path": k, **v} if isinstance(v, Mapping) else {"path": k} for k, v in manifest.items()]
    files = []
    for entry in manifest or ():
        if isinstance(entry, Mapping):
            files.append(ArchivedFile(path=str(entry.get("path") or entry.get("name") or entry.get("file") or ""),
                                      bytes=entry.get("bytes", entry.get("size")), sha256=entry.get("sha256")))
        else:
            files.append(ArchivedFile(path=str(entry), bytes=None, sha256=None))
    return tuple(files)


def output_tail(ev: Mapping[str, Any]) -> str:
    """The last lines of a command's output for the appendix: stderr if it failed, else stdout."""
    text = str(ev.get("stderr") or "") if ev.get("exit_code") not in (0, None) else ""
    text = text or str(ev.get("stdout") or "")
    text = _CONTROL.sub("\ufffd", text.replace("\x00", "\n").replace("\r\n", "\n").replace("\r", "\n"))
    lines = [ln[:OUTPUT_TAIL_CHARS] for ln in text.rstrip().splitlines()[-OUTPUT_TAIL_LINES:]]
    return "\n".join(lines)


@dataclass(frozen=True)
class Snapshot:
    """One evidence event of a host: when, "before" or "after", and its data."""

    ts: datetime
    phase: str
    kind: str
    data: Mapping[str, Any]


def disk_pairs(host: str, snapshots: Sequence[Snapshot], observations: Sequence[Observation]) -> tuple[DiskPair, ...]:
    """Per mount, the incident's first "before" and its last "after" (across steps and runs),
    with the thresholds of the newest disk check of that mount."""
    befores: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    afters: dict[str, tuple[datetime, Mapping[str, Any]]] = {}
    for snap in sorted((s for s in snapshots if s.kind == "disk"), key=lambda s: s.ts):
        for mount in snap.data.get("mounts") or ():
            if not isinstance(mount, Mapping) or not isinstance(mount.get("used_percent"), (int, float)):
                continue
            name = str(mount.get("mount"))
            if snap.phase == "before":
                befores.setdefault(name, (snap.ts, mount))
            elif snap.phase == "after":
                afters[name] = (snap.ts, mount)
    limits = {o.key.partition(":")[2]: (o.warn, o.crit) for o in sorted(observations, key=lambda o: o.ts)
              if o.key.startswith("disk:")}
    pairs = []
    for name, (bts, before) in befores.items():
        if name not in afters or afters[name][0] <= bts:
            continue
        ats, after = afters[name]
        warn, crit = limits.get(name, (None, None))
        pairs.append(DiskPair(host=host, mount=name, before_ts=bts, after_ts=ats,
                              used_before=float(before["used_percent"]), used_after=float(after["used_percent"]),
                              free_before=before.get("free_bytes"), free_after=after.get("free_bytes"),
                              size=after.get("size_bytes", before.get("size_bytes")), warn=warn, crit=crit))
    return tuple(pairs)


def memory_pair(host: str, snapshots: Sequence[Snapshot], observations: Sequence[Observation]) -> MemoryPair | None:
    """RAM and swap in use at the first "before" and the last "after" of the incident."""
    mem = sorted((s for s in snapshots if s.kind == "memory"), key=lambda s: s.ts)
    before = next((s for s in mem if s.phase == "before"), None)
    after = next((s for s in reversed(mem) if s.phase == "after"), None)
    if before is None or after is None or after.ts <= before.ts:
        return None
    memory_checks = [o for o in sorted(observations, key=lambda o: o.ts) if o.key == "memory"]
    warn = crit = None
    if memory_checks and memory_checks[-1].warn is not None and memory_checks[-1].crit is not None:
        warn, crit = 100.0 - memory_checks[-1].warn, 100.0 - memory_checks[-1].crit
    return MemoryPair(host=host, before_ts=before.ts, after_ts=after.ts, ram_before=_ram(before.data),
                      ram_after=_ram(after.data), swap_before=_swap(before.data), swap_after=_swap(after.data),
                      total_bytes=after.data.get("total_bytes"), swap_total_bytes=after.data.get("swap_total_bytes"),
                      ram_warn=warn, ram_crit=crit)


def _ram(data: Mapping[str, Any]) -> float | None:
    available = data.get("available_percent")
    return round(100.0 - float(available), 2) if isinstance(available, (int, float)) else None


def _swap(data: Mapping[str, Any]) -> float | None:
    if not data.get("swap_total_bytes"):
        return None
    used = data.get("swap_used_percent")
    return float(used) if isinstance(used, (int, float)) else None


#: Rows of the cross-host log timeline in a report: the earliest, where a fault shows first.
LOG_TIMELINE_ROWS = 40


def journalled_analyses(events: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[datetime, Mapping[str, Any]]]]:
    """host -> (when, runbook.analysis JSON form) of every log analysis in these journal events."""
    found: dict[str, list[tuple[datetime, Mapping[str, Any]]]] = {}
    for ev in events:
        data = ev.get("data") if ev.get("event") == "host.end" else None
        analysis = data.get("analysis") if isinstance(data, Mapping) else None
        if isinstance(analysis, Mapping) and "schema" in analysis and ev.get("host"):
            found.setdefault(str(ev["host"]), []).append((parse_ts(ev["ts"]), analysis))
    return found


def log_timeline(analysed: Mapping[str, Sequence[tuple[datetime, Mapping[str, Any]]]], *,
                 since: datetime | None = None, until: datetime | None = None,
                 rows: int | None = LOG_TIMELINE_ROWS) -> tuple[tuple[TimelineEvent, ...], int]:
    """One timeline over every host's log analyses ("what happened everywhere, in order").

    analysed: host -> (when the analysis ran, its JSON form), see ``journalled_analyses``.
    The window is since..until where given, else the one the analyses covered together: from
    the earliest ``since`` (or first event) to the latest ``until`` (or when it ran). A log set
    analysed twice (before and after a restart) gives each sighting once. Returns the first
    ``rows`` events (None: all) and how many more there were.
    """
    named: dict[str, LogAnalysis] = {}
    starts: list[datetime] = []
    ends: list[datetime] = []
    for host, items in analysed.items():
        sets = []
        for ts, doc in items:
            try:
                result = LogAnalysis.from_dict(dict(doc))
            except (KeyError, TypeError, ValueError):
                continue  # another version's shape: its table is still shown
            sets.extend(result.sets)
            if result.since:
                starts.append(result.since)
            else:
                starts.extend(s.first_event for s in result.sets if s.first_event)
            ends.append(result.until or ts)
        if sets:
            named[host] = LogAnalysis(since=None, until=None, baseline_since=None, baseline_until=None,
                                      naive_tz="", sets=tuple(sets))
    low, high = since or min(starts, default=None), until or max(ends, default=None)
    if not named or low is None or high is None:
        return (), 0
    if since is None:
        low = low.replace(second=0, microsecond=0)  # the first event's per-minute bucket starts here
    kept: dict[tuple[Any, ...], TimelineEvent] = {}
    for event in merge_timeline(named, low, high):  # sorted; a repeated sighting keeps its place
        # a minute's error count is one row, whichever analysis (window) counted it the most
        key = (event.time, event.host, event.log, event.kind, "" if event.kind == "errors" else event.text)
        if key not in kept or event.count > kept[key].count:
            kept[key] = event
    events = list(kept.values())
    if rows is None:
        return tuple(events), 0
    return tuple(events[:rows]), max(0, len(events) - rows)
