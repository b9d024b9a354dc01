"""The memory fact: RAM and swap from /proc/meminfo, or psutil on the local connection.

It reads one file under /proc, so it costs one ``cat`` and works the same on GNU and busybox
systems.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any


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


def memory_shell(nonce: str) -> str:
    """The memory fact's part of the batched command."""
    return "cat /proc/meminfo"


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


def parse_memory_section(text: str, nonce: str) -> MemoryInfo:
    """The memory fact from its section of a batched command's output."""
    return parse_meminfo(text)


def collect_local_memory() -> MemoryInfo:
    """The memory fact of this machine from psutil."""
    import psutil

    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    return MemoryInfo(
        total_bytes=vm.total, available_bytes=vm.available, free_bytes=vm.free,
        buffers_bytes=getattr(vm, "buffers", 0), cached_bytes=getattr(vm, "cached", 0),
        swap_total_bytes=sw.total, swap_used_bytes=sw.total - sw.free)
