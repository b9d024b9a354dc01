"""nginx and Apache access logs: combined and common, with optional extra fields.

``10.0.0.1 - bob [02/Jan/2024:03:04:05 +0100] "GET /x HTTP/1.1" 502 157 "ref" "agent" 0.004``

The two layouts differ only in the trailing ``"referer" "user-agent"``, so one parser reads
both. Fields after them (or after the size in the common layout) are "extra"; when the first
extra field is a decimal number in most sample lines it is taken as the request time in
seconds (nginx ``$request_time``), which enables the slow-request table.

Aggregation does not go line by line -- see ``runbook.analysis.access`` for the fast scanner;
this module holds the patterns it uses and the exact per-line parse for the lines it needs.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from ..clock import MONTHS, Clock, parse_offset
from .base import LogFormat

# A quoted field with backslash escapes, written as an "unrolled loop" so the regex engine
# consumes runs of plain characters in one C loop instead of one alternation per character.
_Q = r'[^"\\\n]*(?:\\.[^"\\\n]*)*'
LINE_PATTERN = (
    r'(\S+) \S+ (.*?) \[([^\]\n]+)\] "(' + _Q + r')" (\d{3}) (\d+|-)'
    r'(?: "' + _Q + r'" "' + _Q + r'"())?( [^\n]*)?$')
LINE = re.compile(LINE_PATTERN)
LINE_BYTES = re.compile(LINE_PATTERN.encode())
# C-speed pass over whole chunks: just the time and the status of every line.
FAST = re.compile(rb'\[([^\]]*)\] "[^"]*" (\d{3})')
# The same without seconds, for whole-file analysis: (minute, zone, status).
FAST_MINUTE = re.compile(rb'\[(.{17}):\d\d (.{5})\] "[^"]*" (\d{3})')
# Candidates for the targeted second pass; each hit is re-parsed with LINE_BYTES.
ERRORS = re.compile(rb'" ([45]\d\d) ')
# Applied at the start of each candidate line: (client, time, request, status) in one C call.
ERROR_LINE = re.compile(rb'(\S+) [^\[\n]*\[([^\]\n]*)\] "([^"\n]*)" ([45]\d\d) ')
_FLOAT = re.compile(r"^\d+\.\d+$")


def slow_pattern(threshold: float, after_quote: bool) -> "re.Pattern[bytes]":
    """A pattern finding lines whose request time may reach ``threshold`` seconds.

    Matching only an integer part >= 1 keeps this pass cheap for the usual threshold; below
    one second every timed line is a candidate and the float comparison decides.
    """
    number = rb"[1-9]\d*\.\d+" if threshold >= 1 else rb"\d+\.\d+"
    lead = rb'" ' if after_quote else rb'" \d{3} (?:\d+|-) '
    return re.compile(lead + b"(" + number + rb")(?=[ \n])")


class AccessRecord:
    """The fields of one parsed access-log line (only built for lines that matter)."""

    __slots__ = ("client", "user", "time", "method", "target", "status", "extra")

    def __init__(self, groups: Tuple[str, ...]) -> None:
        client, user, stamp, request, status, _size, _combined, extra = groups
        self.client = client
        self.user = user
        self.time = stamp
        parts = request.split(" ")
        if len(parts) >= 2:
            self.method, self.target = parts[0], parts[1]
        else:
            self.method, self.target = "-", request or "-"
        self.status = status
        self.extra = (extra or "").split()

    def request_time(self) -> Optional[float]:
        """The first extra field as seconds, when it looks like ``$request_time``."""
        if self.extra and _FLOAT.match(self.extra[0]):
            return float(self.extra[0])
        return None


def parse_record(line: bytes) -> Optional[AccessRecord]:
    """Exact parse of one line (bytes without the newline); None if it is not an access line."""
    match = LINE_BYTES.match(line)
    if not match:
        return None
    return AccessRecord(tuple((g or b"").decode("utf-8", "replace") for g in match.groups()))


def parse_record_at(buf: bytes, start: int, end: int) -> Optional[AccessRecord]:
    """Like ``parse_record`` for ``buf[start:end]``.

    The usual line is split at its quotes (a few C calls) rather than matched with LINE,
    which costs three times as much; lines with escaped quotes take the exact way.
    """
    line = buf[start:end]
    parts = line.split(b'"')
    if len(parts) in (3, 7) and b"\\" not in line:
        head = parts[0]
        open_at, close_at = head.find(b"["), head.rfind(b"]")
        tail = parts[2].split()
        if open_at > 0 and close_at > open_at and len(tail) >= 2 and len(tail[0]) == 3 \
                and tail[0].isdigit():
            fields = head[:open_at].split()
            if len(fields) >= 3:
                extra = parts[6] if len(parts) == 7 else b" ".join(tail[2:])
                return AccessRecord((
                    fields[0].decode("utf-8", "replace"), "",
                    head[open_at + 1:close_at].decode("ascii", "replace"),
                    parts[1].decode("utf-8", "replace"), tail[0].decode("ascii"), "", "",
                    extra.decode("ascii", "replace")))
    return parse_record(line)


class AccessTimes:
    """``02/Jan/2024:03:04:05 +0100`` -> epoch, cached per minute (the fast path's hot spot)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._minutes: dict = {}

    def minute(self, stamp: bytes) -> Optional[float]:
        """Epoch of the minute of a 26-byte stamp, None if it is no time."""
        key = stamp[:17] + stamp[20:]
        base = self._minutes.get(key, False)
        if base is False:
            base = self._parse(stamp)
            if len(self._minutes) > 100000:
                self._minutes.clear()
            self._minutes[key] = base
        return base

    def minute_of(self, minute: bytes, zone: bytes) -> Optional[float]:
        """Epoch of ``02/Jan/2024:03:04`` at zone ``+0100``; None if it is no time."""
        return self.minute(minute + b":00 " + zone)

    def _parse(self, stamp: bytes) -> Optional[float]:
        text = stamp.decode("ascii", "replace")
        if len(text) < 20 or text[2] != "/" or text[6] != "/" or text[11] != ":":
            return None
        month = MONTHS.get(text[3:6])
        offset = parse_offset(text[21:]) if len(text) > 21 else None
        try:
            if month is None or text[17] != ":" or (len(text) > 20 and text[20] != " "):
                return None
            if offset is None:
                return self.clock.naive(int(text[7:11]), month, int(text[:2]),
                                        int(text[12:14]), int(text[15:17]), 0)
            return self.clock.aware(int(text[7:11]), month, int(text[:2]), int(text[12:14]),
                                    int(text[15:17]), 0, offset)
        except ValueError:
            return None

    def exact(self, stamp: bytes) -> Optional[float]:
        """Epoch of a full stamp, seconds included."""
        base = self.minute(stamp)
        if base is None or not stamp[18:20].isdigit():
            return None
        return base + int(stamp[18:20])


class AccessLog(LogFormat):
    """nginx/Apache access log (combined or common); aggregated by ``access.AccessScanner``."""

    name = "access"
    priority = 100

    def probe(self, line: str) -> bool:
        return LINE.match(line) is not None


def request_time_layout(lines: List[str]) -> Optional[bool]:
    """Whether sample lines carry a request time: None if not, else whether it follows a
    quote (combined layout) rather than the size (common layout)."""
    timed = after_quote = total = 0
    for line in lines:
        match = LINE.match(line)
        if not match:
            continue
        total += 1
        record = AccessRecord(match.groups())
        if record.request_time() is not None:
            timed += 1
            after_quote += match.group(7) is not None
    if total == 0 or timed * 2 < total:
        return None
    return after_quote * 2 >= timed
