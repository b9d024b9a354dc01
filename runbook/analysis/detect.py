"""Which format is this? Decided from the first lines, by vote.

Every format probes every sample line; the format recognising the most lines wins, and on a
tie the more specific one (higher ``priority``: access before PostgreSQL before Java before
generic) -- a PostgreSQL line is also a fine "timestamp + level" line, but not vice versa.
"""

from __future__ import annotations

from typing import Iterable, List

from .formats import FORMATS

SAMPLE = 50


def detect_format(lines: Iterable[str]) -> str:
    """The canonical format name for sample lines; ``generic`` when nothing fits."""
    sample: List[str] = []
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        line = line.rstrip("\r\n")
        if line.strip():
            sample.append(line)
        if len(sample) >= SAMPLE:
            break
    best, best_key = "generic", (0, 0)
    for name, cls in FORMATS.items():
        parser = cls()
        hits = sum(1 for line in sample if parser.probe(line))
        key = (hits, cls.priority)
        if hits and key > best_key:
            best, best_key = name, key
    return best
