"""Disk evidence around a change: ``df`` of the mounts it touches, journalled right before its
first change is applied ("before") and after the last ("after"), and which mounts are over the
host's thresholds.

Evidence has the shape ``health.check`` records (kind "disk", ``{"mounts": [...]}``), so a
report lines up "before" and "after" of any action and can say "freed 4.2 GiB on /var
(97% -> 61%)".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from runbook.change import Applied
from runbook.connection.shell import join
from runbook.errors import ActionError, ConfigError, last_line
from runbook.facts.disk import DiskUsage, parse_df
from runbook.health.checks import disk_check
from runbook.health.status import Status
from runbook.health.thresholds import Thresholds
from runbook.task import HostTask
from runbook.units import format_bytes

#: ``over:`` of the disk and log actions: the status a mount must reach (None: any mount).
OVER = {"any": None, "warning": Status.WARNING, "critical": Status.CRITICAL}


def df(task: HostTask, paths: Iterable[str] = ()) -> list[DiskUsage]:
    """``df`` of the filesystems holding ``paths`` (all real filesystems if none given)."""
    paths = sorted(set(paths))
    result = task.run("LC_ALL=C df -P -k" + (" -- " + join(paths) if paths else ""))
    if not result.stdout.strip():
        raise ActionError(f"{task.host.name}: df printed nothing: {last_line(result.stderr)[:200]}")
    return parse_df(result.stdout, include_pseudo=bool(paths))


def mounts_over(task: HostTask, over: str, mounts_from: str | None = None) -> list[DiskUsage] | None:
    """The mounts at or above the host's ``over`` threshold (warning/critical), judged as
    ``health.check`` does; None for ``over: any`` (no filter).

    With ``mounts_from`` (the ``register`` name of an earlier ``health.check`` step) the
    verdict is that step's: a playbook keeps treating the mounts that were full when it
    started, even once cleaning has brought them below the threshold.
    """
    level = OVER[over]
    if level is None:
        return None
    if mounts_from:
        registered = task.vars.get(mounts_from)
        if not isinstance(registered, Mapping) or not isinstance(registered.get("checks"), list):
            raise ConfigError(f"{mounts_from!r} is not the registered result of a health.check step",
                              field="params.mounts_from")
        names = [c.get("mount") for c in registered["checks"]
                 if str(c.get("name", "")).startswith("disk:") and c.get("status") in Status.__members__
                 and Status[c["status"]].severity >= level.severity]
        return df(task, [n for n in names if n]) if names else []
    thresholds = Thresholds.from_vars(task.vars)
    return [d for d in df(task) if disk_check(d, thresholds.for_disk(d.mount)).status.severity
            >= level.severity]


def mount_snapshot(disks: Sequence[DiskUsage]) -> dict[str, Any]:
    """Evidence of ``disks`` as ``health.check`` records it (kind "disk")."""
    return {"mounts": [{"mount": d.mount, "used_percent": d.used_percent, "free_bytes": d.free_bytes,
                        "size_bytes": d.size_bytes, "used_bytes": d.used_bytes} for d in disks]}


def record_df(task: HostTask, phase: str, mounts: Sequence[str]) -> dict[str, Any]:
    """Take and journal df evidence of ``mounts``; returns the snapshot."""
    snapshot = mount_snapshot(df(task, mounts)) if mounts else {"mounts": []}
    task.evidence(phase, "disk", snapshot)
    return snapshot


def freed_sentence(before: dict[str, Any], after: dict[str, Any]) -> str:
    """'freed 4.2 GiB on /var (97% -> 61%)', one clause per mount."""
    old = {m["mount"]: m for m in before.get("mounts", [])}
    clauses = []
    for m in after.get("mounts", []):
        b = old.get(m["mount"])
        if b is None:
            continue
        freed = m["free_bytes"] - b["free_bytes"]
        verb = "freed" if freed >= 0 else "used"
        clauses.append(f"{verb} {format_bytes(abs(freed))} on {m['mount']} "
                       f"({b['used_percent']:.0f}% -> {m['used_percent']:.0f}%)")
    return "; ".join(clauses)


class DfEvidence:
    """df of ``mounts`` journaled right before the first change of a plan is applied
    ("before") and after the last ("after", from the action's ``after``). A plan carries it
    as its ``state``, so ``after`` finds it again."""

    def __init__(self, mounts: Sequence[str]) -> None:
        self.mounts = sorted(set(mounts))
        self.before: dict[str, Any] | None = None

    def wrap(self, apply: Callable[[HostTask], str | Applied | None]
             ) -> Callable[[HostTask], str | Applied | None]:
        def first_records_before(task: HostTask) -> str | Applied | None:
            if self.before is None:
                self.before = record_df(task, "before", self.mounts)
            return apply(task)
        return first_records_before

    def commands(self, commands: Sequence[str], *, sudo: bool | None = None
                 ) -> Callable[[HostTask], str | Applied | None]:
        """An ``apply`` running ``commands`` in order, each required to succeed."""
        def run(task: HostTask) -> str | None:
            for command in commands:
                task.run(command, sudo=sudo, check=True)
            return None
        return self.wrap(run)

    def finish(self, task: HostTask) -> dict[str, Any]:
        """Record "after"; the before/after snapshots and the "freed ..." sentence."""
        after = record_df(task, "after", self.mounts)
        before = self.before or {"mounts": []}
        return {"df_before": before, "df_after": after, "freed": freed_sentence(before, after)}
