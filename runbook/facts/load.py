"""The load fact: load average, online CPUs and uptime, from /proc and /sys or psutil.

It reads only files under /proc and /sys, so it costs a few ``cat``s and works the same on
GNU and busybox systems.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from runbook.facts.batch import part_marker, split_parts


@dataclass(frozen=True)
class LoadInfo:
    """Load average, CPUs and uptime of a host.

    load1, load5, load15: run-queue averages over 1, 5 and 15 minutes (/proc/loadavg)
    cpu_count:            online CPUs (/sys/devices/system/cpu/online, else /proc/cpuinfo)
    uptime_seconds:       seconds since boot (/proc/uptime)
    """

    load1: float
    load5: float
    load15: float
    cpu_count: int
    uptime_seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def load_shell(nonce: str) -> str:
    """The load fact's part of the batched command; /proc/cpuinfo only where /sys lacks the
    online CPU list (very old kernels)."""
    return (f"{part_marker(nonce, 'loadavg')}; cat /proc/loadavg /proc/uptime; "
            f"{part_marker(nonce, 'online')}; cat /sys/devices/system/cpu/online 2>/dev/null"
            f" || {{ {part_marker(nonce, 'cpuinfo')}; grep -c '^processor' /proc/cpuinfo; }}")


def parse_load(loadavg: str, uptime: str, cpus: str | int) -> LoadInfo:
    """LoadInfo from /proc/loadavg and /proc/uptime text, and the CPUs either as a count or
    as the kernel's online CPU list (/sys/devices/system/cpu/online, e.g. "0-3,6")."""
    fields = loadavg.split()
    if len(fields) < 3:
        raise ValueError(f"not /proc/loadavg text: {loadavg[:80]!r}")
    up = uptime.split()
    if not up:
        raise ValueError("empty /proc/uptime text")
    count = cpus if isinstance(cpus, int) else count_cpus(cpus)
    if count <= 0:
        raise ValueError(f"no CPUs in {cpus!r}")
    return LoadInfo(load1=float(fields[0]), load5=float(fields[1]), load15=float(fields[2]),
                    cpu_count=count, uptime_seconds=float(up[0]))


def count_cpus(cpu_list: str) -> int:
    """CPUs in a kernel CPU list: "0-3,6" -> 5, "0" -> 1."""
    count = 0
    for item in filter(None, cpu_list.strip().split(",")):
        lo, _, hi = item.partition("-")
        count += int(hi) - int(lo) + 1 if hi else 1
    return count


def parse_load_section(text: str, nonce: str) -> LoadInfo:
    """The load fact from its section of a batched command's output."""
    parts = split_parts(text, nonce)
    lines = parts.get("loadavg", "").splitlines()
    if len(lines) < 2:
        raise ValueError("/proc/loadavg or /proc/uptime missing")
    cpuinfo = parts.get("cpuinfo", "").strip()
    cpus: str | int = int(cpuinfo) if cpuinfo else parts.get("online", "")
    return parse_load(lines[0], lines[1], cpus)


def collect_local_load() -> LoadInfo:
    """The load fact of this machine from psutil."""
    import psutil

    load1, load5, load15 = os.getloadavg()
    # Rounded like /proc/loadavg prints them, so both sources compare equal in tests.
    return LoadInfo(load1=round(load1, 2), load5=round(load5, 2), load15=round(load15, 2),
                    cpu_count=psutil.cpu_count() or 1,
                    uptime_seconds=round(time.time() - psutil.boot_time(), 2))
