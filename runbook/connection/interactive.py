"""An interactive session: this terminal connected to a remote shell's pseudo-terminal.

The terminal is put in raw mode (every key goes to the remote side, Ctrl-C included, as with
``ssh``) and restored however the session ends; a window resize is passed on. The channel is
the one ``SSHConnection.open_shell`` returns; this module only moves bytes and so needs no
Paramiko of its own.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import termios
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

READ_CHUNK = 32768


class ShellChannel(Protocol):
    """What a session needs of a channel (a Paramiko ``Channel`` is one)."""

    def fileno(self) -> int: ...
    def recv(self, size: int) -> bytes: ...
    def sendall(self, data: bytes) -> None: ...
    def shutdown_write(self) -> None: ...
    def resize_pty(self, width: int, height: int) -> None: ...
    def exit_status_ready(self) -> bool: ...
    def recv_exit_status(self) -> int: ...
    def close(self) -> None: ...


def terminal_size() -> tuple[int, int]:
    """(columns, lines) of this terminal, 80x24 without one."""
    size = shutil.get_terminal_size((80, 24))
    return size.columns, size.lines


@contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """Raw mode on ``fd`` while the session runs (nothing to do when it is not a terminal)."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def run_session(chan: ShellChannel, stdin_fd: int = 0, stdout_fd: int = 1) -> int:
    """Move bytes both ways until the remote shell exits; its exit status."""
    def resized(signum: int, frame: Any) -> None:
        columns, lines = terminal_size()
        chan.resize_pty(width=columns, height=lines)

    previous = signal.signal(signal.SIGWINCH, resized)
    reading = [chan.fileno(), stdin_fd]
    try:
        with raw_terminal(stdin_fd):
            while True:
                ready, _, _ = select.select(reading, [], [], 0.5)  # two fds: select is fine here
                if chan.fileno() in ready:
                    data = chan.recv(READ_CHUNK)
                    if not data:
                        break
                    os.write(stdout_fd, data)
                if stdin_fd in ready:
                    data = os.read(stdin_fd, READ_CHUNK)
                    if data:
                        chan.sendall(data)
                    else:  # our input ended (a pipe): the remote shell reads to its end too
                        chan.shutdown_write()
                        reading.remove(stdin_fd)
                if not ready and chan.exit_status_ready():
                    break
        return chan.recv_exit_status()
    finally:
        signal.signal(signal.SIGWINCH, previous)
        chan.close()
