"""Turning a host's facts into checks: one verdict per mount, for memory, swap and load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runbook.facts import FactError
from runbook.facts.disk import DiskUsage
from runbook.facts.load import LoadInfo
from runbook.facts.memory import MemoryInfo
from runbook.health.status import Check, Status
from runbook.health.thresholds import BYTES, Pair, Threshold, Thresholds
from runbook.units import format_bytes

# Facts the checks need: absent means the sweep never asked, which is itself unknown.
REQUIRED_FACTS = ("disk", "memory", "load")


def format_percent(value: float, thresholds: tuple[float | None, ...] = ()) -> str:
    """A percentage with no decimals, or with as many (up to two) as it takes for the shown
    number not to contradict a threshold verdict: 79.6 is shown "79.6%" next to an 80%
    threshold, never "80%" with status OK."""
    for digits in (0, 1, 2):
        shown = round(value, digits)
        if all((shown >= t) == (value >= t) for t in thresholds if t is not None):
            break
    return f"{shown:.{digits}f}%"


def evaluate(facts: Mapping[str, Any], vars: Mapping[str, Any],
             required: Sequence[str] = REQUIRED_FACTS) -> list[Check]:
    """Checks for one host from its facts (values or FactErrors by fact name) and its merged
    vars; a ``required`` fact that is missing is UNKNOWN (a step asking for the disk only
    passes ``required=("disk",)``). Raises ConfigError for bad threshold variables, before
    any check is made."""
    thresholds = Thresholds.from_vars(vars)
    checks: list[Check] = []
    for name in required:
        if name not in facts:
            checks.extend(_unknown(name, "not gathered"))
    for name, value in facts.items():
        if isinstance(value, FactError):
            checks.extend(_unknown(name, value.reason))
        elif name == "disk":
            for disk in (d for d in value if thresholds.judges(d.mount)):
                checks.append(disk_check(disk, thresholds.for_disk(disk.mount)))
                if disk.inodes_used_percent is not None:
                    checks.append(inode_check(disk, thresholds.for_inodes(disk.mount)))
        elif name == "memory":
            checks.append(memory_check(value, thresholds.mem_available))
            checks.append(swap_check(value, thresholds.swap))
        elif name == "load":
            checks.append(load_check(value, thresholds.load))
    return checks


def disk_check(disk: DiskUsage, pair: Pair) -> Check:
    """Used space of one filesystem against percent or free-space thresholds."""
    room = disk.used_bytes + disk.free_bytes

    def breached(t: Threshold) -> bool:
        return disk.free_bytes < t.value if t.kind == BYTES else disk.used_percent >= t.value

    def as_percent(t: Threshold) -> float:
        # "less than 5 GiB free" is "more than X% used" on this filesystem: say so in perfdata.
        if t.kind != BYTES:
            return t.value
        return round(max(0.0, 100.0 - t.value * 100.0 / room), 2) if room else 100.0

    status, hit = _verdict(breached(pair.crit), breached(pair.warn), pair)
    shown = format_percent(disk.used_percent, (as_percent(pair.warn), as_percent(pair.crit)))
    message = f"{disk.mount} {shown} used ({format_bytes(disk.free_bytes)} free)"
    if hit is not None:
        message += f" < {hit.spec} free" if hit.kind == BYTES else f" >= {hit.spec}"
    return Check(
        name=f"disk:{disk.mount}", status=status, message=message, value=disk.used_percent,
        warn=as_percent(pair.warn), crit=as_percent(pair.crit), unit="%",
        details={"mount": disk.mount, "device": disk.device, "fstype": disk.fstype,
                 "used_percent": disk.used_percent,
                 "inodes_used_percent": disk.inodes_used_percent,
                 "size_bytes": disk.size_bytes, "free_bytes": disk.free_bytes,
                 "direction": "above", "warn_spec": pair.warn.spec, "crit_spec": pair.crit.spec},
        msg="disk", args={"mount": disk.mount, "used_percent": disk.used_percent, "free_bytes": disk.free_bytes})


def inode_check(disk: DiskUsage, pair: Pair) -> Check:
    """Used inodes of one filesystem against percent thresholds."""
    used = disk.inodes_used_percent or 0.0
    status, hit = _verdict(used >= pair.crit.value, used >= pair.warn.value, pair)
    shown = format_percent(used, (pair.warn.value, pair.crit.value))
    message = f"{disk.mount} inodes {shown} used ({disk.inodes_free or 0:,} free)"
    if hit is not None:
        message += f" >= {hit.spec}"
    return Check(
        name=f"inodes:{disk.mount}", status=status, message=message, value=used,
        warn=pair.warn.value, crit=pair.crit.value, unit="%",
        details={"mount": disk.mount, "used_percent": disk.used_percent,
                 "inodes_used_percent": disk.inodes_used_percent,
                 "inodes_free": disk.inodes_free, "direction": "above"},
        msg="inodes", args={"mount": disk.mount, "used_percent": used})


def memory_check(mem: MemoryInfo, pair: Pair) -> Check:
    """Available memory against minimum percent or byte thresholds (lower is worse)."""
    def breached(t: Threshold) -> bool:
        return (mem.available_bytes < t.value if t.kind == BYTES
                else mem.available_percent < t.value)

    def as_percent(t: Threshold) -> float:
        if t.kind != BYTES:
            return t.value
        return round(t.value * 100.0 / mem.total_bytes, 2) if mem.total_bytes else 0.0

    status, hit = _verdict(breached(pair.crit), breached(pair.warn), pair)
    # format_percent keeps ">=" semantics; for "<" the same digits rule holds.
    shown = format_percent(mem.available_percent, (as_percent(pair.warn), as_percent(pair.crit)))
    message = (f"memory {shown} available ({format_bytes(mem.available_bytes)} of "
               f"{format_bytes(mem.total_bytes)})")
    if hit is not None:
        message += f" < {hit.spec}"
    return Check(
        name="memory", status=status, message=message, value=round(mem.available_percent, 2),
        warn=as_percent(pair.warn), crit=as_percent(pair.crit), unit="%",
        details={"available_bytes": mem.available_bytes, "total_bytes": mem.total_bytes,
                 "available_estimated": mem.available_estimated, "direction": "below"},
        msg="memory", args={"available_percent": round(mem.available_percent, 2),
                            "available_bytes": mem.available_bytes, "total_bytes": mem.total_bytes})


def swap_check(mem: MemoryInfo, pair: Pair) -> Check:
    """Used swap against percent thresholds; a host without swap is OK."""
    details = {"swap_total_bytes": mem.swap_total_bytes, "swap_used_bytes": mem.swap_used_bytes,
               "direction": "above"}
    if not mem.swap_total_bytes:
        return Check(name="swap", status=Status.OK, message="no swap configured", value=0.0,
                     warn=pair.warn.value, crit=pair.crit.value, unit="%", details=details, msg="swap_none")
    used = mem.swap_used_percent
    status, hit = _verdict(used >= pair.crit.value, used >= pair.warn.value, pair)
    shown = format_percent(used, (pair.warn.value, pair.crit.value))
    message = (f"swap {shown} used ({format_bytes(mem.swap_used_bytes)} of "
               f"{format_bytes(mem.swap_total_bytes)})")
    if hit is not None:
        message += f" >= {hit.spec}"
    return Check(name="swap", status=status, message=message, value=round(used, 2),
                 warn=pair.warn.value, crit=pair.crit.value, unit="%", details=details, msg="swap",
                 args={"used_percent": round(used, 2), "used_bytes": mem.swap_used_bytes,
                       "total_bytes": mem.swap_total_bytes})


def load_check(load: LoadInfo, pair: Pair) -> Check:
    """The 5-minute load average per CPU: steadier than the 1-minute figure (a cron job's
    burst does not page anyone), still current within minutes."""
    per_cpu = load.load5 / max(load.cpu_count, 1)
    status, hit = _verdict(per_cpu >= pair.crit.value, per_cpu >= pair.warn.value, pair)
    cpus = "1 CPU" if load.cpu_count == 1 else f"{load.cpu_count} CPUs"
    message = (f"load {per_cpu:.2f} per CPU (5-min {load.load5:.2f} on {cpus}; 1/5/15 min: "
               f"{load.load1:.2f} {load.load5:.2f} {load.load15:.2f})")
    if hit is not None:
        message += f" >= {hit.spec}"
    return Check(name="load", status=status, message=message, value=round(per_cpu, 3),
                 warn=pair.warn.value, crit=pair.crit.value, unit="",
                 details={"load1": load.load1, "load5": load.load5, "load15": load.load15,
                          "cpu_count": load.cpu_count, "direction": "above"},
                 msg="load", args={"load_per_cpu": round(per_cpu, 2), "cpus": load.cpu_count})


def _verdict(crit: bool, warn: bool, pair: Pair) -> tuple[Status, Threshold | None]:
    if crit:
        return Status.CRITICAL, pair.crit
    if warn:
        return Status.WARNING, pair.warn
    return Status.OK, None


def _unknown(fact: str, reason: str) -> Sequence[Check]:
    # Keep the check names a healthy host has, so a report can line hosts up by check.
    names = {"memory": ("memory", "swap")}.get(fact, (fact,))
    return [Check(name=n, status=Status.UNKNOWN, message=f"{fact} facts unavailable: {reason}",
                  details={"fact": fact, "reason": reason}, msg="unknown", args={"aspect": n}) for n in names]
