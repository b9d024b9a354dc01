"""Byte sizes for people: parsing "5GiB" from the inventory and printing "1.2 GiB" in messages."""

from __future__ import annotations

import re

_BINARY = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
_DECIMAL = {"K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:([KMGTPkmgtp])(i?)([Bb]?)|([Bb]))\s*$")


def parse_size(text: str) -> int | None:
    """Bytes in "5GiB", "5G", "512 MiB", "100B" (binary: K = 1024) or "5GB", "5 kB" (SI:
    k = 1000, as disk vendors write it). None if ``text`` is not a size with a unit."""
    m = _SIZE.match(text)
    if not m:
        return None
    number = float(m.group(1))
    if m.group(5):
        return int(number)
    prefix = m.group(2).upper()
    decimal = m.group(4) and not m.group(3)      # "GB" but not "GiB" and not "G"
    return int(number * (_DECIMAL if decimal else _BINARY)[prefix])


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


def format_percent(value: float, thresholds: tuple[float | None, ...] = ()) -> str:
    """A percentage with no decimals, or with as many (up to two) as it takes for the shown
    number not to contradict a threshold verdict: 79.6 is shown "79.6%" next to an 80%
    threshold, never "80%" with status OK."""
    for digits in (0, 1, 2):
        shown = round(value, digits)
        if all((shown >= t) == (value >= t) for t in thresholds if t is not None):
            break
    return f"{shown:.{digits}f}%"
