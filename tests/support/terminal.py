"""runbook in a real terminal: a pseudo-terminal of a given size, keys typed into it, and the
screen's bytes read back (what a person at the keyboard sees, colours and all)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.cli import REPO, cli_env

#: generous: a bound against a hang, not a performance target
WAIT = 60.0
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>()][0-9A-B]?|\r")


class Terminal:
    """``python -m runbook ARGS`` on its own pseudo-terminal (stdin, stdout and stderr)."""

    def __init__(self, *args: object, env: Mapping[str, str] | None = None, columns: int = 100, lines: int = 30,
                 cwd: Path = REPO) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        environment = {**cli_env(), "TERM": "xterm-256color", **(env or {})}
        for name in ("COLUMNS", "LINES", "NO_COLOR"):
            if not (env or {}).get(name):
                environment.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "runbook", *map(str, args)], cwd=cwd, env=environment,
                                     stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
        os.close(slave)
        self.fd = master
        self.raw = b""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the other side closed: the process ended
            return False
        self.raw += data
        return bool(data)

    @property
    def text(self) -> str:
        """The output without terminal control sequences."""
        return _ANSI.sub(b"", self.raw).decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = WAIT) -> str:
        """Read until ``pattern`` (a regular expression) appears in the text; the text."""
        end = time.monotonic() + timeout
        while not re.search(pattern, self.text):
            if time.monotonic() > end:
                raise AssertionError(f"{pattern!r} did not appear within {timeout}s; the screen:\n{self.text}")
            if not self._read(0.1) and self.proc.poll() is not None:
                raise AssertionError(f"runbook ended ({self.proc.returncode}) before {pattern!r}:\n{self.text}")
        return self.text

    def type(self, keys: str | bytes) -> None:
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def finish(self, timeout: float = WAIT) -> int:
        """Read to the end; the exit status."""
        end = time.monotonic() + timeout
        while self._read(0.1) or self.proc.poll() is None:
            if time.monotonic() > end:
                self.proc.kill()
                raise AssertionError(f"runbook did not end within {timeout}s:\n{self.text}")
        os.close(self.fd)
        return self.proc.wait()


def in_terminal(*args: object, keys: Sequence[tuple[str, str]] = (), **kwargs: object) -> tuple[int, Terminal]:
    """Run to the end, answering each (prompt pattern, keys) in order; (exit status, terminal)."""
    term = Terminal(*args, **kwargs)  # type: ignore[arg-type]
    for pattern, typed in keys:
        term.wait_for(pattern)
        term.type(typed)
    return term.finish(), term
