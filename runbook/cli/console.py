"""The two consoles every command writes to, sized for where the output goes, and safe for
what they show (see ``runbook.cli.terminal``).

Rich is imported here, by the first command that prints with a console, not at every start:
``runbook sweep --json`` or ``--nagios`` from cron never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.errors import MarkupError
from rich.segment import Segment
from rich.text import Text

from runbook.cli.terminal import printable


class SafeConsole(Console):
    """A Rich console that writes no control character it did not make itself."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        # Rich's own cursor moves (progress bars, live displays) are control segments; every
        # other segment is text, and its styles are rendered around it after this.
        cleaned = (segment if segment.control else Segment(printable(segment.text), segment.style)
                   for segment in buffer)
        return super()._render_buffer(cleaned)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """Markup as usual; text whose brackets are not valid markup is shown as it is."""
        try:
            return super().render_str(text, **kwargs)
        except MarkupError:
            return super().render_str(text, **{**kwargs, "markup": False})


def console(*, stderr: bool = False, **kwargs: Any) -> Console:
    """The console every command prints with (NO_COLOR and non-terminals respected by Rich)."""
    return SafeConsole(stderr=stderr, **kwargs)


#: the width of output that goes to a pipe or a file: no hard wrap at Rich's default 80
#: columns, so `runbook runs list | grep` and a cron mail keep one line per line
PIPE_WIDTH = 10_000


def _console(*, stderr: bool) -> Console:
    shown = console(stderr=stderr)  # host and file text shown as text, never as markup or escapes
    if not shown.is_terminal and not os.environ.get("COLUMNS"):
        shown = console(stderr=stderr, width=PIPE_WIDTH)
    return shown


def console_pair() -> tuple[Console, Console]:
    """stdout and stderr consoles: a terminal's width on a terminal, no wrapping elsewhere."""
    return _console(stderr=False), _console(stderr=True)
