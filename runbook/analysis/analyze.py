"""``analyze_paths``: from file names to an ``Analysis``.

Paths are grouped into log sets (a log and its rotated siblings, see ``sources``), each set's
format is detected from its newest file unless given, and each set is read once, oldest file
first, feeding either the fast access scanner or the event aggregator.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Iterator, List, Optional, Sequence, Tuple, Union

from .access import AccessScanner
from .aggregate import EventAggregator, Window
from .clock import Clock, parse_user_time
from .detect import detect_format
from .fingerprint import TemplateSet
from .formats import canonical, make
from .formats.access import request_time_layout
from .formats.base import ParseState
from .model import Analysis, FileRead, LogSetAnalysis, to_datetime
from .sidecar import UnreadableLog
from .sources import head_lines, iter_lines, log_chunks, log_sets

TimeLike = Union[None, datetime, str, float, int]
BaselineLike = Union[None, str, Tuple[TimeLike, TimeLike], Analysis]
DAY = 86400.0


def to_epoch(value: TimeLike, clock: Clock) -> Optional[float]:
    """A time given by a caller -> epoch. Naive datetimes and ISO strings without offset are
    read in the clock's naive zone, like naive log times."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return clock.naive(value.year, value.month, value.day, value.hour, value.minute,
                               value.second + value.microsecond / 1e6)
        return value.timestamp()
    return parse_user_time(value, clock)


def _baseline(baseline: BaselineLike, window: Window, clock: Clock
              ) -> Tuple[Optional[Window], Optional[Analysis]]:
    if baseline is None:
        return None, None
    if isinstance(baseline, Analysis):
        return None, baseline
    if isinstance(baseline, str):
        if baseline not in ("previous-day", "day"):
            raise ValueError("baseline must be 'previous-day', a (since, until) pair or an "
                             "Analysis, not %r" % baseline)
        since, until = window
        if since is None or until is None:
            raise ValueError("a previous-day baseline needs both since and until")
        return (since - DAY, until - DAY), None
    start, end = baseline
    return (to_epoch(start, clock), to_epoch(end, clock)), None


def _templates(previous: Optional[Analysis], fmt: str) -> Optional[TemplateSet]:
    if previous is None:
        return None
    return TemplateSet(seed=(fp.template for s in previous.sets if s.format == fmt
                             for fp in s.fingerprints))


def _detect(files: List[str]) -> str:
    for path in reversed(files):  # the newest file says best what the log looks like now
        try:
            lines = head_lines(path)
        except OSError:
            continue
        if lines:
            return detect_format(lines)
    return "generic"


class _Counted:
    """Chunks passed through, their bytes counted; an ``UnreadableLog`` at the end of them is
    kept in ``problem`` and ends the stream cleanly, so a parser still flushes the event it
    holds and the lines before the break count."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.bytes = 0
        self.problem: Optional[str] = None

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.chunks:
                self.bytes += len(chunk)
                yield chunk
        except UnreadableLog as error:
            self.problem = error.strerror or str(error)


def analyze_paths(paths: Sequence[str], fmt: str = "auto", since: TimeLike = None,
                  until: TimeLike = None, baseline: BaselineLike = None, top: int = 10, *,
                  naive_tz: Optional[str] = None, slow: float = 1.0,
                  reference: Optional[float] = None) -> Analysis:
    """Analyse log files within [since, until) and return the typed result.

    paths:     files; rotated siblings (x.log.1, x.log.2.gz) form one set, read oldest first.
    fmt:       ``auto`` (detect per set) or a format name/alias (see ``formats.FORMATS``).
    since, until: window bounds (datetime, ISO string, epoch, ``-30m``); None = open.
    baseline:  ``(start, end)`` window, ``"previous-day"`` (the window 24 h earlier) or an
               earlier ``Analysis``; fingerprints absent from it are marked ``new``.
    top:       length of every top-N table.
    naive_tz:  zone for log times without one (``+01:00``, ``UTC``); None = this machine's.
    slow:      request/query duration in seconds from which it is listed as slow.
    reference: "now" for year-less syslog times; None = each file's mtime.
    """
    clock = Clock(naive_tz)
    window: Window = (to_epoch(since, clock), to_epoch(until, clock))
    baseline_window, previous = _baseline(baseline, window, clock)
    lows = [window[0]] + ([baseline_window[0]] if baseline_window else [])
    # A file last written before every window starts cannot hold an event inside one.
    skip_before = None if None in lows else min(lows)  # type: ignore[type-var]
    sets: List[LogSetAnalysis] = []
    notes: List[str] = []
    for name, files in log_sets(list(paths)):
        set_fmt = _detect(files) if canonical(fmt) == "auto" else canonical(fmt)
        templates = _templates(previous, set_fmt)
        if templates is None and baseline_window is not None:
            templates = TemplateSet()
        sets.append(_analyze_set(name, files, set_fmt, clock, window, baseline_window,
                                 templates, top, slow, reference, skip_before, notes))
    return Analysis(
        since=to_datetime(window[0]), until=to_datetime(window[1]),
        baseline_since=to_datetime(baseline_window[0]) if baseline_window else None,
        baseline_until=to_datetime(baseline_window[1]) if baseline_window else None,
        naive_tz=clock.describe(), sets=tuple(sets), notes=tuple(notes))


def _analyze_set(name: str, files: List[str], fmt: str, clock: Clock, window: Window,
                 baseline_window: Optional[Window], templates: Optional[TemplateSet],
                 top: int, slow: float, reference: Optional[float],
                 skip_before: Optional[float], notes: List[str]) -> LogSetAnalysis:
    if fmt == "access":
        sample: List[str] = []
        for path in reversed(files):
            try:
                sample = head_lines(path)
            except OSError:
                continue
            if sample:
                break
        sink: Union[AccessScanner, EventAggregator] = AccessScanner(
            clock, window, baseline_window, templates, top, slow, request_time_layout(sample))
    else:
        sink = EventAggregator(window, baseline_window, templates, top)
    reads: List[FileRead] = []
    for path in files:
        try:
            mtime = os.stat(path).st_mtime
            if skip_before is not None and mtime < skip_before:
                reads.append(FileRead(path, 0, 0, 0, skipped=True))
                continue
            read = _read_file(path, fmt, sink, clock, mtime if reference is None else reference)
            reads.append(read)
            if read.error:
                notes.append("%s: read %d lines, then stopped: %s" % (path, read.lines,
                                                                     read.error))
        except OSError as error:
            reason = error.strerror or str(error)
            notes.append("%s: cannot read: %s" % (path, reason))
            reads.append(FileRead(path, 0, 0, 0, skipped=True, error=reason))
    if templates is not None and templates.full:
        notes.append("%s: baseline had more templates than kept; 'new' may overstate" % name)
    return sink.result(name, fmt, tuple(reads))


def _read_file(path: str, fmt: str, sink: Union[AccessScanner, EventAggregator], clock: Clock,
               reference: float) -> FileRead:
    chunks = _Counted(log_chunks(path))
    if isinstance(sink, AccessScanner):
        lines = garbage = 0
        for chunk in chunks:
            n, bad = sink.feed(chunk)
            lines += n
            garbage += bad
        return FileRead(path, chunks.bytes, lines, garbage, error=chunks.problem)
    state = ParseState(clock, reference)
    parser = make(fmt)
    text = (line for chunk in chunks for line in iter_lines(chunk))
    for event in parser.events(text, state):
        sink.add(event)  # type: ignore[union-attr]
    return FileRead(path, chunks.bytes, state.lines, state.garbage, error=chunks.problem)
