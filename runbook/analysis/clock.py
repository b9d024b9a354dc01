"""Turning the many timestamp spellings of log files into epoch seconds (UTC).

Logs that carry an offset (nginx ``+0100``, ISO ``Z``/``+01:00``, PostgreSQL ``CET``) are
exact. Naive ones (nginx error log, syslog, Java, MySQL 5.x) are read in ``naive_tz``: the
machine's local zone by default, or a fixed offset such as ``+01:00``. That choice is written
into the result (``Analysis.naive_tz``) because analysing an archived copy elsewhere must use
the server's zone to give the same answer.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime, timezone
from typing import Dict, Optional, Tuple

MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}

# Zone abbreviations PostgreSQL and friends print. Only unambiguous ones: IST, for one,
# means India or Ireland, so it is left out and such times are read as naive.
ZONE_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 3600, "BST": 3600, "CET": 3600,
    "CEST": 7200, "MET": 3600, "MEST": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800,
    "EST": -18000, "EDT": -14400, "CST": -21600, "CDT": -18000, "MST": -25200,
    "MDT": -21600, "PST": -28800, "PDT": -25200, "JST": 32400, "AEST": 36000,
}

_OFFSET = re.compile(r"^([+-])(\d\d):?(\d\d)$")
ISO_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|[+-]\d\d(?::?\d\d)?|[A-Z]{2,5})?$")


def parse_offset(text: str) -> Optional[int]:
    """``+0100``, ``+01:00``, ``-05``, ``Z`` or a known abbreviation -> seconds east of UTC."""
    if text in ZONE_ABBREVIATIONS:
        return ZONE_ABBREVIATIONS[text]
    if len(text) == 3 and text[0] in "+-" and text[1:].isdigit():
        text += "00"
    match = _OFFSET.match(text)
    if not match:
        return None
    seconds = int(match.group(2)) * 3600 + int(match.group(3)) * 60
    return -seconds if match.group(1) == "-" else seconds


def fraction(digits: Optional[str]) -> float:
    """``"123"`` (the digits after the decimal point) -> 0.123; microseconds at most."""
    if not digits:
        return 0.0
    return int(digits[:6].ljust(6, "0")) / 1e6


class Clock:
    """Converts wall-clock fields to epoch seconds, caching per minute (logs repeat minutes).

    ``naive_tz`` None means the local zone of the machine running the analysis (with its DST
    rules); otherwise a fixed offset like ``"+02:00"`` or ``"UTC"``.
    """

    def __init__(self, naive_tz: Optional[str] = None) -> None:
        self._fixed: Optional[int] = None
        if naive_tz is not None:
            self._fixed = parse_offset(naive_tz)
            if self._fixed is None:
                raise ValueError("unknown time zone offset %r (use +HH:MM or UTC)" % naive_tz)
        self._naive_cache: Dict[Tuple[int, int, int, int, int], float] = {}

    def describe(self) -> str:
        """How naive times are read, for the result: ``+01:00`` or ``local:CET/CEST``."""
        if self._fixed is None:
            return "local:" + "/".join(time.tzname)
        sign = "-" if self._fixed < 0 else "+"
        minutes = abs(self._fixed) // 60
        return "%s%02d:%02d" % (sign, minutes // 60, minutes % 60)

    def naive(self, year: int, month: int, day: int, hour: int, minute: int,
              second: float) -> float:
        """Epoch seconds of a wall-clock time without zone; ValueError if it is no date."""
        key = (year, month, day, hour, minute)
        base = self._naive_cache.get(key)
        if base is None:
            datetime(year, month, day, hour, minute)  # validates; raises ValueError
            if self._fixed is None:
                base = time.mktime((year, month, day, hour, minute, 0, 0, 0, -1))
            else:
                base = calendar.timegm((year, month, day, hour, minute, 0)) - self._fixed
            if len(self._naive_cache) > 100000:  # a month of minutes; never grows unbounded
                self._naive_cache.clear()
            self._naive_cache[key] = float(base)
        return base + second

    def aware(self, year: int, month: int, day: int, hour: int, minute: int, second: float,
              offset: int) -> float:
        """Epoch seconds of a wall-clock time at ``offset`` seconds east of UTC."""
        if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60):
            raise ValueError("no such time")
        return calendar.timegm((year, month, day, hour, minute, 0)) - offset + second

    def at(self, year: int, month: int, day: int, hour: int, minute: int, second: float,
           zone: Optional[str]) -> float:
        """Aware when ``zone`` names a known offset, naive otherwise."""
        if zone:
            offset = parse_offset(zone)
            if offset is not None:
                return self.aware(year, month, day, hour, minute, second, offset)
        return self.naive(year, month, day, hour, minute, second)

    def iso(self, text: str) -> Optional[float]:
        """An ISO-8601-like time (``2024-01-02 03:04:05,678 +0100`` too) -> epoch, or None."""
        match = ISO_TIME.match(text.strip())
        if not match:
            return None
        y, mo, d, h, mi, s, frac, zone = match.groups()
        try:
            return self.at(int(y), int(mo), int(d), int(h), int(mi),
                           int(s or 0) + fraction(frac), zone)
        except (ValueError, OverflowError):
            return None

    def without_year(self, month: int, day: int, hour: int, minute: int, second: float,
                     reference: float) -> float:
        """A syslog-style time without year: the latest year that does not put it after
        ``reference`` (the file's mtime) by more than a day. A file written from December
        into January thus gets December of the previous year and January of this one."""
        year = time.gmtime(reference).tm_year + 1
        for candidate in range(year, year - 9, -1):  # 8 years back reaches a Feb 29
            try:
                epoch = self.naive(candidate, month, day, hour, minute, second)
            except (ValueError, OverflowError):
                continue
            if epoch <= reference + 86400:
                return epoch
        raise ValueError("no year fits")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHIFT = re.compile(r"^(.+?)([+-])(\d+(?:\.\d+)?)([smhd])$")


def parse_user_time(text: str, clock: Clock, now: Optional[float] = None) -> float:
    """A --since/--until value: ISO time (naive = ``clock``'s zone), ``now``, ``-30m`` style
    relative to ``now`` (units s, m, h, d), or a time shifted by such an amount:
    ``2026-11-25T02:14:00+01:00-30m`` is 01:44 (+01:00), "30 minutes before the fault"."""
    text = text.strip()
    now = time.time() if now is None else now
    if text == "now":
        return now
    rel = re.match(r"^-(\d+(?:\.\d+)?)([smhd])$", text)
    if rel:
        return now - float(rel.group(1)) * _UNITS[rel.group(2)]
    shifted = _SHIFT.match(text)
    if shifted and shifted.group(1).strip() != "now":
        anchor = clock.iso(shifted.group(1).strip())
        if anchor is not None:
            sign = 1 if shifted.group(2) == "+" else -1
            return anchor + sign * float(shifted.group(3)) * _UNITS[shifted.group(4)]
    elif shifted:
        sign = 1 if shifted.group(2) == "+" else -1
        return now + sign * float(shifted.group(3)) * _UNITS[shifted.group(4)]
    epoch = clock.iso(text)
    if epoch is None:
        raise ValueError("not a time: %r (use ISO 8601, 'now', e.g. -30m, or a time shifted "
                         "like 2026-11-25T02:14:00+01:00-30m)" % text)
    return epoch


def utc(epoch: float) -> datetime:
    """Epoch seconds -> aware UTC datetime."""
    return datetime.fromtimestamp(epoch, timezone.utc)
