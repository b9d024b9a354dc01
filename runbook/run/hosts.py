"""The run's hosts across its steps: one connection each, which were found unreachable, and
what each registered for later steps.

A host's connection is opened when its first command needs it and closed as soon as the
host's last step is done, so a sweep of 1,000 hosts never holds more than about ``--forks``
connections open. Everything here is shared by the worker threads of a step, hence the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from runbook.connection import ConnectOptions, connect
from runbook.connection.base import Connection
from runbook.errors import ConnectError, RunbookError
from runbook.inventory.model import Host


class RunHosts:
    """Connections, unreachable hosts and registered results of one run."""

    def __init__(self, hosts: list[Host], options: ConnectOptions, *,
                 connector: Callable[[Host, ConnectOptions], Connection] = connect) -> None:
        self._options = options
        self._connector = connector
        self._conns: dict[str, Connection] = {}
        self._unreachable: dict[str, tuple[int, ConnectError]] = {}
        self._registered: dict[str, dict[str, Any]] = {h.name: {} for h in hosts}
        self._planned = False  # check mode: some step planned changes it did not make
        self._lock = threading.Lock()

    # -- connections ------------------------------------------------------------------------

    def connection(self, host: Host) -> Connection:
        """The host's connection, opened (raises ConnectError naming the failed layer)."""
        with self._lock:
            conn = self._conns.get(host.name)
            if conn is None:
                conn = self._connector(host, self._options)
                self._conns[host.name] = conn
        conn.open()
        return conn

    def release(self, name: str) -> None:
        """Close the host's connection: its last step is done (a later use would reconnect)."""
        with self._lock:
            conn = self._conns.pop(name, None)
        if conn is not None:
            _close(conn)

    def close_all(self) -> None:
        """Close every connection still open (the run is over)."""
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
        for conn in conns:
            _close(conn)

    def cancel_all(self) -> None:
        """Kill what runs on every open connection, each from its own thread (a signal handler
        must not wait for a slow host)."""
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            threading.Thread(target=conn.cancel, daemon=True).start()

    # -- what earlier steps found -------------------------------------------------------------

    def mark_unreachable(self, name: str, step: int, error: ConnectError) -> None:
        """Remember that ``name`` could not be reached in ``step`` (later steps skip it)."""
        with self._lock:
            self._unreachable[name] = (step, error)

    def unreachable(self, name: str) -> tuple[int, ConnectError] | None:
        """(step, error) of the latest step that found ``name`` unreachable, if any."""
        with self._lock:
            return self._unreachable.get(name)

    def note_planned(self) -> None:
        """Check mode: a step planned changes and, as check mode does, made none."""
        with self._lock:
            self._planned = True

    @property
    def planned(self) -> bool:
        """Check mode: an earlier step planned changes that were not made."""
        with self._lock:
            return self._planned

    def register(self, name: str, key: str, data: Mapping[str, Any]) -> None:
        """Keep a step's result data for the host's later steps (``register:``)."""
        with self._lock:
            self._registered[name][key] = dict(data)

    def registered(self, name: str) -> dict[str, Any]:
        """What the host's earlier steps registered, by name."""
        with self._lock:
            return dict(self._registered.get(name, {}))


def _close(conn: Connection) -> None:
    try:
        conn.close()
    except (OSError, RunbookError):
        pass  # closing a dead connection has nothing left to tell
