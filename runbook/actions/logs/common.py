"""What the disk and log actions share: the host's log sets and their files, which mounts are
under pressure, and the df evidence taken before and after a change.

Evidence has the shape ``health.check`` records (kind "disk", ``{"mounts": [...]}``), so a
report lines up "before" and "after" of any action and can say "freed 4.2 GiB on /var
(97% -> 61%)".
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

from runbook.actions.base import Applied, HostTask, Plan
from runbook.connection.shell import join
from runbook.errors import ActionError, ConfigError
from runbook.facts.disk import DiskUsage, parse_df
from runbook.facts.logfiles import LogFile, logfiles_command, parse_logfiles
from runbook.facts.sections import new_nonce
from runbook.health.checks import disk_check
from runbook.health.status import Status
from runbook.health.thresholds import Thresholds
from runbook.health.units import format_bytes
from runbook.logsets import LogSet, log_sets_for

OVER = {"any": None, "warning": Status.WARNING, "critical": Status.CRITICAL}


def host_log_sets(task: HostTask, names: Sequence[str]) -> list[LogSet]:
    """The host's log sets, or only those named (an unknown name is a ConfigError)."""
    sets = log_sets_for(task.vars, task.host.roles)
    unknown = [n for n in names if n not in sets]
    if unknown:
        raise ConfigError(f"host {task.host.name} has no log set {', '.join(map(repr, unknown))} "
                          f"(it has: {', '.join(sets) or 'none'})", field="params.sets")
    return [sets[n] for n in names] if names else list(sets.values())


def list_log_files(task: HostTask, sets: Sequence[LogSet]) -> list[LogFile]:
    """Every file of ``sets`` on the host (one command)."""
    if not sets:
        return []
    nonce = new_nonce()
    result = task.run(logfiles_command(sets, nonce), check=True)
    try:
        return parse_logfiles(result.stdout, sets, nonce)
    except ValueError as exc:
        raise ActionError(f"{task.host.name}: cannot read the log file listing: {exc}") from None


def df(task: HostTask, paths: Iterable[str] = ()) -> list[DiskUsage]:
    """``df`` of the filesystems holding ``paths`` (all real filesystems if none given)."""
    paths = sorted(set(paths))
    result = task.run("LC_ALL=C df -P -k" + (" -- " + join(paths) if paths else ""))
    if not result.stdout.strip():
        raise ActionError(f"{task.host.name}: df printed nothing: {result.stderr.strip()[:200]}")
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


def on_mounts(files: Sequence[LogFile], mounts: Sequence[DiskUsage] | None) -> list[LogFile]:
    """The files on one of ``mounts`` (all files when ``mounts`` is None)."""
    if mounts is None:
        return list(files)
    wanted = {d.mount for d in mounts}
    return [f for f in files if f.mount in wanted]


class DfEvidence:
    """df of ``mounts`` journaled right before the first change of a plan is applied
    ("before") and after the last ("after", from the action's ``after``)."""

    def __init__(self, mounts: Sequence[str]) -> None:
        self.mounts = sorted(set(mounts))
        self.before: dict[str, Any] | None = None

    def wrap(self, apply: Callable[[HostTask], str | Applied | None]
             ) -> Callable[[HostTask], str | Applied | None]:
        def first_records_before(task: HostTask) -> str | Applied | None:
            if self.before is None:
                self.before = record_df(task, "before", self.mounts)
            return apply(task)
        first_records_before.df_evidence = self  # type: ignore[attr-defined]
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


def evidence_of(plan: Plan) -> DfEvidence | None:
    """The DfEvidence a plan's changes were wrapped with, if any."""
    for change in plan.changes:
        found = getattr(change.apply, "df_evidence", None)
        if found is not None:
            return found
    return None


def directories_in_words(paths: Iterable[str]) -> str | list[str]:
    """Where files lie, as a report sentence names them: their directory; a list of up to three
    (the report joins it in the customer's language); else the directory they share."""
    dirs = sorted({posixpath.dirname(p) for p in paths})
    if len(dirs) == 1:
        return dirs[0]
    shared = posixpath.commonpath(dirs) if dirs else "/"
    if len(dirs) > 3 and shared != "/":
        return shared
    return dirs


def last_of_each(keys: Sequence[Hashable]) -> list[bool]:
    """For changes grouped by ``keys`` (a directory, a mount), in plan order: True at the last
    change of each group. The report words a group once, on that change (the engine applies
    all of a host's changes or fails the host); the others carry ``INTERNAL``."""
    last = {key: i for i, key in enumerate(keys)}
    return [last[key] == i for i, key in enumerate(keys)]
