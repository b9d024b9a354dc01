"""nginx and Apache error logs.

nginx:  ``2024/01/02 02:03:04 [error] 1234#1234: *5 connect() failed (111: ...) while ...``
Apache 2.4: ``[Tue Jan 02 02:03:04.123456 2024] [proxy:error] [pid 12:tid 34] [client ...] AH...``
Apache 2.2: ``[Tue Jan 02 02:03:04 2024] [error] [client 1.2.3.4] File does not exist: ...``

Both write local time without a zone, so times are naive (see ``clock``).
"""

from __future__ import annotations

import re
from typing import Optional

from ..clock import MONTHS
from .base import Event, LineFormat, ParseState, level_rank

_NGINX = re.compile(
    r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$")
_APACHE = re.compile(
    r"^\[\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4})\] "
    r"\[(?:[\w-]+:)?(\w+)\] (.*)$")
# Per-request decorations that only make templates differ: pid/tid, client, referer.
_APACHE_NOISE = re.compile(r"\[(?:pid|client|remote) [^\]]*\] ?|, referer: \S*$")
_NGINX_CONTEXT_NOISE = re.compile(r", (?:client|referrer|referer): \S+?(?=, |$)")


class NginxError(LineFormat):
    """nginx ``error_log`` lines."""

    name = "nginx-error"
    priority = 80

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        match = _NGINX.match(line)
        if not match:
            return None
        y, mo, d, h, mi, s, level, message = match.groups()
        try:
            ts = state.clock.naive(int(y), int(mo), int(d), int(h), int(mi), int(s))
        except (ValueError, OverflowError):
            return None
        return Event(ts, level_rank(level), _NGINX_CONTEXT_NOISE.sub("", message), line)


class ApacheError(LineFormat):
    """Apache httpd ``ErrorLog`` lines (2.2 and 2.4 layouts)."""

    name = "apache-error"
    priority = 80

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        match = _APACHE.match(line)
        if not match or match.group(1) not in MONTHS:
            return None
        mon, d, h, mi, s, frac, y, level, message = match.groups()
        second = int(s) + (int(frac[:6].ljust(6, "0")) / 1e6 if frac else 0.0)
        try:
            ts = state.clock.naive(int(y), MONTHS[mon], int(d), int(h), int(mi), second)
        except (ValueError, OverflowError):
            return None
        return Event(ts, level_rank(level), _APACHE_NOISE.sub("", message).strip(), line)
