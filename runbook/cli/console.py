"""The two consoles every command writes to, sized for where the output goes."""

from __future__ import annotations

import os

from rich.console import Console

from runbook.cli.terminal import console

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
