"""The local connection: the machine runbook itself runs on, no SSH involved.

Commands run through ``/bin/sh -c`` in their own process group, so a timeout kills the
whole tree the command started, as the SSH connection does on the remote side.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import replace
from typing import BinaryIO, cast

from runbook.connection.base import KEEP_STDERR_HEAD_BYTES, KEEP_TAIL_BYTES, BoundedOutput, CommandResult
from runbook.connection.shell import quote
from runbook.errors import CommandFailed, CommandTimeout, Interrupted, LocalWriteError

_KILL_GRACE = 2.0


class LocalConnection:
    """Runs commands on this machine."""

    local = True

    def __init__(self, host: str = "localhost", *, sudo_password: str | None = None) -> None:
        self.host = host
        self._sudo_password = sudo_password
        self._procs: set[subprocess.Popen] = set()
        self._cancelled = False

    def open(self) -> None:  # nothing to connect
        return None

    def _sudo_prefix(self, sudo: bool) -> tuple[str, bytes | None]:
        if not sudo or os.geteuid() == 0:
            return "", None
        if self._sudo_password is None or _sudo_needs_no_password():
            return "sudo -n ", None
        return "sudo -S -p '' ", (self._sudo_password + "\n").encode()

    def _spawn(self, command: str, sudo: bool, stdout: int | BinaryIO,
               stdin: bytes | None) -> tuple[subprocess.Popen, bytes | None]:
        if self._cancelled:
            raise Interrupted(f"{self.host}: run interrupted")
        prefix, password = self._sudo_prefix(sudo)
        line = f"{prefix}/bin/sh -c {quote(command)}" if prefix else command
        proc = subprocess.Popen(["/bin/sh", "-c", line], stdin=subprocess.PIPE,
                                stdout=stdout, stderr=subprocess.PIPE, start_new_session=True)
        self._procs.add(proc)
        data = (password or b"") + (stdin or b"")
        return proc, data

    def run(self, command: str, *, sudo: bool = False, timeout: float | None = None,
            check: bool = False, stdin: bytes | None = None) -> CommandResult:
        started = time.monotonic()
        out = BoundedOutput()  # a command printing gigabytes must not take as much memory
        result = replace(self._pump(command, cast(BinaryIO, out), sudo, timeout, stdin, started), stdout=out.text(),
                         stdout_total=out.total)
        if check and not result.ok:
            raise CommandFailed(self.host, command, result.exit_code, result.stdout + result.stderr, result.stderr)
        return result

    def stream(self, command: str, sink: BinaryIO, *, sudo: bool = False,
               timeout: float | None = None, stdin: bytes | None = None) -> CommandResult:
        return self._pump(command, sink, sudo, timeout, stdin, time.monotonic())

    def _pump(self, command: str, sink: BinaryIO, sudo: bool, timeout: float | None,
              stdin: bytes | None, started: float) -> CommandResult:
        """Run ``command`` with its stdout into ``sink``: written there by the command itself
        when the sink is a file, else copied into it as it arrives (an archive writer); threads
        feed stdin and drain stderr, bounded as over SSH, so that no pipe fills up."""
        direct = _has_fileno(sink)
        proc, data = self._spawn(command, sudo, sink if direct else subprocess.PIPE, stdin)
        err = BoundedOutput(head=KEEP_STDERR_HEAD_BYTES, tail=KEEP_TAIL_BYTES)
        timed_out = threading.Event()

        def feed() -> None:
            try:
                proc.stdin.write(data or b"")  # type: ignore[union-attr]
                proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass  # the command exited without reading all of it; its exit code tells

        def expire() -> None:
            timed_out.set()
            _kill_group(proc)

        def drain() -> None:
            while chunk := proc.stderr.read1(1 << 20):  # type: ignore[union-attr]
                err.write(chunk)

        helpers = [threading.Thread(target=feed, daemon=True), threading.Thread(target=drain, daemon=True)]
        timer = threading.Timer(timeout, expire) if timeout else None
        for thread in helpers:
            thread.start()
        if timer:
            timer.start()
        try:
            while not direct and (chunk := proc.stdout.read1(1 << 20)):  # type: ignore[union-attr]
                try:
                    sink.write(chunk)
                except OSError as exc:  # this machine's disk (an archive), not the command
                    _kill_group(proc)
                    raise LocalWriteError("the local copy of the output", exc.strerror or str(exc)) from None
            proc.wait()
        finally:
            if timer:
                timer.cancel()
            for thread in helpers:
                thread.join(timeout=5)
            self._procs.discard(proc)
        if timed_out.is_set():
            raise CommandTimeout(self.host, command, timeout or 0)
        if self._cancelled:
            raise Interrupted(f"{self.host}: command interrupted: {command[:200]}", while_running=True)
        return CommandResult(self.host, command, proc.returncode, "", err.text(), time.monotonic() - started)

    def cancel(self) -> None:
        """Stop running commands (SIGINT/SIGTERM of the run); start no new ones."""
        self._cancelled = True
        for proc in list(self._procs):
            _kill_group(proc)

    def close(self) -> None:
        return None


def _has_fileno(sink: object) -> bool:
    try:
        sink.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _sudo_needs_no_password() -> bool:
    """Whether sudo runs without a password now (NOPASSWD, or credentials it still caches).

    Then the password must not be sent: sudo would not read it, and it would become the
    first line of the command's input. (The SSH connection watches for sudo's prompt
    instead; here a probe costs a few milliseconds and no round trip.)
    """
    try:
        return subprocess.run(["sudo", "-n", "true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _kill_group(proc: subprocess.Popen) -> None:
    """TERM the command's process group, KILL what is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, _KILL_GRACE), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue
