"""MySQL and MariaDB: the error log and the slow query log.

Error log head lines, by version::

    2024-01-02T03:04:05.678901Z 0 [Warning] [MY-010068] [Server] CA certificate ...   (8.x)
    2024-01-02T03:04:05.678901Z 0 [Note] InnoDB: ...                                  (5.7)
    2024-01-02  3:04:05 0 [ERROR] mariadbd: Can't open shared library ...              (MariaDB)
    240102  3:04:05 [ERROR] mysqld got signal 11 ;                                     (5.5)

After an error line the raw lines of a crash report continue the event.

The slow log is a sequence of entries (``# Time:``, ``# User@Host:``, ``# Query_time:``,
``SET timestamp=N;``, the statement); each entry is one event with its Query_time as
duration. ``SET timestamp`` (exact, UTC) wins over ``# Time:`` (which MariaDB writes in
local time and omits when several entries share a second).
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, List, Optional

from .base import ERROR, WARNING, Event, LineFormat, LogFormat, ParseState, guess_severity, \
    level_rank

_ERROR_HEAD = re.compile(
    r"^(?:(\d{4})-(\d\d)-(\d\d)[T ] ?|(\d\d)(\d\d)(\d\d) +)(\d{1,2}):(\d\d):(\d\d)(?:\.(\d+))?"
    r"(Z|[+-]\d\d:\d\d)? +(?:\d+ +)?(?:\[(Note|Warning|ERROR|Error|System|Info|Debug)\] )?"
    r"(?:\[MY-\d+\] )?(?:\[\w+\] )?(.*)$")
_SLOW_TIME = re.compile(
    r"^# Time: (?:(\d{4}-\d\d-\d\dT\S+)|(\d\d)(\d\d)(\d\d) +(\d{1,2}):(\d\d):(\d\d))")
_QUERY_TIME = re.compile(r"^# Query_time: (\d+(?:\.\d+)?)")
_SET_TIMESTAMP = re.compile(r"^SET timestamp=(\d+)(?:\.\d+)?;$")
_SLOW_HEADER = re.compile(r"^(?:\S+, Version: .* started with:$|Tcp port: |Time\s+Id\s+Command)")


def _year(two_digits: str) -> int:
    return 2000 + int(two_digits)


class MysqlError(LineFormat):
    """MySQL / MariaDB error log (``log_error``)."""

    name = "mysql-error"
    priority = 72

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        match = _ERROR_HEAD.match(line)
        if not match:
            return None
        y, mo, d, yy, mm, dd, h, mi, s, frac, zone, level, message = match.groups()
        if level is None and "mysqld" not in message and "mariadb" not in message:
            return None  # a bare "date time text" line is not MySQL's
        second = int(s) + (int(frac[:6].ljust(6, "0")) / 1e6 if frac else 0.0)
        try:
            if y:
                ts = state.clock.at(int(y), int(mo), int(d), int(h), int(mi), second, zone)
            else:
                ts = state.clock.naive(_year(yy), int(mm), int(dd), int(h), int(mi), second)
        except (ValueError, OverflowError):
            return None
        severity = level_rank(level) if level else guess_severity(message)
        return Event(ts, severity, message, line)

    def ignorable(self, line: str) -> bool:
        # The banner after "ready for connections": Version: '10.11...'  socket: ...
        return line.startswith("Version: '")

    def continues(self, line: str, event: Event) -> bool:
        return line[:1] in (" ", "\t") or event.severity <= ERROR


class MysqlSlow(LogFormat):
    """MySQL / MariaDB slow query log (``slow_query_log_file``)."""

    name = "mysql-slow"
    priority = 85

    def probe(self, line: str) -> bool:
        return bool(_SLOW_TIME.match(line) or _QUERY_TIME.match(line)
                    or line.startswith("# User@Host: ") or _SET_TIMESTAMP.match(line))

    def events(self, lines: Iterable[str], state: ParseState) -> Iterator[Event]:
        meta: List[str] = []
        query: List[str] = []
        stamp: Optional[float] = None
        exact: Optional[float] = None
        duration: Optional[float] = None
        for line in lines:
            state.lines += 1
            if line.startswith("#"):
                if query:  # a comment after a statement starts the next entry
                    yield self._event(stamp, exact, duration, meta, query)
                    meta, query, exact, duration = [], [], None, None
                meta.append(line)
                found = _SLOW_TIME.match(line)
                if found:
                    stamp = self._time(found, state)
                found = _QUERY_TIME.match(line)
                if found:
                    duration = float(found.group(1))
                continue
            found = _SET_TIMESTAMP.match(line)
            if found:
                exact = float(found.group(1))
            elif _SLOW_HEADER.match(line):
                pass  # server banner written at every start: not an event, not garbage
            elif meta or query:
                if not (line.startswith("use ") and not query):
                    query.append(line)
            elif line.strip():
                state.garbage += 1
        if query:
            yield self._event(stamp, exact, duration, meta, query)

    @staticmethod
    def _time(found: "re.Match[str]", state: ParseState) -> Optional[float]:
        if found.group(1):
            return state.clock.iso(found.group(1))
        yy, mm, dd, h, mi, s = found.groups()[1:]
        try:
            return state.clock.naive(_year(yy), int(mm), int(dd), int(h), int(mi), int(s))
        except (ValueError, OverflowError):
            return None

    @staticmethod
    def _event(stamp: Optional[float], exact: Optional[float], duration: Optional[float],
               meta: List[str], query: List[str]) -> Event:
        statement = " ".join(part.strip() for part in query).strip()
        ts = exact if exact is not None else stamp
        text = "\n".join(meta + query)
        return Event(ts, WARNING, "slow query: " + statement, text, duration=duration,
                     what=statement[:300])
