"""Java application logs: Tomcat (JULI), Log4j, Logback, Spring Boot, java.util.logging.

A head line is a timestamp followed (soon) by a level word:

- Logback:     ``2024-01-02 03:04:05.678 [main] ERROR com.example.Shop - Order failed``
- Log4j:       ``2024-01-02 03:04:05,678 ERROR [main] com.example.Shop: Order failed``
- Spring Boot: ``2024-01-02T03:04:05.678+01:00 ERROR 42 --- [main] c.e.Shop : Order failed``
- Tomcat:      ``02-Jan-2024 03:04:05.678 SEVERE [main] org.apache.catalina... message``
- JUL:         ``Jan 02, 2024 3:04:05 AM org.example.Shop order`` + ``SEVERE: message``

Stack trace lines (``\\tat ...``, ``Caused by: ...``, ``... 12 more``, the exception line
itself) continue the event: a trace is ONE event. Its fingerprint is the head message plus
the exception and its root cause, so the same failure groups however deep the trace was.
"""

from __future__ import annotations

import re
from typing import List, Optional

from .base import INFO, Event, LineFormat, ParseState, level_rank
from .stamps import time_and_rest

_LEVEL = re.compile(
    r"(?<![\w.])(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE|CONFIG|FINE|FINER|FINEST)"
    r"(?![\w.])")
_LEAD_NOISE = re.compile(r"^[\s:|-]*(?:\d+\s+---\s+)?(?:\[[^\]]*\]\s*)?[\s:|-]*")
# An exception line: a dotted class name, or any class named ...Exception/Error/Throwable
# (classes in the default package, like Shop$OrderException, have no dot).
_CLASS = r"(?:[a-zA-Z_$][\w$]*(?:\.[\w$]+)+|[\w$]*(?:Exception|Error|Throwable)[\w$]*)"
_TRACE = re.compile(
    r"^(?:\s|\.\.\. \d+ |Caused by: |Suppressed: |Exception in thread |" + _CLASS +
    r"(?:: |:?$))")
_EXCEPTION = re.compile(r"^(?:Exception in thread \"[^\"]*\" )?(" + _CLASS + r")(?:: (.*)|:?$)")
_JUL_LEVEL = re.compile(r"^(SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST): (.*)$")


class JavaLog(LineFormat):
    """Java logs with multi-line stack traces."""

    name = "java"
    priority = 40

    def head(self, line: str, state: ParseState) -> Optional[Event]:
        found = time_and_rest(line, state, jul=True)
        if found is None:
            return None
        ts, rest = found
        level = _LEVEL.search(rest, 0, 80)
        if level is None:
            if rest[:1] == " " and line[:1].isalpha() and line[3:4] == " ":
                # java.util.logging: the level and message come on the next line.
                return Event(ts, INFO, rest.strip(), line, what="jul")
            return None
        message = _LEAD_NOISE.sub("", rest[level.end():], count=1)
        before = rest[:level.start()].strip()
        if before and not before.startswith("["):
            message = "%s %s" % (before, message)  # e.g. "%c %p %m" layouts: keep the logger
        return Event(ts, level_rank(level.group(1)), message.strip(), line)

    def continues(self, line: str, event: Event) -> bool:
        if event.what == "jul" and _JUL_LEVEL.match(line):
            return True
        return _TRACE.match(line) is not None

    def extend(self, event: Event, line: str, extra: List[str]) -> None:
        if event.what == "jul":
            match = _JUL_LEVEL.match(line)
            if match:
                event.severity = level_rank(match.group(1))
                event.message = "%s %s" % (event.message.split(" ")[0], match.group(2))
                event.what = ""
        if len(extra) < self.max_event_lines or line.lstrip().startswith("Caused by: "):
            extra.append(line)

    def finish(self, event: Event, extra: List[str]) -> Event:
        exception: Optional[str] = None
        root: Optional[str] = None
        for line in extra:
            stripped = line.strip()
            if stripped.startswith("Caused by: "):
                root = stripped[len("Caused by: "):]
            elif exception is None and _EXCEPTION.match(stripped) and \
                    not stripped.startswith("at "):
                exception = stripped
        if exception:
            event.message += " | " + exception
        if root and root != exception:
            event.message += " | caused by: " + root
        event.what = ""
        return super().finish(event, extra)
