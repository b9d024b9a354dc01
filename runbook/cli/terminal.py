"""The engineer's terminal: whatever came from a host or a file is shown as text.

A host's output, a log line, a playbook's name or a value from YAML may hold escape sequences
(an OSC sequence that retitles the terminal or writes its clipboard, a CSI that clears the
screen), bidirectional overrides that show a name reversed, or Rich markup (``[/bold]``,
``[link=...]``). None of it may act on the terminal. Two nets, so that one forgotten call
site cannot undo it:

- ``printable`` makes every control character visible (``\\x1b``, ``\\u202e``); the consoles
  runbook prints with (``runbook.cli.console``) apply it to every piece of text they write,
  while the colours and cursor moves Rich itself adds stay intact;
- those consoles show markup they cannot parse as the text it is instead of failing, and the
  call sites escape (``rich.markup.escape``) or pass ``Text`` for values that are not ours.
"""

from __future__ import annotations

import re

# C0 controls except newline and tab, DEL, C1 controls, zero-width and bidirectional
# formatting characters (U+061C, U+200B-U+200F, U+202A-U+202E, U+2060-U+2069, U+FEFF).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control and invisible formatting character written out (ESC is
    ``\\x1b``), newlines and tabs kept: safe to put on a terminal, still readable."""
    return _CONTROL.sub(_visible, text) if _CONTROL.search(text) else text


def one_line(text: str) -> str:
    """``printable`` on one line: newlines become " / " (an error message, a status line)."""
    return printable(" / ".join(part for part in text.splitlines() if part.strip()) or text.strip())


def escape(text: str) -> str:
    """Rich's ``markup.escape``, with Rich imported on first use: a command that prints only
    JSON or a monitoring line (``sweep --json``, ``--nagios``) loads no Rich at all."""
    from rich import markup
    return markup.escape(text)
