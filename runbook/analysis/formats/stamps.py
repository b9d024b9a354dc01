"""Timestamps at the start of a line, in the spellings application logs use.

Shared by the Java and generic formats: each recogniser returns the epoch and where the stamp
ends, so the caller can look for a level word right after it.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from ..clock import MONTHS, fraction
from .base import ParseState

# 2024-01-02 03:04:05,678 / 2024-01-02T03:04:05.678+01:00 / [2024-01-02 03:04:05] / 2024/01/02
_ISO = re.compile(
    r"^\[?(\d{4})[-/](\d\d)[-/](\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    r" ?(Z|[+-]\d\d:?\d\d|UTC|GMT)?\]?(?=\s|$)")
# Tomcat JULI OneLineFormatter: 02-Jan-2024 03:04:05.678
_TOMCAT = re.compile(
    r"^(\d\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?=\s)")
# java.util.logging SimpleFormatter: Jan 02, 2024 3:04:05 AM
_JUL = re.compile(r"^([A-Z][a-z]{2}) (\d\d?), (\d{4}) (\d\d?):(\d\d):(\d\d) ([AP]M)(?=\s)")
# syslog-like without year: Jan  2 03:04:05
_BSD = re.compile(r"^([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?(?=\s)")
# nginx/Apache access-style: [02/Jan/2024:03:04:05 +0100]
_CLF = re.compile(r"^\[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")


def leading_time(line: str, state: ParseState, jul: bool = False
                 ) -> Optional[Tuple[float, int]]:
    """(epoch, index after the stamp) if ``line`` starts with a known timestamp."""
    clock = state.clock
    try:
        match = _ISO.match(line)
        if match:
            y, mo, d, h, mi, s, frac, zone = match.groups()
            return (clock.at(int(y), int(mo), int(d), int(h), int(mi), int(s) + fraction(frac),
                             zone), match.end())
        match = _TOMCAT.match(line)
        if match and match.group(2) in MONTHS:
            d, mon, y, h, mi, s, frac = match.groups()
            return (clock.naive(int(y), MONTHS[mon], int(d), int(h), int(mi),
                                int(s) + fraction(frac)), match.end())
        match = _JUL.match(line) if jul else None
        if match and match.group(1) in MONTHS:
            mon, d, y, h, mi, s, half = match.groups()
            hour = int(h) % 12 + (12 if half == "PM" else 0)
            return (clock.naive(int(y), MONTHS[mon], int(d), hour, int(mi), int(s)),
                    match.end())
        match = _CLF.match(line)
        if match and match.group(2) in MONTHS:
            d, mon, y, h, mi, s, zone = match.groups()
            return (clock.at(int(y), MONTHS[mon], int(d), int(h), int(mi), int(s), zone),
                    match.end())
        match = _BSD.match(line)
        if match and match.group(1) in MONTHS:
            mon, d, h, mi, s, frac = match.groups()
            return (clock.without_year(MONTHS[mon], int(d), int(h), int(mi),
                                       int(s) + fraction(frac), state.reference), match.end())
    except (ValueError, OverflowError):
        return None
    return None


def time_and_rest(line: str, state: ParseState, jul: bool = False
                  ) -> Optional[Tuple[float, str]]:
    """(epoch, the rest of the line after the stamp) if ``line`` starts with a known timestamp."""
    found = leading_time(line, state, jul)
    return None if found is None else (found[0], line[found[1]:])
