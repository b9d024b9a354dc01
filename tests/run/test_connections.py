"""A host's connection lives from its first command to the end of its last step, and no longer:
a sweep over many hosts never holds more than ``--forks`` SSH connections open.

The connections are the real Paramiko ones to the lab's sshd hosts; the test only wraps them to
see when each is opened and closed, and counts this process's TCP connections to the lab's
sshd ports (psutil) at every open, so it checks sockets, not bookkeeping.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, BinaryIO

import psutil

from runbook.connection import ConnectOptions, connect
from runbook.connection.base import CommandResult, Connection
from runbook.inventory import load_inventory
from runbook.inventory.model import Host
from runbook.journal import read_events
from runbook.paths import Paths
from runbook.playbook import load_playbook
from runbook.run.options import RunOptions
from runbook.run.start import plan_hosts, start_run
from tests.lab import Lab


LAB_HOSTS = ("web1", "app1", "db1", "spare1")


class Recorder:
    """Every open and close of the run's connections, in order, with the sshd sockets this
    process held open at each open."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.events: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()

    def sockets(self) -> int:
        """Established TCP connections from this process to a lab sshd."""
        addresses = {(h.address, h.port) for h in self.lab.hosts.values()}
        return sum(1 for c in psutil.Process().net_connections(kind="tcp")
                   if c.status == psutil.CONN_ESTABLISHED and c.raddr and (c.raddr.ip, c.raddr.port) in addresses)

    def note(self, what: str, host: str) -> None:
        with self.lock:
            self.events.append((what, host, self.sockets()))

    def connector(self, host: Host, options: ConnectOptions) -> Connection:
        return Watched(connect(host, options), self)


class Watched:
    """A real connection, reporting when it is opened (first time) and closed."""

    def __init__(self, inner: Connection, recorder: Recorder) -> None:
        self.inner = inner
        self.recorder = recorder
        self.host = inner.host
        self.local = inner.local
        self.opened = False

    def open(self) -> None:
        self.inner.open()
        if not self.opened:
            self.opened = True
            self.recorder.note("open", self.host)

    def run(self, command: str, **kw: Any) -> CommandResult:
        return self.inner.run(command, **kw)

    def stream(self, command: str, sink: BinaryIO, **kw: Any) -> CommandResult:
        return self.inner.stream(command, sink, **kw)

    def cancel(self) -> None:
        self.inner.cancel()

    def close(self) -> None:
        self.inner.close()
        if self.opened:
            self.opened = False
            self.recorder.note("close", self.host)


def run(lab: Lab, tmp_path: Path, steps: str, forks: int) -> tuple[Recorder, list[dict[str, Any]]]:
    inventory = load_inventory([lab.write_inventory(tmp_path / "inventory.yml")])
    book = load_playbook(tmp_path / "playbook.yml", text=f"name: connections\nsteps:\n{steps}")
    hosts = plan_hosts(inventory, book, ",".join(LAB_HOSTS))
    recorder = Recorder(lab)
    engine = start_run(inventory, hosts, book, Paths(tmp_path, tmp_path / "runs"), RunOptions(forks=forks),
                       connector=recorder.connector)
    result = engine.run()
    assert result.status == "completed", result
    return recorder, read_events(engine.journal.path)


STEP = "  - {{name: {name}, action: command, params: {{cmd: 'sleep 0.2; echo {name}'}}}}\n"


def test_a_one_step_run_holds_at_most_forks_connections(lab: Lab, tmp_path: Path) -> None:
    recorder, events = run(lab, tmp_path, STEP.format(name="uptime"), forks=2)

    opened = [host for what, host, _ in recorder.events if what == "open"]
    assert sorted(opened) == sorted(LAB_HOSTS)          # one connection per host
    open_now = peak = 0
    for what, host, sockets in recorder.events:
        open_now += 1 if what == "open" else -1
        peak = max(peak, open_now)
        if what == "open":
            assert sockets <= 2, recorder.events          # the real sockets, too
    assert peak <= 2, recorder.events
    # Each host's connection is closed once it has its result (so the peak stayed at 2).
    ended = {e["host"] for e in events if e["event"] == "host.end"}
    assert {host for what, host, _ in recorder.events if what == "close"} == ended


def test_a_longer_run_keeps_one_connection_per_host_until_its_last_step(lab: Lab, tmp_path: Path) -> None:
    recorder, events = run(lab, tmp_path, STEP.format(name="first") + STEP.format(name="last"), forks=4)

    kinds = [what for what, _, _ in recorder.events]
    assert kinds == ["open"] * 4 + ["close"] * 4, recorder.events      # opened once, for both steps
    last_ends = {e["host"] for e in events if e["event"] == "host.end" and e["step"] == 1}
    assert {host for what, host, _ in recorder.events if what == "close"} == last_ends
    assert recorder.sockets() == 0
