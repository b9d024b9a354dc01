"""Folding events into a ``LogSetAnalysis``: windows, per-minute counts, fingerprints.

Events inside the window are counted; events inside the baseline window only feed the set
of baseline templates, against which fingerprints are marked ``new``. Per-minute buckets are
kept per minute while reading and coarsened at the end when the span is long (more than
``MAX_BUCKETS`` minutes), so the result stays small whatever the log covers.
"""

from __future__ import annotations

import heapq
from typing import Dict, List, Optional, Tuple

from .fingerprint import FingerprintTable, TemplateSet, normalize_message
from .formats.base import Event
from .model import (PROBLEM_RANK, SEVERITIES, FileRead, Fingerprint, LogSetAnalysis,
                    MinuteBucket, SlowEntry, to_datetime, utc_of)

MAX_BUCKETS = 2880  # two days of minutes
_STEPS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)

Window = Tuple[Optional[float], Optional[float]]


def in_window(ts: Optional[float], window: Window) -> bool:
    """since <= ts < until, an open end being unbounded; a missing time is always inside."""
    if ts is None:
        return True
    since, until = window
    return (since is None or ts >= since) and (until is None or ts < until)


def bucketize(per_minute: Dict[int, Dict[str, int]]) -> Tuple[int, Tuple[MinuteBucket, ...]]:
    """(bucket seconds, buckets): per minute, or coarser when the span exceeds MAX_BUCKETS."""
    if not per_minute:
        return 60, ()
    low, high = min(per_minute), max(per_minute)
    step = next((s for s in _STEPS if (high - low) // s < MAX_BUCKETS), _STEPS[-1])
    merged: Dict[int, Dict[str, int]] = {}
    for minute, counts in per_minute.items():
        target = merged.setdefault(minute - minute % step, {})
        for key, n in counts.items():
            target[key] = target.get(key, 0) + n
    return step, tuple(MinuteBucket(utc_of(start), dict(sorted(merged[start].items())))
                       for start in sorted(merged))


def fingerprint_rows(table: FingerprintTable, baseline: Optional[TemplateSet],
                     top: int) -> Tuple[Fingerprint, ...]:
    """The fingerprints worth reporting: the ``top`` most frequent, the ``top`` most frequent
    problems (warning or worse) and up to ``top`` new problems -- each list bounded, so the
    result stays small, and errors are not crowded out by chatty info messages."""
    items = list(table.entries.items())
    by_count = sorted(items, key=lambda kv: (-kv[1].count, kv[1].severity, kv[0]))
    chosen = {key for key, _ in by_count[:top]}
    problems = [(k, e) for k, e in by_count if e.severity <= PROBLEM_RANK]
    chosen.update(key for key, _ in problems[:top])
    if baseline is not None:
        fresh = [(k, e) for k, e in problems if k not in baseline]
        chosen.update(key for key, _ in fresh[:top])
    rows = []
    for key, entry in by_count:
        if key not in chosen:
            continue
        rows.append(Fingerprint(
            template=key, severity=SEVERITIES[entry.severity], count=entry.count,
            first_seen=to_datetime(entry.first), last_seen=to_datetime(entry.last),
            example=entry.example, new=None if baseline is None else key not in baseline))
    return tuple(rows)


def slow_rows(heap: List[Tuple[float, float, str]]) -> Tuple[SlowEntry, ...]:
    """Slowest first; ties by time then text, so the order is stable."""
    ordered = sorted(heap, key=lambda item: (-item[0], item[1], item[2]))
    return tuple(SlowEntry(utc_of(t), round(seconds, 6), what)
                 for seconds, t, what in ordered)


def keep_slowest(heap: List[Tuple[float, float, str]], top: int, seconds: float, ts: float,
                 what: str) -> None:
    """Keep the ``top`` slowest entries in a min-heap."""
    item = (seconds, -ts, what)  # among equal durations keep the earliest
    if len(heap) < top:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def unheap(heap: List[Tuple[float, float, str]]) -> List[Tuple[float, float, str]]:
    """Undo the time negation of ``keep_slowest``."""
    return [(seconds, -neg, what) for seconds, neg, what in heap]


class EventAggregator:
    """Counts events of one log set within the window (and baseline window)."""

    def __init__(self, window: Window, baseline_window: Optional[Window],
                 baseline: Optional[TemplateSet], top: int, fingerprint_cap: int = 2000) -> None:
        self.window = window
        self.baseline_window = baseline_window
        self.baseline = baseline
        self.top = top
        self.fingerprints = FingerprintTable(fingerprint_cap)
        self.severities = [0] * len(SEVERITIES)
        self.per_minute: Dict[int, Dict[str, int]] = {}
        self.events = 0
        self.first: Optional[float] = None
        self.last: Optional[float] = None
        self.slow: List[Tuple[float, float, str]] = []
        self._last_ts: Optional[float] = None

    def add(self, event: Event) -> None:
        ts = event.ts
        if ts is None:
            ts = self._last_ts  # a time-less event happened when the one before it did
        else:
            self._last_ts = ts
        template: Optional[str] = None
        if self.baseline_window is not None and self.baseline is not None and \
                ts is not None and in_window(ts, self.baseline_window):
            template = normalize_message(event.message)
            self.baseline.add(template)
        if not in_window(ts, self.window):
            return
        if template is None:
            template = normalize_message(event.message)
        self.events += 1
        self.severities[event.severity] += 1
        if ts is not None:
            if self.first is None or ts < self.first:
                self.first = ts
            if self.last is None or ts > self.last:
                self.last = ts
            minute = int(ts // 60 * 60)
            bucket = self.per_minute.setdefault(minute, {})
            name = SEVERITIES[event.severity]
            bucket[name] = bucket.get(name, 0) + 1
        self.fingerprints.add(template, event.severity, ts, event.text)
        if event.duration is not None and ts is not None:
            keep_slowest(self.slow, self.top, event.duration, ts, event.what)

    def result(self, name: str, fmt: str, files: Tuple[FileRead, ...]) -> LogSetAnalysis:
        step, buckets = bucketize(self.per_minute)
        return LogSetAnalysis(
            name=name, format=fmt, files=files,
            lines=sum(f.lines for f in files), garbage=sum(f.garbage for f in files),
            events=self.events, first_event=to_datetime(self.first),
            last_event=to_datetime(self.last),
            severity_counts={SEVERITIES[i]: n for i, n in enumerate(self.severities) if n},
            bucket_seconds=step, per_minute=buckets,
            fingerprints=fingerprint_rows(self.fingerprints, self.baseline, self.top),
            fingerprints_evicted=self.fingerprints.evicted,
            slowest=slow_rows(unheap(self.slow)),
        )
