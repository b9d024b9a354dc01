"""Sizes and durations: one rule for the whole code base, so "5G" means the same thing in a
threshold, a step param and a rotation option.

Sizes (``parse_size``), in bytes:

- a bare number is bytes: ``512``, ``"512"``, ``"512B"``;
- ``kB``, ``MB``, ``GB``, ``TB``, ``PB`` are powers of 10, as ``df -H`` and disk vendors count:
  ``"5GB"`` is 5,000,000,000;
- ``KiB``, ``MiB``, ``GiB``, ``TiB``, ``PiB`` are powers of 2, as ``df -h`` counts:
  ``"5GiB"`` is 5,368,709,120;
- a prefix letter alone (``"5K"``, ``"5M"``, ``"5G"``) is a power of 2 as well: that is how
  ``df -h``, ``du -h`` and ``ls -h`` print sizes, and how logrotate reads ``size 100M``.

The unit's case does not matter (``5gib``), a space may sit before it, the number may have a
fraction (``1.5T``); the result is whole bytes.

Durations (``parse_duration``), in seconds: a bare number is seconds; otherwise days, hours,
minutes and seconds in this order, each optional: ``30s``, ``5m``, ``1h30m``, ``2d``,
``1d 12h``, ``1.5h``. ``m`` is always minutes, never months.

Anything else raises ValueError with one line saying what was expected; callers turn it into a
ConfigError naming file, line and field. How sizes are printed is ``format_bytes``: binary
units, about three significant digits, as ``df -h`` shows them.
"""

from __future__ import annotations

import re
from typing import Any

_BINARY = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_DECIMAL = {"k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])(i?)(b?)|(b))?\s*$", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*\d+(?:\.\d+)?\s*$")
_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*d)?\s*(?:(\d+(?:\.\d+)?)\s*h)?\s*(?:(\d+(?:\.\d+)?)\s*m)?"
                       r"\s*(?:(\d+(?:\.\d+)?)\s*s)?\s*$")


def parse_size(value: Any) -> int:
    """Bytes in ``value``: a number of bytes, or a number with a unit (see the module's rule:
    GB = 10^9, GiB = G = 2^30). Raises ValueError for anything else, a negative number included."""
    number = _number(value, "size", "500MiB, 2G, 10GB")
    if number is not None:
        return int(number)
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"not a size: {value!r} (use e.g. 500MiB, 2G, 10GB)")
    number, prefix, binary, byte, bare_byte = match.groups()
    if prefix is None:
        return int(float(number))
    decimal = bool(byte) and not binary          # "GB", but neither "GiB" nor "G"
    return int(float(number) * (_DECIMAL if decimal else _BINARY)[prefix.lower()])


def parse_duration(value: Any) -> float:
    """Seconds in ``value``: a number of seconds, or ``1d2h3m4s`` with any of the parts (see the
    module's rule). Raises ValueError for anything else, a negative number included."""
    number = _number(value, "duration", "30s, 5m, 1h30m")
    if number is not None:
        return number
    if _NUMBER.match(str(value)):
        return float(value)
    match = _DURATION.match(str(value)) if str(value).strip() else None
    if not match or not any(match.groups()):
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 1h30m)")
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def _number(value: Any, what: str, examples: str) -> float | None:
    """A plain number (int or float, not negative) as it is; None for text; ValueError for
    anything else (YAML's yes/no are bools, which Python counts as numbers)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a {what}: {value!r} (use e.g. {examples})")
    if not isinstance(value, (int, float)):
        return None
    if value < 0:
        raise ValueError(f"a {what} cannot be negative: {value!r}")
    return float(value)


def format_bytes(n: float) -> str:
    """Binary units, about three significant digits: 17 B, 1.2 GiB, 12.3 GiB, 123 GiB."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    return f"{value:.1f} {unit}" if abs(value) < 100 else f"{value:.0f} {unit}"


ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters: unchanged when it fits, else cut at a word and
    ended with "…" (a word longer than a third of the width is cut where it must be)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:max(width, 0)]
    head = text[:width - 1]
    space = head.rfind(" ")
    if space >= width // 3:
        head = head[:space]
    return head.rstrip(" ,;:-") + ELLIPSIS
