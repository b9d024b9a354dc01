"""``Lab``: a set of real OpenSSH sshd hosts on loopback addresses, plus two bad addresses."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import pwd
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from tests.lab import inventory, processes, sshd
from tests.lab.processes import LabError

DEFAULT_HOSTS = ("web1", "app1", "db1", "spare1")
UNREACHABLE_OCTET = 250
TARPIT_OCTET = 251
TARPIT_SCRIPT = Path(__file__).with_name("tarpit.py").resolve()
CLIENT_KEY = "client_ed25519"
# sshd needs a few ms to answer; the allowance per host covers a loaded 2-core CI machine.
START_TIMEOUT = 10.0
START_TIMEOUT_PER_HOST = 0.2
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class LabHost:
    """One running lab host: where its sshd listens and where its files are."""

    name: str
    address: str
    port: int
    root: Path
    host_key_pub: str
    pid: int


class Lab:
    """Real sshd processes on ``<subnet>.1``, ``<subnet>.2``, ... (one per host name).

    Every host accepts ``client_key`` for ``user`` (the current user) and is listed in
    ``known_hosts``. ``unreachable`` (``<subnet>.250``) refuses connections; ``tarpit``
    (``<subnet>.251``) accepts TCP and never sends a byte. Start and stop a lab from the same
    long-lived thread (the main thread): its processes die with the thread that started them.
    """

    def __init__(self, base_dir: Path, hosts: Sequence[str] = DEFAULT_HOSTS, *,
                 subnet: str = "127.0.10", port: int = 2222, fast_shell: bool = True,
                 sshd_options: Sequence[str] = ()) -> None:
        _check_names(hosts)
        _check_subnet(subnet)
        if not 0 < port < 65536:
            raise LabError(f"port {port} is not a TCP port")
        self.base_dir = Path(base_dir).resolve()
        self.subnet = subnet
        self.port = port
        self.fast_shell = fast_shell
        #: more sshd_config lines for every host (a test's MaxAuthTries 2, ...)
        self.sshd_options = tuple(sshd_options)
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.client_key = self.base_dir / CLIENT_KEY
        self.known_hosts = self.base_dir / "known_hosts"
        self.unreachable = (f"{subnet}.{UNREACHABLE_OCTET}", port)
        self.tarpit = (f"{subnet}.{TARPIT_OCTET}", port)
        self.hosts: dict[str, LabHost] = {}
        self._names = tuple(hosts)
        self._sshd: dict[str, subprocess.Popen[bytes]] = {}
        self._tarpit: subprocess.Popen[bytes] | None = None
        self._replaced_keys: dict[str, int] = {}

    # -- where things are -------------------------------------------------------------------

    def address_of(self, name: str) -> str:
        """The loopback address of a host of this lab, running or not."""
        return f"{self.subnet}.{self._names.index(name) + 1}"

    def files(self, name: str) -> sshd.HostFiles:
        """The sshd files of one host (config, keys, pid file, log, root tree)."""
        return sshd.HostFiles(self.base_dir / "hosts" / name)

    @property
    def tarpit_pid_file(self) -> Path:
        return self.base_dir / "tarpit.pid"

    @property
    def tarpit_log(self) -> Path:
        return self.base_dir / "tarpit.log"

    # -- start and stop ---------------------------------------------------------------------

    def start(self) -> Lab:
        """Start every sshd and the tarpit; return once each sshd has sent its SSH banner.

        Raises LabError (naming the host, with the tail of its sshd log) if one fails; what
        was already started is stopped again first.
        """
        if self._sshd or self._tarpit:
            raise LabError(f"the lab in {self.base_dir} is already running")
        start_or_stop(self._start, self.stop)
        return self

    def _start(self) -> None:
        processes.ensure_privsep_dir()
        addresses = {name: self.address_of(name) for name in self._names}
        for address in [*addresses.values(), self.tarpit[0]]:
            processes.ensure_free(address, self.port)
        processes.ensure_refused(*self.unreachable)

        self.base_dir.mkdir(parents=True, exist_ok=True)
        host_files = {name: self.files(name) for name in self._names}
        for files in host_files.values():
            files.dir.mkdir(parents=True, exist_ok=True)
        sshd.generate_keys([self.client_key, *(f.host_key for f in host_files.values())])
        client_public = sshd.read_public_key(self.client_key)

        for name, files in host_files.items():
            files.create(client_public)
            files.config.write_text(sshd.render_config(
                files, addresses[name], self.port, host_key=files.host_key,
                fast_shell=self.fast_shell, options=self.sshd_options))
            files.log.write_text("")
            self._sshd[name] = processes.spawn(sshd.sshd_argv(files), log=files.log)
        tarpit = self._start_tarpit()

        deadline = time.monotonic() + START_TIMEOUT + START_TIMEOUT_PER_HOST * len(self._names)
        self._wait_for_banners(list(self._names), deadline)
        processes.wait_for_listener("tarpit", *self.tarpit, tarpit, log=self.tarpit_log,
                                    deadline=deadline)
        for name, files in host_files.items():
            self.hosts[name] = LabHost(
                name=name, address=addresses[name], port=self.port, root=files.root,
                host_key_pub=sshd.read_public_key(files.host_key), pid=self._sshd[name].pid)
        self.known_hosts.write_text("".join(
            sshd.known_hosts_line(h.address, h.port, h.host_key_pub) + "\n"
            for h in self.hosts.values()))

    def _start_tarpit(self) -> subprocess.Popen[bytes]:
        self.tarpit_log.write_text("")
        argv = [sys.executable, str(TARPIT_SCRIPT), self.tarpit[0], str(self.tarpit[1])]
        self._tarpit = processes.spawn(argv, log=self.tarpit_log)
        self.tarpit_pid_file.write_text(f"{self._tarpit.pid}\n")
        return self._tarpit

    def _wait_for_banners(self, names: list[str], deadline: float) -> None:
        """Wait for all hosts at once; report every host that failed, not just the first."""
        def wait(name: str) -> str | None:
            files = self.files(name)
            try:
                processes.wait_for_banner(name, self.address_of(name), self.port,
                                          self._sshd[name], log=files.log, deadline=deadline)
            except LabError as exc:
                return str(exc)
            return None

        # Threads only wait on sockets; every process was started by the calling thread.
        with ThreadPoolExecutor(max_workers=min(8, len(names)) or 1) as pool:
            failures = [error for error in pool.map(wait, names) if error]
        if failures:
            more = f"\n(and {len(failures) - 3} more hosts)" if len(failures) > 3 else ""
            raise LabError("\n".join(failures[:3]) + more)

    def stop(self) -> None:
        """Stop every process this lab started (sshd hosts, their sessions, the tarpit).

        Safe to call twice, and after a failed start.
        """
        started: list[subprocess.Popen[bytes]] = list(self._sshd.values())
        if self._tarpit is not None:
            started.append(self._tarpit)
        listeners = []
        for proc in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                listeners.append(psutil.Process(proc.pid))
        processes.stop_processes(listeners)
        for proc in started:
            # Reap our own children so no zombie outlives the lab.
            proc.wait(timeout=10)
        # Only our own pid files: a start refused because another lab runs in the same
        # directory must not erase that lab's.
        for name in self._sshd:
            self.files(name).pid_file.unlink(missing_ok=True)
        if self._tarpit is not None:
            self.tarpit_pid_file.unlink(missing_ok=True)
        self._sshd.clear()
        self._tarpit = None
        self.hosts.clear()

    # -- host keys ----------------------------------------------------------------------------

    def replace_host_key(self, name: str) -> str:
        """Give ``name`` a new host key and restart its sshd on the same address and port.

        ``known_hosts`` is not updated, so clients checking strictly must now refuse the
        host. Returns the new public key ("ssh-ed25519 AAAA...").
        """
        self._require(name)
        generation = self._replaced_keys.get(name, 0) + 1
        key = self.files(name).dir / f"{sshd.HOST_KEY}.{generation}"
        sshd.generate_keys([key])
        self._replaced_keys[name] = generation
        return self._restart(name, key)

    def restore_host_key(self, name: str) -> str:
        """Undo ``replace_host_key``: restart ``name`` with its original key (in known_hosts)."""
        self._require(name)
        return self._restart(name, self.files(name).host_key)

    def _restart(self, name: str, host_key: Path) -> str:
        files = self.files(name)
        old = self._sshd.pop(name)
        with contextlib.suppress(psutil.NoSuchProcess):
            processes.stop_processes([psutil.Process(old.pid)])
        old.wait(timeout=10)
        address = self.address_of(name)
        processes.ensure_free(address, self.port)
        files.config.write_text(sshd.render_config(
            files, address, self.port, host_key=host_key, fast_shell=self.fast_shell, options=self.sshd_options))
        self._sshd[name] = processes.spawn(sshd.sshd_argv(files), log=files.log)
        processes.wait_for_banner(name, address, self.port, self._sshd[name], log=files.log,
                                  deadline=time.monotonic() + START_TIMEOUT)
        public = sshd.read_public_key(host_key)
        self.hosts[name] = dataclasses.replace(self.hosts[name], host_key_pub=public,
                                               pid=self._sshd[name].pid)
        return public

    # -- for clients ----------------------------------------------------------------------------

    def ssh_argv(self, name: str) -> list[str]:
        """The OpenSSH client command line for ``name``; append the remote command.

        ``-F none`` and ``IdentitiesOnly`` keep the caller's ~/.ssh/config and ssh-agent out
        of it (a ControlMaster there would, for one, hide a changed host key).
        """
        host = self._require(name)
        return sshd.client_argv(self.client_key, self.known_hosts, self.user, host.address, host.port)

    def write_inventory(self, path: Path, *, include_bad: bool = True,
                        extra_vars: Mapping[str, Any] | None = None) -> Path:
        """Write a runbook inventory YAML for this lab to ``path`` and return ``path``.

        ``include_bad`` adds ``down1`` (unreachable) and ``tarpit1``; ``extra_vars`` go into
        ``defaults.vars``. Every running host carries ``vars.lab_root``, its root tree.
        """
        if not self.hosts:
            raise LabError("start the lab before writing its inventory")
        document = inventory.build_inventory(
            user=self.user, port=self.port, identity_file=self.client_key,
            known_hosts=self.known_hosts,
            hosts={h.name: (h.address, h.root) for h in self.hosts.values()},
            unreachable=self.unreachable[0], tarpit=self.tarpit[0],
            include_bad=include_bad, extra_vars=extra_vars)
        return inventory.dump_inventory(document, Path(path))

    def _require(self, name: str) -> LabHost:
        try:
            return self.hosts[name]
        except KeyError:
            raise LabError(f"no running lab host {name!r} (hosts: "
                           f"{', '.join(self.hosts) or 'none, the lab is stopped'})") from None

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_or_stop(start: Callable[[], None], stop: Callable[[], None]) -> None:
    """``start()``; if it fails, ``stop()`` what it started, also on KeyboardInterrupt/SIGTERM:
    never leave a half-started lab behind."""
    try:
        start()
    except BaseException:
        stop()
        raise


def _check_names(names: Sequence[str]) -> None:
    if isinstance(names, str):
        raise LabError("hosts must be a sequence of names, not one string")
    if not names:
        raise LabError("a lab needs at least one host")
    if len(names) >= UNREACHABLE_OCTET:
        raise LabError(f"at most {UNREACHABLE_OCTET - 1} hosts fit below .{UNREACHABLE_OCTET}")
    if len(set(names)) != len(names):
        raise LabError(f"host names repeat: {list(names)}")
    for name in names:
        if not HOST_NAME.fullmatch(name) or name in (inventory.DOWN_HOST, inventory.TARPIT_HOST):
            raise LabError(f"{name!r} cannot be a lab host name")


def side_lab(base_dir: Path, hosts: Sequence[str], offset: int, sshd_options: Sequence[str]) -> Lab:
    """A lab of a test's own, ``offset`` subnets above this run's (RUNBOOK_LAB_SUBNET, default
    127.0.10), for sshd settings the shared lab must not have (MaxAuthTries 2, other ciphers)."""
    third = int(os.environ.get("RUNBOOK_LAB_SUBNET", "127.0.10").split(".")[2])
    return Lab(base_dir, hosts, subnet=f"127.0.{third + offset}", sshd_options=sshd_options)


def _check_subnet(subnet: str) -> None:
    """The lab must only ever touch 127.0.0.0/8: nothing here may reach a real network."""
    try:
        first = ipaddress.IPv4Address(f"{subnet}.1")
    except ValueError:
        raise LabError(f"subnet {subnet!r} is not three octets like 127.0.10") from None
    if subnet.count(".") != 2 or not first.is_loopback:
        raise LabError(f"subnet {subnet!r} is not inside 127.0.0.0/8")
