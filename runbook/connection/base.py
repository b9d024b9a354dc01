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

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


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
