"""One action's view of one host in one step: its connection, vars and journal.

The engine makes one ``HostTask`` per host and step and hands it to the action, and through
the action to the domain code (a restart, a kill, an archive): everything that runs a command
on a host or writes to the run's journal takes a task, so every command lands in the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from runbook.connection.base import CommandResult, Connection
from runbook.errors import CommandFailed, CommandTimeout, ConnectError, Interrupted
from runbook.hostvars import HostVars
from runbook.inventory.model import Host, Inventory
from runbook.journal import Journal


class HostActivity:
    """What a host is doing right now, for a live display (``runbook.cli.progress``): which
    step it is in, what it waits for (connecting, a running command) and how many bytes it
    has streamed (an archive). This one shows nothing; the methods are called from the
    hosts' worker threads."""

    def started(self, host: str, step: str) -> None:
        """The host's turn in a step began."""

    def waiting(self, host: str, what: str) -> None:
        """The host now waits for ``what`` ("" when it waits for nothing in particular)."""

    def transferred(self, host: str, nbytes: int) -> None:
        """``nbytes`` more arrived from the host (an archive being streamed)."""

    def finished(self, host: str) -> None:
        """The host has its result for the step."""


NO_ACTIVITY = HostActivity()


class _CountingSink:
    """A sink that tells the activity how many bytes went through it."""

    def __init__(self, sink: BinaryIO, host: str, activity: HostActivity) -> None:
        self._sink, self._host, self._activity = sink, host, activity

    def write(self, data: bytes) -> int:
        self._activity.transferred(self._host, len(data))
        return self._sink.write(data)


class HostTask:
    """One action's view of one host in one step: its connection, vars and journal.

    Every command goes through ``run``/``stream`` so it lands in the journal with its exit
    code, duration and (truncated) output. ``vars`` are the step's: the host's vars and what
    earlier steps registered; ``vars.read(VAR)`` reads a declared host var (``runbook.hostvars``).
    """

    def __init__(self, *, host: Host, connect: Callable[[], Connection], journal: Journal, step: int,
                 vars: Mapping[str, Any], timeout: float, check: bool, clock: Callable[[], datetime],
                 inventory: Inventory | None = None, step_name: str = "", read_only: bool = False,
                 activity: HostActivity = NO_ACTIVITY) -> None:
        self.host = host
        self._connect = connect
        self._conn: Connection | None = None
        self.journal = journal
        self.step = step
        #: the playbook's name for the step, and whether the step says it only reads
        self.step_name = step_name
        self.read_only = read_only
        self.vars = HostVars.of(host, vars)
        self.timeout = timeout
        self.check = check
        self.clock = clock
        self.inventory = inventory
        self.activity = activity

    @property
    def conn(self) -> Connection:
        """The host's connection, opened on first use (raises ConnectError naming the layer)."""
        if self._conn is None:
            self.activity.waiting(self.host.name, "connecting")
            self._conn = self._connect()
            self.activity.waiting(self.host.name, "")
        return self._conn

    @property
    def logged_in(self) -> bool:
        """Whether this step has used the host's connection (run a command there)."""
        return self._conn is not None

    @property
    def artifacts_dir(self) -> Path:
        """This host's folder of the run's artifacts (archives, analyses), made on first use."""
        path = self.journal.artifacts_dir / self.host.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, command: str, *, sudo: bool | None = None, timeout: float | None = None,
            check: bool = False, stdin: bytes | None = None) -> CommandResult:
        """Run ``command`` on the host and journal it; ``check``: raise CommandFailed on exit != 0.
        ``sudo`` and ``timeout`` default to the host's and the step's."""
        sudo = self.host.sudo if sudo is None else sudo
        timeout = self.timeout if timeout is None else timeout
        conn = self.conn
        with self._recorded_if_cut_short(command), self._waiting_for(command):
            result = conn.run(command, sudo=sudo, timeout=timeout, stdin=stdin)
        self.journal.command(step=self.step, host=self.host.name, command=command, exit_code=result.exit_code,
                             duration=result.duration, stdout=result.stdout, stderr=result.stderr,
                             stdout_bytes=result.stdout_total)
        if check and not result.ok:
            raise CommandFailed(self.host.name, command, result.exit_code, result.stdout + result.stderr,
                                result.stderr)
        return result

    def stream(self, command: str, sink: BinaryIO, *, sudo: bool | None = None,
               timeout: float | None = None, stdin: bytes | None = None) -> CommandResult:
        """Like ``run``, with stdout streamed to ``sink`` as it arrives (the command is journalled, not its output)."""
        sudo = self.host.sudo if sudo is None else sudo
        timeout = self.timeout if timeout is None else timeout
        conn = self.conn
        with self._recorded_if_cut_short(command), self._waiting_for(command):
            result = conn.stream(command, _CountingSink(sink, self.host.name, self.activity), sudo=sudo,
                                 timeout=timeout, stdin=stdin)
        self.journal.command(step=self.step, host=self.host.name, command=command, exit_code=result.exit_code,
                             duration=result.duration, stdout="", stderr=result.stderr)
        return result

    @contextmanager
    def _waiting_for(self, command: str) -> Iterator[None]:
        self.activity.waiting(self.host.name, "running: " + " ".join(command.split())[:120])
        try:
            yield
        finally:
            self.activity.waiting(self.host.name, "")

    @contextmanager
    def _recorded_if_cut_short(self, command: str) -> Iterator[None]:
        """Journal a command that never came back: when a restart was cut short by Ctrl-C or a
        lost connection, that it was sent is what the next engineer most needs to know. (A
        command the interrupt stopped before it started is not journalled: it never ran.)"""
        started = time.monotonic()
        try:
            yield
        except (CommandTimeout, Interrupted, ConnectError) as exc:
            if not isinstance(exc, Interrupted) or exc.while_running:
                why = ("timeout" if isinstance(exc, CommandTimeout) else
                       "interrupted" if isinstance(exc, Interrupted) else "connection lost")
                self.journal.command(step=self.step, host=self.host.name, command=command, exit_code=None,
                                     duration=time.monotonic() - started, stdout="", stderr=str(exc),
                                     timed_out=isinstance(exc, CommandTimeout), cut_short=why)
            raise

    def evidence(self, phase: str, kind: str, data: Any) -> None:
        """Journal what the host looked like ``phase`` ("before"/"after") a change."""
        self.journal.write("evidence", step=self.step, host=self.host.name, phase=phase, kind=kind, data=data)

    def artifact(self, kind: str, path: Path, *, size: int, sha256: str, manifest: Any = None) -> None:
        """Journal a file this step wrote into the run's artifacts."""
        self.journal.write("artifact", step=self.step, host=self.host.name, kind=kind,
                           path=str(path.relative_to(self.journal.run_dir)), bytes=size, sha256=sha256,
                           manifest=manifest)
