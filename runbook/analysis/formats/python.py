"""Python application logs: gunicorn's error log and Python ``logging`` with tracebacks.

A head line is one of

- gunicorn:        ``[2024-01-02 03:04:05 +0100] [4243] [ERROR] Error handling request GET /x``
- logging cookbook: ``2024-01-02 03:04:05,678 - shop.orders - ERROR - checkout failed``
  (``%(asctime)s - %(name)s - %(levelname)s - %(message)s``, the layout Python's logging
  documentation shows first)

A traceback continues the event, blank lines and chained exceptions included: a traceback is
ONE event. Its fingerprint is the head message plus the exception that was raised last, and
its root cause (the first exception of the chain) where that differs, so the same failure
groups however deep the stack was. Other layouts of ``logging`` (``time LEVEL name: msg``)
look like Log4j and are read by the ``java`` format.
"""

from __future__ import annotations

import re
from typing import List, Optional

from ..fingerprint import MAX_EXAMPLE
from .base import Event, LineFormat, ParseState, level_rank
from .stamps import time_and_rest

_GUNICORN = re.compile(r"^ \[\d+\] \[([A-Z]+)\] ?(.*)$")
_COOKBOOK = re.compile(r"^ - (\S+) - ([A-Z]+) - (.*)$")
_TRACEBACK = "Traceback (most recent call last):"
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")
# The exception line ends a traceback: "KeyError: 'x'", "pkg.mod.ShopError: ...", "SystemExit".
_EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?::\s|:?$)")


class PythonLog(LineFormat):
    """gunicorn and Python ``logging`` logs with multi-line tracebacks."""

    name = "python"
    priority = 45  # a gunicorn line also has a time and a level word, which java would take

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        found = time_and_rest(line, state)
        if found is None:
            return None
        ts, rest = found
        if line[:1] == "[":
            match = _GUNICORN.match(rest)
            if match:
                return Event(ts, level_rank(match.group(1)), match.group(2).strip(), line)
            return None
        match = _COOKBOOK.match(rest)
        if match:
            logger, level, message = match.groups()
            return Event(ts, level_rank(level), "%s: %s" % (logger, message.strip()), line)
        return None

    def continues(self, line: str, event: Event) -> bool:
        if line.startswith(_TRACEBACK) or line[:1] in (" ", "\t"):
            return True
        # Outside a traceback a bare word is garbage, not an exception line.
        return event.what == "traceback" and (line.startswith(_CHAINED) or
                                              _EXCEPTION.match(line) is not None)

    def extend(self, event: Event, line: str, extra: List[str]) -> None:
        if line.startswith(_TRACEBACK):
            event.what = "traceback"
        # Frames are capped; the lines that say which exceptions were raised are always kept.
        if len(extra) < self.max_event_lines or line[:1] not in (" ", "\t"):
            extra.append(line)

    def finish(self, event: Event, extra: List[str]) -> Event:
        raised = [line.strip() for line in extra
                  if line[:1] not in (" ", "\t") and not line.startswith((_TRACEBACK,) + _CHAINED)]
        if raised:
            event.message += " | " + raised[-1]
            if raised[0] != raised[-1]:
                event.message += " | caused by: " + raised[0]
        event.what = ""
        return super().finish(event, _tail(extra))


def _tail(extra: List[str], budget: int = MAX_EXAMPLE // 2) -> List[str]:
    """A Python traceback says the most at its end (the application's frame, the exception),
    and a fingerprint's example keeps only its first characters: so a long traceback is
    shortened from the top, keeping the frames nearest to the error."""
    start, size = len(extra), 0
    while start > 1 and size + len(extra[start - 1]) + 1 <= budget:
        start -= 1
        size += len(extra[start]) + 1
    start = min(start, len(extra) - 1)  # the exception line at least, however long
    return extra if start <= 1 else extra[:1] + ["  ..."] + extra[start:]
