"""PostgreSQL server logs: stderr with a ``log_line_prefix``, and ``csvlog``.

stderr (``%m [%p] `` and Debian's ``%m [%p] %q%u@%d ``)::

    2024-01-02 03:04:05.678 UTC [4242] shop@shop ERROR:  relation "orderz" does not exist ...
    2024-01-02 03:04:05.678 UTC [4242] shop@shop STATEMENT:  select * from orderz;

The level is found by PostgreSQL's own signature -- a level word, a colon and two spaces -- so
other prefixes work too. DETAIL, HINT, CONTEXT, STATEMENT, QUERY and LOCATION lines and
tab-indented statement lines belong to the event before them. ``duration: N ms`` lines
(``log_min_duration_statement``) become slow entries.
"""

from __future__ import annotations

import csv
import re
from typing import Iterable, Iterator, Optional

from .base import _PROBE_STATE, Event, LineFormat, LogFormat, ParseState, level_rank

_STAMP = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)(?: ([A-Z]{2,5}|[+-]\d\d(?::?\d\d)?))?\b")
_LEVEL = re.compile(
    r"\b(DEBUG[1-5]|INFO|NOTICE|WARNING|ERROR|LOG|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|"
    r"QUERY|LOCATION):  ")
_SECONDARY = ("DETAIL", "HINT", "STATEMENT", "CONTEXT", "QUERY", "LOCATION")
_DURATION = re.compile(r"^duration: (\d+(?:\.\d+)?) ms(?:\s+(?:statement|execute [^:]*|"
                       r"parse [^:]*|bind [^:]*): (.*))?$", re.S)

# csvlog columns (stable since 9.0; later versions only append columns).
_CSV_TIME, _CSV_SEVERITY, _CSV_MESSAGE, _CSV_DETAIL, _CSV_QUERY = 0, 11, 13, 14, 19
_CSV_MIN_FIELDS = 23
_CSV_PROBE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [A-Z]{2,5},(?:[^,]*,){5}")


def _apply_duration(event: Event) -> None:
    match = _DURATION.match(event.message)
    if match:
        event.duration = float(match.group(1)) / 1000.0
        event.what = (match.group(2) or "").strip()[:300]
        # One template per statement shape, not per duration.
        event.message = "duration: statement: " + event.what


class PostgresLog(LineFormat):
    """PostgreSQL stderr logs (``logging_collector`` files or ``pg_ctl -l`` output)."""

    name = "postgres"
    priority = 75

    def _parse(self, line: str, state: ParseState) -> Optional[Event]:
        stamp = _STAMP.match(line)
        if not stamp:
            return None
        level = _LEVEL.search(line, stamp.end(), stamp.end() + 160)
        if not level:
            return None
        ts = state.clock.iso("%s %s" % stamp.groups() if stamp.group(2) else stamp.group(1))
        if ts is None:
            return None
        return Event(ts, level_rank(level.group(1)), line[level.end():], line,
                     what=level.group(1))

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        event = self._parse(line, state)
        if event is None or event.what in _SECONDARY:
            return None
        if event.what == "LOG":
            _apply_duration(event)
            if event.duration is None:
                event.what = ""
        else:
            event.what = ""
        return event

    def continues(self, line: str, event: Event) -> bool:
        if line[:1] == "\t":
            return True
        level = _LEVEL.search(line, 0, 200)
        return level is not None and level.group(1) in _SECONDARY and _STAMP.match(line) is not None

    def probe(self, line: str) -> bool:
        return self._parse(line, _PROBE_STATE) is not None


class PostgresCsvLog(LogFormat):
    """PostgreSQL ``csvlog`` files (quoted fields may span lines)."""

    name = "postgres-csv"
    priority = 90

    def probe(self, line: str) -> bool:
        return _CSV_PROBE.match(line) is not None

    def events(self, lines: Iterable[str], state: ParseState) -> Iterator[Event]:
        def counted() -> Iterator[str]:
            for line in lines:
                state.lines += 1
                yield line + "\n"

        source = counted()
        while True:
            reader = csv.reader(source)
            try:
                for row in reader:
                    event = self._event(row, state)
                    if event is None:
                        if row:
                            state.garbage += 1
                        continue
                    yield event
                return
            except csv.Error:
                state.garbage += 1  # malformed record: skip it, start a fresh reader

    @staticmethod
    def _event(row: list, state: ParseState) -> Optional[Event]:
        if len(row) < _CSV_MIN_FIELDS:
            return None
        ts = state.clock.iso(row[_CSV_TIME])
        if ts is None:
            return None
        message = row[_CSV_MESSAGE]
        text = "%s %s:  %s" % (row[_CSV_TIME], row[_CSV_SEVERITY], message)
        for label, index in (("DETAIL", _CSV_DETAIL), ("STATEMENT", _CSV_QUERY)):
            if row[index]:
                text += "\n%s:  %s" % (label, row[index])
        event = Event(ts, level_rank(row[_CSV_SEVERITY]), message, text)
        if row[_CSV_SEVERITY] == "LOG":
            _apply_duration(event)
        return event

