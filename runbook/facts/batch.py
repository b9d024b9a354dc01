"""Marker lines that cut one batched command's output into sections and parts.

Every marker carries a per-call random nonce, so nothing a command prints (a file name, a
process title, a mount point) can forge or end a section: it would have to guess the nonce.
Markers are printed with a leading newline, so they start a line even when the output before
them did not end with one; the parser removes exactly that newline again, so each part's text
is the command's output byte for byte.

Layout of one section (``N`` is the nonce)::

    @@runbook N begin NAME
    \\n@@runbook N part LABEL\\n   <- zero or more parts, each followed by its output
    \\n@@runbook N end NAME RC\\n
"""

from __future__ import annotations

import re
import secrets

PREFIX = "@@runbook"
_NONCE = re.compile(r"[0-9a-f]{8,64}")
# The markers' patterns take the nonce as a group, compared after the match: a pattern with the
# nonce written in would be compiled anew for every host (a nonce each), 0.5 ms per host.
# A marker's closing newline is looked at, not taken: a forged marker with another nonce right
# before a real one must not take the newline the real one starts with.
_PART = re.compile(rf"\n{PREFIX} ([0-9a-f]+) part ([a-z0-9_]+)(?=\n)")


def new_nonce() -> str:
    """A fresh random nonce: 16 hex digits, safe inside a shell word without quoting."""
    return secrets.token_hex(8)


def check_nonce(nonce: str) -> str:
    """The nonce itself, after making sure it is hex (it is pasted into printf formats)."""
    if not _NONCE.fullmatch(nonce):
        raise ValueError(f"nonce must be 8-64 lowercase hex digits, got {nonce!r}")
    return nonce


def part_marker(nonce: str, label: str) -> str:
    """Shell command printing the marker that starts part ``label`` of a section."""
    return f"printf '\\n{PREFIX} {check_nonce(nonce)} part {label}\\n'"


def split_parts(text: str, nonce: str) -> dict[str, str]:
    """Parts of one section's text by label; text before the first marker is dropped."""
    return marker_sections(_PART, text, nonce)


def marker_sections(pattern: re.Pattern[str], text: str, nonce: str) -> dict[str, str]:
    """The text after each marker of ``pattern`` that carries ``nonce`` (group 1), up to the next
    such marker, by the marker's label (group 2); a later label wins. The pattern looks at the
    marker's closing newline without taking it; markers with another nonce are text."""
    sections: dict[str, str] = {}
    label, start = None, 0
    for marker in pattern.finditer(text):
        if marker.group(1) != nonce:
            continue
        if label is not None:
            sections[label] = text[start:marker.start()]
        label, start = marker.group(2), marker.end() + 1
    if label is not None:
        sections[label] = text[start:]
    return sections
