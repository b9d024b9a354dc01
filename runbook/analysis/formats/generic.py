"""The fallback: "timestamp [level] message" in any of the spellings ``stamps`` knows.

The level is the first level word within the first 40 characters after the stamp (bare,
bracketed or followed by a colon); without one, the severity is guessed from the words.
Indented lines continue the previous event; anything else without a timestamp is garbage.
"""

from __future__ import annotations

import re
from typing import Optional

from .base import Event, LineFormat, ParseState, guess_severity, level_rank
from .stamps import time_and_rest

_LEVEL = re.compile(
    r"^[\s\[(<|-]*(?:\d+\s+)?[\[(<]?(EMERG(?:ENCY)?|ALERT|CRIT(?:ICAL)?|FATAL|PANIC|SEVERE|"
    r"ERROR|ERR|WARN(?:ING)?|NOTICE|NOTE|INFO|DEBUG|TRACE)[\])>]?:?(?=\s|$)", re.I)


class Generic(LineFormat):
    """Any "timestamp + level + message" log the specific formats do not claim."""

    name = "generic"
    priority = 0

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        found = time_and_rest(line, state)
        if found is None:
            return None
        ts, rest = found
        level = _LEVEL.match(rest)
        if level:
            message = rest[level.end():].strip()
            severity = level_rank(level.group(1))
        else:
            message = rest.strip()
            severity = guess_severity(message)
        return Event(ts, severity, message, line)

    def continues(self, line: str, event: Event) -> bool:
        return line[:1] in (" ", "\t")
