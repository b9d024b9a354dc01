"""Strict host-key checking against an OpenSSH known_hosts file.

Like OpenSSH's ``StrictHostKeyChecking=yes`` by default: an unknown key is refused, a changed
key is refused. With ``accept_new`` (OpenSSH's ``accept-new``) an unknown key is recorded and
accepted, a changed key is still refused.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading

import paramiko

from runbook.errors import HostKeyError

_append_lock = threading.Lock()
_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int], paramiko.HostKeys]] = {}


def _load(path: str) -> paramiko.HostKeys:
    """The parsed known_hosts, shared by all hosts of a run until the file changes
    (parsing it once per host cost a 50-host sweep 50 parses of 50 lines)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return paramiko.HostKeys()
    stamp = (st.st_mtime_ns, st.st_size)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    keys = paramiko.HostKeys()
    keys.load(path)
    with _cache_lock:
        _cache[path] = (stamp, keys)
    return keys


def known_hosts_name(address: str, port: int) -> str:
    """The name OpenSSH files a key under: ``host`` for port 22, else ``[host]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return f"{key.get_name()} SHA256:{base64.b64encode(digest).decode().rstrip('=')}"


def verify_host_key(host: str, address: str, port: int, key: paramiko.PKey, known_hosts: str,
                    *, accept_new: bool) -> None:
    """Raise HostKeyError unless ``key`` is the known key for address:port."""
    name = known_hosts_name(address, port)
    try:
        keys = _load(known_hosts)
    except (OSError, paramiko.SSHException) as exc:
        raise HostKeyError(host, f"cannot read known_hosts {known_hosts}: {exc}",
                           fingerprint=fingerprint(key), changed=False) from None
    entry = keys.lookup(name)
    if entry is not None:
        if key.get_name() in entry:
            if entry[key.get_name()] == key:
                return
            raise HostKeyError(
                host, f"host key for {name} has CHANGED (offered {fingerprint(key)}, known "
                f"{fingerprint(entry[key.get_name()])} in {known_hosts}); refusing to connect. "
                "If the server was reinstalled, verify the new key and replace the old entry",
                fingerprint=fingerprint(key), changed=True)
        # A known host offering a key type we have no record of is treated as unknown, like OpenSSH
        # does when it can negotiate another algorithm -- but we only accept it with accept_new.
    if not accept_new:
        raise HostKeyError(
            host, f"host key for {name} is not known (offered {fingerprint(key)}, "
            f"known_hosts {known_hosts}); verify it and run with --accept-new-host-keys to record it",
            fingerprint=fingerprint(key), changed=False)
    _append(known_hosts, f"{name} {key.get_name()} {key.get_base64()}\n")


def _append(path: str, line: str) -> None:
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    with _append_lock, open(path, "a", encoding="ascii") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # other runbook processes may record keys at the same time
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())
