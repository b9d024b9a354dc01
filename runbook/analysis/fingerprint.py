"""Message templates ("fingerprints") and the bounded tables that count them.

``normalize_message`` replaces what varies between two occurrences of the same problem --
numbers, ids, UUIDs, hex, IP addresses, paths, quoted values, e-mail addresses -- with
placeholders, so "connect() to 10.0.0.7:8080 failed (111: ...)" and the same with
10.0.0.9:8081 become one template. ``normalize_url`` does the same for request paths
(``/api/orders/123?x=1`` -> ``/api/orders/<n>``) while keeping their shape readable.

Memory is bounded whatever the log size: ``CappedCounter`` and ``FingerprintTable`` keep at
most ``2 * cap`` keys; when full they drop the smaller half (ties broken by key, so the result
is deterministic) and remember how many counts were dropped. Heavy hitters -- what an on-call
engineer looks at -- survive; the long tail of one-off keys is what gets evicted.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

MAX_TEMPLATE = 300
MAX_EXAMPLE = 500

# Order matters: the specific shapes first, so a UUID is not eaten digit by digit.
_RULES = [
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
     "<uuid>"),
    (re.compile(r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"), "<ts>"),
    (re.compile(r"\b\d{1,2}:\d\d:\d\d(?:[.,]\d+)?\b"), "<time>"),  # before IPv6 eats it
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])"), "<ip>"),
    (re.compile(r"(?<![\w:])(?=[0-9a-fA-F:]*\d)(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}"
                r"(?![\w:])"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"), "<hex>"),
    (re.compile(r'"(?:[^"\\]|\\.)*"'), '"<q>"'),
    (re.compile(r"(?<![\w])'(?:[^'\\]|\\.)*'"), "'<q>'"),
    (re.compile(r"(?<![\w.~-])(?:/[\w.@%+~-]+){2,}/?"), "<path>"),
    # Digits glued to letters stay: AH01114, ORA-00942's "ORA", ssh2, tomcat10 name things.
    (re.compile(r"(?<!\w)\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
]

_URL_SEGMENT = [
    (re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
     "<uuid>"),
    (re.compile(r"^\d+$"), "<n>"),
    (re.compile(r"^(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}$"), "<hex>"),
    (re.compile(r"^(?=.*\d)[\w-]{20,}$"), "<id>"),
]


def normalize_message(message: str) -> str:
    """The template of a message: variable parts replaced, whitespace collapsed, cut at 300."""
    text = message
    for pattern, placeholder in _RULES:
        text = pattern.sub(placeholder, text)
    return text.strip()[:MAX_TEMPLATE]


#: the placeholders above (``<n>``, ``<q>``, ...), as a template shows them
PLACEHOLDER = re.compile("|".join(sorted({re.escape(name) for _, replacement in _RULES + _URL_SEGMENT
                                          for name in re.findall(r"<\w+>", replacement)})))


def elide_placeholders(template: str, mark: str = "\u2026") -> str:
    """A template as a person reads it: each placeholder an ellipsis (``role "<q>" does not
    exist`` -> ``role "…" does not exist``), never the value it stands for."""
    return PLACEHOLDER.sub(mark, template)


def normalize_url(target: str) -> str:
    """The template of a request target: query dropped, id-like path segments replaced."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    parts = path.split("/")
    for i, part in enumerate(parts):
        for pattern, placeholder in _URL_SEGMENT:
            if pattern.match(part):
                parts[i] = placeholder
                break
        else:
            if any(ch.isdigit() for ch in part):
                parts[i] = re.sub(r"\d+", "<n>", part)
    return "/".join(parts)[:MAX_TEMPLATE]


class CappedCounter:
    """A counter with at most ``2 * cap`` keys; evicts the smaller half when full.

    Keys are str or bytes (the access scanner counts raw bytes and decodes only the winners).
    """

    def __init__(self, cap: int = 5000) -> None:
        self.cap = cap
        self.counts: Dict[Any, int] = {}
        self.evicted = 0

    def add(self, key: Any, n: int = 1) -> None:
        counts = self.counts
        if key in counts:
            counts[key] += n
            return
        if len(counts) >= 2 * self.cap:
            self._evict()  # replaces self.counts
        self.counts[key] = n

    def _evict(self) -> None:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.evicted += sum(n for _, n in ranked[self.cap:])
        self.counts = dict(ranked[:self.cap])

    def top(self, n: int) -> List[Tuple[Any, int]]:
        """The ``n`` largest, ties by key."""
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


class FingerprintEntry:
    """Mutable accumulator for one template while a log set is read."""

    __slots__ = ("severity", "count", "first", "last", "example")

    def __init__(self, severity: int, first: Optional[float], example: str) -> None:
        self.severity = severity  # a rank: lower is worse
        self.count = 0
        self.first = first
        self.last = first
        self.example = example[:MAX_EXAMPLE]


class FingerprintTable:
    """Templates with count, worst severity, first/last seen and the first example."""

    def __init__(self, cap: int = 2000) -> None:
        self.cap = cap
        self.entries: Dict[str, FingerprintEntry] = {}
        self.evicted = 0

    def add(self, template: str, severity: int, when: Optional[float], example: str,
            n: int = 1) -> None:
        entry = self.entries.get(template)
        if entry is None:
            if len(self.entries) >= 2 * self.cap:
                self._evict()
            entry = self.entries[template] = FingerprintEntry(severity, when, example)
        entry.count += n
        if severity < entry.severity:
            entry.severity = severity
        if when is not None:
            if entry.first is None or when < entry.first:
                entry.first = when
            if entry.last is None or when > entry.last:
                entry.last = when

    def _evict(self) -> None:
        # Problems outrank chatter of the same count: keep by (count, severity, key).
        ranked = sorted(self.entries.items(),
                        key=lambda kv: (-kv[1].count, kv[1].severity, kv[0]))
        self.evicted += sum(e.count for _, e in ranked[self.cap:])
        self.entries = dict(ranked[:self.cap])


class TemplateSet:
    """The templates seen in a baseline window; only membership matters, so keys only."""

    def __init__(self, cap: int = 20000, seed: Iterable[str] = ()) -> None:
        self.cap = cap
        self.templates = set(seed)
        self.full = False

    def add(self, template: str) -> None:
        if len(self.templates) < self.cap:
            self.templates.add(template)
        else:
            # Past the cap a template may be reported "new" although the baseline had it;
            # the flag is recorded so the caller can say so.
            self.full = True

    def __contains__(self, template: object) -> bool:
        return template in self.templates
