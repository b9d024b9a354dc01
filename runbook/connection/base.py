"""The one small connection protocol every transport implements.

``run`` is the only way a command reaches a host. Callers build the command line with
``shlex.quote`` for every value (see ``runbook.connection.shell``); a connection never
interpolates anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class CommandResult:
    """What one command did on one host."""

    host: str
    command: str
    exit_code: int
    stdout: str
    stderr: str
    duration: float
    #: bytes the command printed on stdout, when more than ``stdout`` kept (see BoundedOutput)
    stdout_total: int | None = None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


# What a run keeps of one command's stdout: its head (the part actions parse: JSON, listings)
# and its tail (where a failing command says why). A host printing gigabytes costs at most
# this much memory; the middle is counted and dropped as it arrives.
KEEP_HEAD_BYTES = 4 * 1024 * 1024
KEEP_TAIL_BYTES = 1024 * 1024
# Of stderr, a smaller head: its first MiB holds the PID line, sudo's prompt and the first errors.
KEEP_STDERR_HEAD_BYTES = 1024 * 1024


class BoundedOutput:
    """A sink for a command's output that keeps a bounded head and tail (see KEEP_HEAD_BYTES)."""

    def __init__(self, head: int = KEEP_HEAD_BYTES, tail: int = KEEP_TAIL_BYTES) -> None:
        self._limit, self._tail_limit = head, tail
        self._head = bytearray()
        self._tail = bytearray()
        self.total = 0

    @property
    def head(self) -> bytes | bytearray:
        """The first bytes kept (up to ``head``): where a prompt or a marker line is looked for."""
        return self._head

    def write(self, data: bytes) -> int:
        """Keep what fits in the head, then the latest bytes in the tail."""
        self.total += len(data)
        room = self._limit - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        if data:
            self._tail += data
            if len(self._tail) > 2 * self._tail_limit:  # trimmed in batches: amortised O(1)
                del self._tail[:-self._tail_limit]
        return len(data)

    def text(self) -> str:
        """The output kept, with how much of the middle was dropped (once: the buffers go)."""
        tail = self._tail[-self._tail_limit:].decode("utf-8", "replace")
        dropped = self.total - len(self._head) - min(len(self._tail), self._tail_limit)
        head = self._head.decode("utf-8", "replace")
        self._head, self._tail = bytearray(), bytearray()  # a copy less at the peak
        if not dropped:
            return head + tail
        return f"{head}\n[... {dropped} bytes of output not kept ...]\n{tail}"


class Connection(Protocol):
    """A connection to one host, opened once and reused for the whole run."""

    host: str
    #: True for the machine runbook runs on (no SSH): facts may come from psutil instead
    local: bool

    def open(self) -> None:
        """Connect (and authenticate). Raises ConnectError naming the failed layer."""

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None,
            check: bool = False, stdin: bytes | None = None) -> CommandResult:
        """Run a shell command line; raise CommandTimeout after ``timeout`` seconds
        (the remote process group is killed too) and CommandFailed if ``check`` and exit != 0."""

    def stream(self, command: str, sink: BinaryIO, *, sudo: bool = False,
               timeout: float | None = None, stdin: bytes | None = None) -> CommandResult:
        """Like ``run``, but stdout bytes go to ``sink`` as they arrive (result.stdout is empty)."""

    def cancel(self) -> None:
        """Kill every running command (remote process groups too) and start no new one;
        safe to call from another thread while a command runs."""

    def close(self) -> None:
        """Close the connection; safe to call twice."""
