"""The ports fact: listening TCP sockets and, where visible, the process behind each.

Over SSH: ``ss -tlnp`` (iproute2, any version), else ``netstat -tlnp`` (net-tools), else the
kernel's own tables /proc/net/tcp and /proc/net/tcp6, which every Linux has (busybox systems
often have neither ss nor a netstat with ``-p``). The process is only visible to root or to
its owner; otherwise ``pid`` and ``process`` are None.
"""

from __future__ import annotations

import re
import socket
from dataclasses import asdict, dataclass
from typing import Any

NAME = "ports"
_LISTEN_HEX = "0A"      # TCP_LISTEN in /proc/net/tcp


@dataclass(frozen=True)
class ListeningPort:
    """One listening TCP socket.

    address: local address without brackets or scope ("0.0.0.0", "::", "127.0.0.1"), or "*"
             where the tool prints it for "any address"
    port:    local port
    family:  "ipv4", "ipv6", or "any" for "*"
    pid:     the owning process (the lowest pid when several share the socket, e.g. nginx
             master and workers), None when not visible
    process: that process's name, None when not visible
    """

    address: str
    port: int
    family: str
    pid: int | None = None
    process: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def shell(nonce: str) -> str:
    """The fact's part of the batched command."""
    return ("ss -tlnp 2>/dev/null || netstat -tlnp 2>/dev/null"
            " || cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")


def parse_section(text: str, nonce: str) -> list[ListeningPort]:
    """The ports fact from its section of a batched command's output."""
    return parse_ports(text)


def parse_ports(text: str) -> list[ListeningPort]:
    """Listening TCP sockets from ``ss -tln[p]`` (also with ``-u``/``-e`` columns), ``netstat
    -tln[p]`` or /proc/net/tcp{,6} text. Raises ValueError for anything else."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []           # nothing listens; every source prints at least a header otherwise
    first = lines[0].split()
    if first[0] == "sl":
        return _parse_proc(lines)
    if first[0] in ("State", "Netid", "LISTEN") or first[0] in ("tcp", "udp") and len(first) > 1 \
            and first[1] in ("LISTEN", "UNCONN", "ESTAB"):
        return _parse_ss(lines)
    if first[0] in ("Active", "Proto", "tcp", "tcp6"):
        return _parse_netstat(lines)
    raise ValueError(f"not ss, netstat or /proc/net/tcp output: {lines[0][:80]!r}")


def _parse_ss(lines: list[str]) -> list[ListeningPort]:
    result = []
    for line in lines:
        fields = line.split()
        if fields[0] in ("State", "Netid"):
            continue
        if fields[0] in ("tcp", "udp", "raw", "u_str", "nl", "u_dgr", "u_seq", "p_raw", "p_dgr"):
            if fields[0] != "tcp":
                continue
            fields = fields[1:]
        if fields[0] != "LISTEN" or len(fields) < 5:
            continue
        address, port = _split_endpoint(fields[3])
        pid, process = _ss_users(" ".join(fields[5:]))
        result.append(ListeningPort(address, port, _family(address), pid, process))
    return result


def _ss_users(rest: str) -> tuple[int | None, str | None]:
    # users:(("nginx",pid=812,fd=6),("nginx",pid=811,fd=6)); iproute2 before 2015 printed
    # users:(("sshd",1234,3)) without the "pid=".
    owners = [(int(pid), name) for name, pid in re.findall(r'\("((?:[^"\\]|\\.)*)",(?:pid=)?(\d+)', rest)]
    if not owners:
        return None, None
    pid, name = min(owners)
    return pid, name


def _parse_netstat(lines: list[str]) -> list[ListeningPort]:
    result = []
    for line in lines:
        fields = line.split(None, 6)
        if fields[0] not in ("tcp", "tcp6") or len(fields) < 6 or fields[5] != "LISTEN":
            continue
        address, port = _split_endpoint(fields[3])
        pid: int | None = None
        process: str | None = None
        owner = fields[6].strip() if len(fields) > 6 else "-"
        if owner != "-" and "/" in owner:
            pid_text, _, process = owner.partition("/")
            pid = int(pid_text) if pid_text.isdigit() else None
        result.append(ListeningPort(address, port, _family(address), pid, process or None))
    return result


def _parse_proc(lines: list[str]) -> list[ListeningPort]:
    result = []
    for line in lines:
        fields = line.split()
        if fields[0] == "sl" or len(fields) < 4 or fields[3] != _LISTEN_HEX:
            continue
        hex_addr, _, hex_port = fields[1].partition(":")
        address = _unhex_address(hex_addr)
        result.append(ListeningPort(address, int(hex_port, 16), _family(address)))
    return result


def _unhex_address(hex_addr: str) -> str:
    # The kernel prints each 32-bit word of the address in host byte order (little-endian on
    # every architecture runbook meets), so reverse the bytes word by word.
    raw = bytes.fromhex(hex_addr)
    swapped = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, swapped)


def _split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"bad local address {endpoint!r}")
    host = host.strip("[]").split("%", 1)[0]
    return host.strip("[]") or "*", int(port)


def _family(address: str) -> str:
    return "any" if address == "*" else "ipv6" if ":" in address else "ipv4"


def collect_local() -> list[ListeningPort]:
    """The ports fact of this machine from psutil (pids need root, as with ss -p)."""
    import psutil

    owners: dict[tuple[str, int], list[int]] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status != psutil.CONN_LISTEN or not conn.laddr:
            continue
        pids = owners.setdefault((conn.laddr.ip, conn.laddr.port), [])
        if conn.pid is not None:
            pids.append(conn.pid)
    result = []
    for (address, port), pids in owners.items():
        pid = min(pids) if pids else None
        process = None
        if pid is not None:
            try:
                process = psutil.Process(pid).name()
            except psutil.Error:
                pid = None
        result.append(ListeningPort(address, port, _family(address), pid, process))
    return result
