"""Journal payloads turned into report sections: evidence pairs, archives, analyses, output tails.

Each function reads one event's fields (schema in ``runbook.journal``) leniently: a field
that is missing or null yields an empty section, never an exception, because a report of a
crashed run is exactly when the customer needs one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from runbook.analysis.model import Analysis as LogAnalysis
from runbook.analysis.timeline import TimelineEvent, merge_timeline
from runbook.journal import parse_ts
from runbook.reports.model import Analysis, ArchivedFile, DiskChange, Evidence, ValueChange

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


def evidence_pair(key: tuple[str, Any, str], pair: Mapping[str, Any], host: str) -> Evidence:
    """The before/after events of one (run, step, kind) on ``host``; either may be missing."""
    rid, step, kind = key
    before, after = pair.get("before"), pair.get("after")
    bdata = mapping(mapping(before).get("data"))
    adata = mapping(mapping(after).get("data"))
    return Evidence(host=host, run_id=rid, step=step, kind=kind,
                    before_ts=parse_ts(before["ts"]) if before else None,
                    after_ts=parse_ts(after["ts"]) if after else None,
                    disks=_disks(bdata, adata), values=_values(bdata, adata))


def _disks(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[DiskChange, ...]:
    b = {m.get("mount"): m for m in before.get("mounts") or () if isinstance(m, Mapping)}
    a = {m.get("mount"): m for m in after.get("mounts") or () if isinstance(m, Mapping)}
    order = list(b) + [m for m in a if m not in b]
    return tuple(DiskChange(mount=str(m), used_before=b.get(m, {}).get("used_percent"),
                            used_after=a.get(m, {}).get("used_percent"),
                            free_before=b.get(m, {}).get("free_bytes"), free_after=a.get(m, {}).get("free_bytes"),
                            size=a.get(m, {}).get("size_bytes", b.get(m, {}).get("size_bytes")))
                 for m in order)


def _flat(data: Mapping[str, Any]) -> dict[str, Any]:
    """Scalars one level deep; lists count their items (e.g. processes: 212)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "mounts":
            continue
        if _is_scalar(value):
            out[str(key)] = value
        elif isinstance(value, list):
            out[str(key)] = len(value)
        elif isinstance(value, Mapping):
            out.update({f"{key}.{k}": v for k, v in value.items() if _is_scalar(v)})
    return out


def _values(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[ValueChange, ...]:
    b, a = _flat(before), _flat(after)
    return tuple(ValueChange(k, b.get(k), a.get(k)) for k in list(b) + [k for k in a if k not in b])


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
        key = (event.time, event.host, event.log, event.kind, event.text)
        if key not in kept or event.count > kept[key].count:
            kept[key] = event
    events = list(kept.values())
    if rows is None:
        return tuple(events), 0
    return tuple(events[:rows]), max(0, len(events) - rows)
