"""``ManyHostsLab``: hundreds or thousands of SSH hosts from a few dozen sshd processes.

One sshd listens on up to 16 loopback addresses (OpenSSH's MAX_LISTEN_SOCKS), so 1,000 hosts
take 63 sshd processes and 5,000 take 313, not one each. To a client every address is its own
host: its own name in the inventory, its own known_hosts line, its own TCP connection and SSH
session. The hosts of one sshd share its host key and its root tree.

Addresses run consecutively from ``first`` (default 127.30.0.1), skipping ``.0`` and ``.255``
of every /24, and must stay inside 127.0.0.0/8. Several labs run on one machine at once: give
each its own ``first`` (127.31.0.1 for the next one, ...).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pwd
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.lab import inventory, processes, sshd
from tests.lab.lab import CLIENT_KEY, LabHost, start_or_stop
from tests.lab.processes import LabError

DEFAULT_FIRST = "127.30.0.1"
MAX_LISTEN = 16          # OpenSSH: "Too many listen sockets. Enlarge MAX_LISTEN_SOCKS" past it
START_TIMEOUT = 30.0
START_TIMEOUT_PER_SSHD = 0.5


@dataclass(frozen=True)
class SshdGroup:
    """One sshd process and the hosts (addresses) it serves."""

    name: str
    addresses: tuple[str, ...]
    hosts: tuple[str, ...]


def host_addresses(first: str, count: int) -> list[str]:
    """``count`` consecutive loopback addresses from ``first``, without .0 and .255."""
    try:
        current = ipaddress.IPv4Address(first)
    except ValueError:
        raise LabError(f"{first!r} is not an IPv4 address like 127.30.0.1") from None
    found: list[str] = []
    while len(found) < count:
        if not current.is_loopback:
            raise LabError(f"{count} hosts from {first} leave 127.0.0.0/8 at {current}")
        if current.packed[3] not in (0, 255):
            found.append(str(current))
        current += 1
    return found


def host_names(count: int) -> list[str]:
    """h0001..h1000 (as wide as the count needs, at least four digits)."""
    width = max(4, len(str(count)))
    return [f"h{i:0{width}d}" for i in range(1, count + 1)]


class ManyHostsLab:
    """``count`` real SSH hosts on consecutive loopback addresses, ``per_sshd`` per process.

    Like ``Lab``: every host accepts ``client_key`` for the current user and is listed in
    ``known_hosts``; ``write_inventory`` writes a runbook inventory of all of them. Start and
    stop it from the main thread (its processes die with the thread that started them).
    """

    def __init__(self, base_dir: Path, count: int, *, first: str = DEFAULT_FIRST, port: int = 2222,
                 per_sshd: int = MAX_LISTEN, fast_shell: bool = True) -> None:
        if count < 1:
            raise LabError("a lab needs at least one host")
        if not 1 <= per_sshd <= MAX_LISTEN:
            raise LabError(f"one sshd listens on 1 to {MAX_LISTEN} addresses, not {per_sshd}")
        if not 0 < port < 65536:
            raise LabError(f"port {port} is not a TCP port")
        self.base_dir = Path(base_dir).resolve()
        self.port = port
        self.fast_shell = fast_shell
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.client_key = self.base_dir / CLIENT_KEY
        self.known_hosts = self.base_dir / "known_hosts"
        addresses = host_addresses(first, count)
        names = host_names(count)
        self.address = dict(zip(names, addresses))
        self.groups = tuple(
            SshdGroup(f"g{i // per_sshd + 1:04d}", tuple(addresses[i:i + per_sshd]), tuple(names[i:i + per_sshd]))
            for i in range(0, count, per_sshd))
        self.hosts: dict[str, LabHost] = {}
        self._sshd: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def first(self) -> str:
        return next(iter(self.address.values()))

    @property
    def last(self) -> str:
        return next(reversed(self.address.values()))

    def files(self, group: str) -> sshd.HostFiles:
        """The files of one sshd (config, host key, pid file, log, root tree)."""
        return sshd.HostFiles(self.base_dir / "hosts" / group)

    def start(self) -> ManyHostsLab:
        """Start every sshd; return once each has sent its SSH banner. A failure stops the rest."""
        if self._sshd:
            raise LabError(f"the lab in {self.base_dir} is already running")
        start_or_stop(self._start, self.stop)
        return self

    def _start(self) -> None:
        processes.ensure_privsep_dir()
        for address in self.address.values():
            processes.ensure_free(address, self.port)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        files = {g.name: self.files(g.name) for g in self.groups}
        for f in files.values():
            f.dir.mkdir(parents=True, exist_ok=True)
        sshd.generate_keys([self.client_key, *(f.host_key for f in files.values())])
        client_public = sshd.read_public_key(self.client_key)
        for group in self.groups:
            f = files[group.name]
            f.create(client_public)
            f.config.write_text(sshd.render_config(f, group.addresses, self.port, host_key=f.host_key,
                                                   fast_shell=self.fast_shell))
            f.log.write_text("")
            self._sshd[group.name] = processes.spawn(sshd.sshd_argv(f), log=f.log)
        deadline = time.monotonic() + START_TIMEOUT + START_TIMEOUT_PER_SSHD * len(self.groups)
        self._wait_for_banners(deadline)
        lines = []
        for group in self.groups:
            f = files[group.name]
            public = sshd.read_public_key(f.host_key)
            for name, address in zip(group.hosts, group.addresses):
                self.hosts[name] = LabHost(name=name, address=address, port=self.port, root=f.root,
                                           host_key_pub=public, pid=self._sshd[group.name].pid)
                lines.append(sshd.known_hosts_line(address, self.port, public) + "\n")
        self.known_hosts.write_text("".join(lines))

    def _wait_for_banners(self, deadline: float) -> None:
        """sshd binds all its addresses before it accepts on any: the last one answering is enough."""
        def wait(group: SshdGroup) -> str | None:
            try:
                processes.wait_for_banner(group.name, group.addresses[-1], self.port, self._sshd[group.name],
                                          log=self.files(group.name).log, deadline=deadline)
            except LabError as exc:
                return str(exc)
            return None

        with ThreadPoolExecutor(max_workers=8) as pool:
            failures = [error for error in pool.map(wait, self.groups) if error]
        if failures:
            more = f"\n(and {len(failures) - 3} more sshd processes)" if len(failures) > 3 else ""
            raise LabError("\n".join(failures[:3]) + more)

    def stop(self) -> None:
        """Stop every sshd this lab started, with their sessions. Safe to call twice."""
        listeners = []
        for proc in self._sshd.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                listeners.append(psutil.Process(proc.pid))
        processes.stop_processes(listeners)
        for name, proc in self._sshd.items():
            proc.wait(timeout=10)
            self.files(name).pid_file.unlink(missing_ok=True)
        self._sshd.clear()
        self.hosts.clear()

    def write_inventory(self, path: Path, *, extra_vars: dict | None = None) -> Path:
        """A runbook inventory of every host of this lab (no unreachable extras)."""
        if not self.hosts:
            raise LabError("start the lab before writing its inventory")
        document = inventory.build_inventory(
            user=self.user, port=self.port, identity_file=self.client_key, known_hosts=self.known_hosts,
            hosts={h.name: (h.address, h.root) for h in self.hosts.values()},
            unreachable="", tarpit="", include_bad=False, extra_vars=extra_vars)
        return inventory.dump_inventory(document, Path(path))

    def ssh_argv(self, name: str) -> list[str]:
        """The OpenSSH client command line for ``name`` (see ``Lab.ssh_argv``)."""
        host = self.hosts[name]
        return sshd.client_argv(self.client_key, self.known_hosts, self.user, host.address, host.port)

    def __enter__(self) -> ManyHostsLab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
