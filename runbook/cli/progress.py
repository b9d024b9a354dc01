"""Live lines while a step runs in a terminal: one per host at work, with how long it has been at
it, the bytes it has streamed (an archive) and what it waits for::

    web1   12s  Secure logs   34.2 MiB  running: tar -C /var/log -czf - nginx
    db1     3s  Secure logs             connecting

Only on a terminal (never for --json, a pipe or cron), drawn below the lines of finished hosts
and gone when the run ends. Each line is cut to the terminal's width at a word, with "…".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.text import Text

from runbook.task import HostActivity
from runbook.units import format_bytes, shorten

if TYPE_CHECKING:
    from rich.live import Live

REFRESH_PER_SECOND = 4


@dataclass
class _Busy:
    step: str
    since: float
    waiting: str = ""
    nbytes: int = 0


class LiveHosts(HostActivity):
    """The hosts at work now, drawn by Rich's Live display (see the module doc)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._busy: dict[str, _Busy] = {}
        self._lock = threading.Lock()
        self.live: Live | None = None  # the Rich Live drawing this, while it does

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No drawing while the operator is asked something (a redraw would eat the prompt)."""
        if self.live is None:
            yield
            return
        self.live.stop()
        try:
            yield
        finally:
            self.live.start()

    def started(self, host: str, step: str) -> None:
        with self._lock:
            self._busy[host] = _Busy(step, time.monotonic())

    def waiting(self, host: str, what: str) -> None:
        with self._lock:
            if host in self._busy:
                self._busy[host].waiting = what

    def transferred(self, host: str, nbytes: int) -> None:
        with self._lock:
            if host in self._busy:
                self._busy[host].nbytes += nbytes

    def finished(self, host: str) -> None:
        with self._lock:
            self._busy.pop(host, None)

    def lines(self, now: float | None = None) -> list[str]:
        """One line per busy host, in the order they started."""
        now = time.monotonic() if now is None else now
        with self._lock:
            busy = list(self._busy.items())
        width = max((len(h) for h, _ in busy), default=0)
        room = max(self._console.width - 1, 20)
        out = []
        for host, b in busy:
            size = format_bytes(b.nbytes) if b.nbytes else ""
            head = f"{host:<{width}}  {int(now - b.since):>4}s  {b.step}  {size:>10}  "
            # the columns stay aligned; only what it waits for (a long command) gives way
            out.append((head + shorten(b.waiting, room - len(head))).rstrip() if len(head) < room - 8
                       else shorten(head, room))
        return out

    def __rich__(self) -> Group:
        return Group(*(Text(line, style="dim") for line in self.lines()))


@contextmanager
def live_hosts(console: Console, *, enabled: bool) -> Iterator[LiveHosts | None]:
    """A ``LiveHosts`` drawn on ``console`` while the block runs; None when not ``enabled``
    or not a terminal."""
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.live import Live  # only for a terminal

    activity = LiveHosts(console)
    with Live(activity, console=console, refresh_per_second=REFRESH_PER_SECOND, transient=True) as live:
        activity.live = live
        try:
            yield activity
        finally:
            activity.live = None
