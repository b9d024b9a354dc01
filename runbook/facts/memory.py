"""The memory and load facts, from /proc (meminfo, loadavg, uptime) or psutil.

Both read only files under /proc and /sys, so they cost one ``cat`` each and work the same on
GNU and busybox systems.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from runbook.facts.sections import part_marker, split_parts


@dataclass(frozen=True)
class MemoryInfo:
    """RAM and swap of a host, in bytes.

    total_bytes:         MemTotal
    available_bytes:     MemAvailable: what new work can get without swapping; on kernels
                         before 3.14 (RHEL 6) estimated as free + buffers + cached
    available_estimated: True when available_bytes is that estimate
    free_bytes, buffers_bytes, cached_bytes: MemFree, Buffers, Cached
    swap_total_bytes, swap_used_bytes: SwapTotal and SwapTotal - SwapFree
    """

    total_bytes: int
    available_bytes: int
    free_bytes: int
    buffers_bytes: int
    cached_bytes: int
    swap_total_bytes: int
    swap_used_bytes: int
    available_estimated: bool = False

    @property
    def available_percent(self) -> float:
        return self.available_bytes * 100.0 / self.total_bytes if self.total_bytes else 0.0

    @property
    def swap_used_percent(self) -> float:
        return self.swap_used_bytes * 100.0 / self.swap_total_bytes if self.swap_total_bytes else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "available_percent": round(self.available_percent, 2),
                "swap_used_percent": round(self.swap_used_percent, 2)}


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


def memory_shell(nonce: str) -> str:
    """The memory fact's part of the batched command."""
    return "cat /proc/meminfo"


def load_shell(nonce: str) -> str:
    """The load fact's part of the batched command; /proc/cpuinfo only where /sys lacks the
    online CPU list (very old kernels)."""
    return (f"{part_marker(nonce, 'loadavg')}; cat /proc/loadavg /proc/uptime; "
            f"{part_marker(nonce, 'online')}; cat /sys/devices/system/cpu/online 2>/dev/null"
            f" || {{ {part_marker(nonce, 'cpuinfo')}; grep -c '^processor' /proc/cpuinfo; }}")


def parse_meminfo(text: str) -> MemoryInfo:
    """MemoryInfo from /proc/meminfo text; raises ValueError without MemTotal."""
    kb: dict[str, int] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$", line)
        if m:
            kb[m.group(1)] = int(m.group(2))
    if "MemTotal" not in kb:
        raise ValueError("no MemTotal in /proc/meminfo text")
    estimated = "MemAvailable" not in kb
    available = (kb.get("MemFree", 0) + kb.get("Buffers", 0) + kb.get("Cached", 0)
                 if estimated else kb["MemAvailable"])
    swap_total = kb.get("SwapTotal", 0)
    return MemoryInfo(
        total_bytes=kb["MemTotal"] * 1024, available_bytes=min(available, kb["MemTotal"]) * 1024,
        free_bytes=kb.get("MemFree", 0) * 1024, buffers_bytes=kb.get("Buffers", 0) * 1024,
        cached_bytes=kb.get("Cached", 0) * 1024, swap_total_bytes=swap_total * 1024,
        swap_used_bytes=max(swap_total - kb.get("SwapFree", swap_total), 0) * 1024,
        available_estimated=estimated)


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


def parse_memory_section(text: str, nonce: str) -> MemoryInfo:
    """The memory fact from its section of a batched command's output."""
    return parse_meminfo(text)


def parse_load_section(text: str, nonce: str) -> LoadInfo:
    """The load fact from its section of a batched command's output."""
    parts = split_parts(text, nonce)
    lines = parts.get("loadavg", "").splitlines()
    if len(lines) < 2:
        raise ValueError("/proc/loadavg or /proc/uptime missing")
    cpuinfo = parts.get("cpuinfo", "").strip()
    cpus: str | int = int(cpuinfo) if cpuinfo else parts.get("online", "")
    return parse_load(lines[0], lines[1], cpus)


def collect_local_memory() -> MemoryInfo:
    """The memory fact of this machine from psutil."""
    import psutil

    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    return MemoryInfo(
        total_bytes=vm.total, available_bytes=vm.available, free_bytes=vm.free,
        buffers_bytes=getattr(vm, "buffers", 0), cached_bytes=getattr(vm, "cached", 0),
        swap_total_bytes=sw.total, swap_used_bytes=sw.total - sw.free)


def collect_local_load() -> LoadInfo:
    """The load fact of this machine from psutil."""
    import psutil

    load1, load5, load15 = os.getloadavg()
    # Rounded like /proc/loadavg prints them, so both sources compare equal in tests.
    return LoadInfo(load1=round(load1, 2), load5=round(load5, 2), load15=round(load15, 2),
                    cpu_count=psutil.cpu_count() or 1,
                    uptime_seconds=round(time.time() - psutil.boot_time(), 2))
