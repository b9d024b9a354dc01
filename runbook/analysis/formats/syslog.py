"""Syslog in its file spellings: RFC 3164, RFC 5424 and ISO-stamped (journalctl short-iso).

- ``syslog`` (RFC 3164, rsyslog's traditional file format):
  ``Jan  2 02:03:04 web1 sshd[123]: Failed password for ...`` -- no year and no zone: the year
  is inferred from the file's mtime (see ``Clock.without_year``), the zone is ``naive_tz``.
- ``rfc5424``: ``<34>1 2024-01-02T02:03:04.003Z web1 sshd 123 - - message``; severity from PRI.
- ``journal``: ``journalctl -o short-iso`` (and rsyslog's ISO file format):
  ``2024-01-02T02:03:04+0100 web1 sshd[123]: message``; ``-- Boot ... --`` markers skipped.

Without PRI there is no level, so severity is guessed from the words (``guess_severity``).
The fingerprinted message is ``tag: message`` with the pid dropped.
"""

from __future__ import annotations

import re
from typing import Optional

from ..clock import MONTHS
from .base import Event, LineFormat, ParseState, guess_severity

_RFC3164 = re.compile(
    r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2}) ([ \d]?\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)? (\S+) (.*)$")
_RFC5424 = re.compile(
    r"^(?:<(\d{1,3})>)?1 (\S+) (\S+) (\S+) (\S+) (\S+) "
    r"(-|(?:\[(?:[^\]\"\\]|\\.|\"(?:[^\"\\]|\\.)*\")*\])+)(?: (.*))?$")
_ISO = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)) (\S+) (.*)$")
_TAG = re.compile(r"^([^\s\[:]+)(?:\[\d+\])?: ?(.*)$", re.S)


def split_tag(text: str) -> str:
    """``sshd[123]: msg`` -> ``sshd: msg`` (the pid would make every template unique)."""
    match = _TAG.match(text)
    if match:
        return "%s: %s" % match.groups()
    return text


class Rfc3164(LineFormat):
    """BSD syslog lines as rsyslog/syslog-ng write them to /var/log/syslog or messages."""

    name = "syslog"
    priority = 50

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        match = _RFC3164.match(line)
        if not match or match.group(2) not in MONTHS:
            return None
        pri, mon, d, h, mi, s, _host, text = match.groups()
        try:
            ts = state.clock.without_year(MONTHS[mon], int(d), int(h), int(mi), int(s),
                                          state.reference)
        except (ValueError, OverflowError):
            return None
        message = split_tag(text)
        severity = int(pri) % 8 if pri else guess_severity(message)
        return Event(ts, severity, message, line)


class Rfc5424(LineFormat):
    """RFC 5424 lines (rsyslog's RSYSLOG_SyslogProtocol23Format and similar)."""

    name = "rfc5424"
    priority = 70

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        match = _RFC5424.match(line)
        if not match:
            return None
        pri, stamp, _host, app, _procid, msgid, _sd, text = match.groups()
        ts = None
        if stamp != "-":
            ts = state.clock.iso(stamp)
            if ts is None:
                return None
        text = (text or "").lstrip("\ufeff").strip()
        message = "%s: %s" % (app, text) if app != "-" else text
        if msgid != "-":
            message = "%s %s" % (msgid, message)
        severity = int(pri) % 8 if pri else guess_severity(text)
        return Event(ts, severity, message, line)


class Journal(LineFormat):
    """``journalctl -o short-iso`` / ``short-iso-precise`` output."""

    name = "journal"
    priority = 60

    def ignorable(self, line: str) -> bool:
        # "-- Boot 1a2b... --", "-- No entries --", "-- Logs begin at ... --"
        return line.startswith("-- ") and line.rstrip().endswith("--")

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        match = _ISO.match(line)
        if not match:
            return None
        stamp, _host, text = match.groups()
        ts = state.clock.iso(stamp)
        if ts is None:
            return None
        message = split_tag(text)
        return Event(ts, guess_severity(message), message, line)
