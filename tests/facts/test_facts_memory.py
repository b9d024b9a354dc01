"""Memory and load parsers against real /proc files."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.facts.load import LoadInfo, count_cpus, parse_load
from runbook.facts.memory import MemoryInfo, parse_meminfo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "facts"
KIB = 1024


def read(rel: str) -> str:
    return (FIXTURES / rel).read_text(encoding="utf-8")


# (fixture, total KiB, available KiB, estimated, swap total KiB, swap used KiB)
MEMINFO_CASES = [
    ("memory/debian12.txt", 24684084, 24148956, False, 0, 0),
    ("memory/jc-linux-proc.txt", 3997272, 3386876, False, 3996668, 0),
    # RHEL 5/6 kernels have no MemAvailable: free + buffers + cached, as free(1) did.
    ("memory/rhel6-kb-excerpt.txt", 7778104, 4806144 + 211756 + 1071092, True, 4194296, 0),
]


@pytest.mark.parametrize("rel, total, available, estimated, swap_total, swap_used", MEMINFO_CASES,
                         ids=[c[0].split("/")[1] for c in MEMINFO_CASES])
def test_parse_meminfo(rel: str, total: int, available: int, estimated: bool,
                       swap_total: int, swap_used: int) -> None:
    mem = parse_meminfo(read(rel))
    assert (mem.total_bytes, mem.available_bytes, mem.available_estimated) == \
        (total * KIB, available * KIB, estimated)
    assert (mem.swap_total_bytes, mem.swap_used_bytes) == (swap_total * KIB, swap_used * KIB)
    assert mem.available_percent == pytest.approx(available * 100 / total)


def test_swap_in_use() -> None:
    mem = parse_meminfo("MemTotal: 1000 kB\nMemAvailable: 100 kB\nSwapTotal: 400 kB\n"
                        "SwapFree: 100 kB\n")
    assert mem.swap_used_bytes == 300 * KIB and mem.swap_used_percent == 75.0
    assert mem.to_json()["swap_used_percent"] == 75.0


@pytest.mark.parametrize("text", ["", "MemFree: 10 kB\n", "garbage"])
def test_meminfo_without_total(text: str) -> None:
    with pytest.raises(ValueError):
        parse_meminfo(text)


@pytest.mark.parametrize("cpus, count", [("0", 1), ("0-1", 2), ("0-3,6", 5), ("0,2,4-7\n", 6),
                                         ("3", 1)])
def test_count_cpus(cpus: str, count: int) -> None:
    assert count_cpus(cpus) == count


def test_parse_load_fixture() -> None:
    load = parse_load(read("load/jc-linux-proc.loadavg.txt"), read("load/jc-linux-proc.uptime.txt"), 4)
    assert load == LoadInfo(0.0, 0.01, 0.03, 4, 46901.13)


@pytest.mark.parametrize("loadavg, uptime, cpus", [("", "1 2", "0"), ("1 2 3 1/2 3", "", "0"),
                                                   ("1 2 3 1/2 3", "1 2", "")])
def test_parse_load_bad(loadavg: str, uptime: str, cpus: str) -> None:
    with pytest.raises(ValueError):
        parse_load(loadavg, uptime, cpus)


def test_to_json() -> None:
    mem = MemoryInfo(100, 10, 5, 1, 4, 0, 0)
    assert mem.to_json()["available_percent"] == 10.0
    assert LoadInfo(1, 2, 3, 2, 5.0).to_json()["cpu_count"] == 2
