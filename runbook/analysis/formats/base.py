"""What every event-log format shares: the Event record, the parse state, multi-line grouping.

A format turns lines into Events. Most formats are "one head line per event, maybe followed
by continuation lines" (Java stack traces, PostgreSQL DETAIL/STATEMENT lines), which
``LineFormat.events`` implements once; a format only says what a head line looks like and
which lines may continue an event. A line that is neither is garbage: counted, never fatal.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, List, Optional

from ..clock import Clock
from ..model import SEVERITY_RANK

ERROR = SEVERITY_RANK["error"]
WARNING = SEVERITY_RANK["warning"]
INFO = SEVERITY_RANK["info"]

#: Level words of many programs -> severity rank (syslog names).
LEVELS = {
    "EMERG": 0, "EMERGENCY": 0, "PANIC": 0, "ALERT": 1, "CRIT": 2, "CRITICAL": 2, "FATAL": 2,
    "SEVERE": 3, "ERROR": 3, "ERR": 3, "WARN": 4, "WARNING": 4, "NOTICE": 5, "NOTE": 5,
    "INFO": 6, "LOG": 6, "STATEMENT": 6, "SYSTEM": 5, "CONFIG": 7, "DEBUG": 7,
    "TRACE": 7,
    "FINE": 7, "FINER": 7, "FINEST": 7,
}

# Without a level field (RFC 3164 syslog, journald's short output) the words decide. Crude,
# but "Out of memory: Killed process" must not drown among info lines at 02:30.
_GUESS = [
    (re.compile(r"\b(?:panic|emerg(?:ency)?)\b", re.I), 0),
    (re.compile(r"\b(?:crit(?:ical)?|fatal|segfault|out of memory|oom-kill\w*)\b", re.I), 2),
    (re.compile(r"\b(?:err(?:or)?s?|fail(?:ed|ure|ing)?|denied|refused|unable|cannot|"
                r"can't|timed out|timeout|exception|abort(?:ed)?|killed)\b", re.I), 3),
    (re.compile(r"\b(?:warn(?:ing)?s?|deprecated|retry(?:ing)?)\b", re.I), 4),
]


def guess_severity(message: str) -> int:
    """A severity rank from the words of a message that carries no level."""
    for pattern, rank in _GUESS:
        if pattern.search(message):
            return rank
    return INFO


def level_rank(word: str) -> int:
    """A level word (``ERROR``, ``Warning``, ``SEVERE``...) -> severity rank; unknown = info."""
    return LEVELS.get(word.upper().rstrip("0123456789"), INFO)


class Event:
    """One log event. ``message`` is what gets fingerprinted, ``text`` the raw lines."""

    __slots__ = ("ts", "severity", "message", "text", "duration", "what")

    def __init__(self, ts: Optional[float], severity: int, message: str, text: str,
                 duration: Optional[float] = None, what: str = "") -> None:
        self.ts = ts
        self.severity = severity
        self.message = message
        self.text = text
        self.duration = duration
        self.what = what

    def __repr__(self) -> str:
        return "Event(%r, %r, %r)" % (self.ts, self.severity, self.message)


class ParseState:
    """Per-file context: the clock, the reference time for year-less stamps, counters."""

    def __init__(self, clock: Clock, reference: float) -> None:
        self.clock = clock
        self.reference = reference
        self.lines = 0
        self.garbage = 0


class LogFormat:
    """A log format. ``probe`` says whether a line looks like this format (for detection)."""

    name = ""
    #: Higher wins when two formats recognise equally many sample lines.
    priority = 0

    def probe(self, line: str) -> bool:
        raise NotImplementedError

    def events(self, lines: Iterable[str], state: ParseState) -> Iterator[Event]:
        raise NotImplementedError


class LineFormat(LogFormat):
    """A format whose events start with a recognisable head line."""

    #: Cap on lines kept per event (a 2,000-frame trace is still one event).
    max_event_lines = 40

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        """An Event if ``line`` starts one, else None."""
        raise NotImplementedError

    def ignorable(self, line: str) -> bool:
        """Lines the program writes that are no events and no garbage (banners, markers)."""
        return False

    def continues(self, line: str, event: Event) -> bool:
        """Whether a non-head ``line`` belongs to ``event`` (default: never)."""
        return False

    def extend(self, event: Event, line: str, extra: List[str]) -> None:
        """Add a continuation line; formats may also refine the event from it."""
        if len(extra) < self.max_event_lines:
            extra.append(line)

    def finish(self, event: Event, extra: List[str]) -> Event:
        """Complete an event once no more lines can belong to it."""
        if extra:
            event.text = event.text + "\n" + "\n".join(extra)
        return event

    def probe(self, line: str) -> bool:
        return self.head(line, _PROBE_STATE) is not None

    def events(self, lines: Iterable[str], state: ParseState) -> Iterator[Event]:
        pending: Optional[Event] = None
        extra: List[str] = []
        for line in lines:
            state.lines += 1
            if not line.strip():
                continue
            event = self.head(line, state)
            if event is not None:
                if pending is not None:
                    yield self.finish(pending, extra)
                pending, extra = event, []
            elif pending is not None and self.continues(line, pending):
                self.extend(pending, line, extra)
            elif not self.ignorable(line):
                state.garbage += 1
        if pending is not None:
            yield self.finish(pending, extra)


# Detection probes parse with a throw-away state; the reference time only matters for years.
_PROBE_STATE = ParseState(Clock("UTC"), 4102444800.0)
