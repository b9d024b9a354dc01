"""Building shell lines safely: every value goes through shlex.quote."""

from __future__ import annotations

import shlex
from collections.abc import Iterable


def quote(value: object) -> str:
    return shlex.quote(str(value))


def join(argv: Iterable[object]) -> str:
    """An argv list as one shell line, each word quoted."""
    return " ".join(quote(a) for a in argv)
