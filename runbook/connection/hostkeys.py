"""Strict host-key checking against an OpenSSH known_hosts file.

Like OpenSSH's ``StrictHostKeyChecking=yes`` by default: an unknown key is refused, a changed
key is refused. With ``accept_new`` (OpenSSH's ``accept-new``) an unknown key is recorded and
accepted, a changed key is still refused.

A known_hosts file is parsed once per run and shared by every host of the run, under a lock:
the first connection parses it, the others wait for that parse instead of starting their own
(each started its own before, and a 50-host sweep with a 1,000-line known_hosts took 21 s
instead of 1.6 s). It is parsed into an index by host name, because Paramiko's ``HostKeys``
looks every name up by scanning every line (and its ``load`` does that once per line), which
is quadratic in the file's length. A key recorded with ``accept_new`` goes into the shared
index as well as the file, so recording 1,000 new hosts does not parse the file 1,000 times.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading
from dataclasses import dataclass, field

import paramiko
from paramiko.hostkeys import HostKeyEntry
from paramiko.util import constant_time_bytes_eq

from runbook.errors import HostKeyError

HASHED_PREFIX = "|1|"

_lock = threading.Lock()
_files: dict[str, "KnownHosts"] = {}


@dataclass
class KnownHosts:
    """One known_hosts file, indexed: plain names to their keys by type, hashed lines apart.

    ``stamp`` is the file's (mtime, size) when it was read, or the stamp of our own last
    append to it; another change (an operator editing the file mid-run) means a fresh parse.
    """

    stamp: tuple[int, int] | None
    by_name: dict[str, dict[str, list[paramiko.PKey]]] = field(default_factory=dict)
    hashed: list[HostKeyEntry] = field(default_factory=list)

    def add(self, names: list[str], key: paramiko.PKey) -> None:
        for name in names:
            if name.startswith(HASHED_PREFIX):
                self.hashed.append(HostKeyEntry([name], key))
            else:
                self.by_name.setdefault(name, {}).setdefault(key.get_name(), []).append(key)

    def lookup(self, name: str) -> dict[str, list[paramiko.PKey]]:
        """Every key recorded for ``name``, by key type (empty when it is not known)."""
        found = {kind: list(keys) for kind, keys in self.by_name.get(name, {}).items()}
        for entry in self.hashed:
            if constant_time_bytes_eq(paramiko.HostKeys.hash_host(name, entry.hostnames[0]),
                                      entry.hostnames[0]):
                found.setdefault(entry.key.get_name(), []).append(entry.key)
        return found


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


def _parse(path: str, stamp: tuple[int, int] | None) -> KnownHosts:
    parsed = KnownHosts(stamp)
    if stamp is None:
        return parsed
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                entry = HostKeyEntry.from_line(line, number)
            except paramiko.SSHException:
                continue  # a damaged line, as OpenSSH and Paramiko skip it
            if entry is not None:  # None: a key type or a marker (@revoked) we do not handle
                parsed.add(entry.hostnames, entry.key)
    return parsed


def load_known_hosts(path: str) -> KnownHosts:
    """The parsed known_hosts at ``path``, shared by all hosts of a run until the file changes."""
    stamp = _stamp(path)
    with _lock:
        cached = _files.get(path)
        if cached is None or cached.stamp != stamp:
            # Parsed while holding the lock: the other hosts wait for this one parse.
            cached = _files[path] = _parse(path, stamp)
        return cached


def known_hosts_name(address: str, port: int) -> str:
    """The name OpenSSH files a key under: ``host`` for port 22, else ``[host]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """``ssh-ed25519 SHA256:...``, as ``ssh-keygen -l`` shows it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return f"{key.get_name()} SHA256:{base64.b64encode(digest).decode().rstrip('=')}"


def verify_host_key(host: str, address: str, port: int, key: paramiko.PKey, known_hosts: str,
                    *, accept_new: bool) -> None:
    """Raise HostKeyError unless ``key`` is a known key for address:port."""
    name = known_hosts_name(address, port)
    try:
        keys = load_known_hosts(known_hosts).lookup(name)
    except OSError as exc:
        raise HostKeyError(host, f"cannot read known_hosts {known_hosts}: {exc}",
                           fingerprint=fingerprint(key), changed=False) from None
    recorded = keys.get(key.get_name())
    if recorded:
        if any(known == key for known in recorded):
            return
        raise HostKeyError(
            host, f"host key for {name} has CHANGED (offered {fingerprint(key)}, known "
            f"{fingerprint(recorded[0])} in {known_hosts}); refusing to connect. "
            "If the server was reinstalled, verify the new key and replace the old entry",
            fingerprint=fingerprint(key), changed=True)
    # A known host offering a key type we have no record of is treated as unknown, like OpenSSH
    # does when it can negotiate another algorithm -- but we only accept it with accept_new.
    if not accept_new:
        raise HostKeyError(
            host, f"host key for {name} is not known (offered {fingerprint(key)}, "
            f"known_hosts {known_hosts}); verify it and run with --accept-new-host-keys to record it",
            fingerprint=fingerprint(key), changed=False)
    _record(known_hosts, name, key)


def _record(path: str, name: str, key: paramiko.PKey) -> None:
    """Append ``name``'s key to the file (other runbook processes may append at the same time:
    flock) and to the shared index, unless another host of this run recorded it first."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    with _lock:
        cached = _files.get(path)
        if cached is not None and any(k == key for k in cached.lookup(name).get(key.get_name(), ())):
            return
        with open(path, "a", encoding="ascii") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            unchanged = cached is not None and cached.stamp == _stamp(path)
            fh.write(f"{name} {key.get_name()} {key.get_base64()}\n")
            fh.flush()
            os.fsync(fh.fileno())
        if cached is not None and unchanged:
            cached.add([name], key)
            cached.stamp = _stamp(path)
        else:
            _files.pop(path, None)  # someone else changed the file too: parse it afresh next time
