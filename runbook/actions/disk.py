"""Disk actions: what fills a mount (``disk.usage``, read-only) and giving back the space of
deleted files that processes still hold open (``disk.release_deleted``; which files and how is
``runbook.logs.release``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.logs.common import last_of_each
from runbook.actions.params import ByteSize, Duration
from runbook.change import INTERNAL, Change, Message, Outcome, Plan
from runbook.errors import ActionError
from runbook.facts.batch import new_nonce
from runbook.facts.usage import DeletedFile, parse_usage, usage_command
from runbook.health.evidence import DfEvidence, df, mounts_over
from runbook.health.thresholds import THRESHOLD_VARS
from runbook.logs.sets import LOG_SET_VARS, log_sets_for
from runbook.logs.release import (
    deleted_open_files,
    freed_message,
    is_log_like,
    log_roots,
    mount_of,
    restart_entry,
    securer,
    truncate_command,
    truncator,
)
from runbook.logs.archive.secure import secured_held
from runbook.logs.held import HeldLog, held_logs
from runbook.logs.rotation import show_path
from runbook.task import HostTask
from runbook.units import format_bytes


@dataclass(frozen=True)
class UsageParams:
    """mounts: mount points to look at (empty: those at or over ``over``); over: warning,
    critical or any (every real mount); mounts_from: judge "over" by this registered
    health.check result; depth: directory levels; top: entries per list;
    seconds: time bound of each walk; min_file: smallest file worth listing."""

    mounts: list[str] = ()  # type: ignore[assignment]
    over: Literal["any", "warning", "critical"] = "warning"
    mounts_from: str | None = None
    depth: int = 3
    top: int = 10
    seconds: Duration = 20.0  # type: ignore[assignment]
    min_file: ByteSize = 10 * 1024 * 1024  # type: ignore[assignment]


class DiskUsageAction(HostAction):
    """Show what fills a mount: largest directories and files, and deleted-but-open files (read-only).

    Params: ``mounts`` (default: those at or over ``over``), ``over`` (warning | critical |
    any; default warning), ``mounts_from`` (a registered health.check result), ``depth``
    (3), ``top`` (10), ``seconds`` (time bound per walk, 20s),
    ``min_file`` (10M). Walks stay on the mount (``du -x``, ``find -xdev``) and run niced.
    """

    name = "disk.usage"
    Params = UsageParams
    host_vars = THRESHOLD_VARS

    def plan(self, task: HostTask, params: UsageParams) -> Plan:
        targets = (df(task, list(params.mounts)) if params.mounts
                   else mounts_over(task, params.over, params.mounts_from) or [] if params.over != "any" else df(task))
        if not targets:
            return Plan(Outcome.OK, data={"mounts": []}, message=f"no mount at or over {params.over}")
        deleted = deleted_open_files(task)
        reports = []
        for disk in targets:
            nonce = new_nonce()
            result = task.run(usage_command(disk.mount, nonce, depth=params.depth, seconds=params.seconds,
                                            min_file_bytes=params.min_file),
                              timeout=max(task.timeout, 2 * params.seconds + 10))
            try:
                usage = parse_usage(result.stdout, disk.mount, nonce, depth=params.depth, top=params.top)
            except ValueError as exc:
                raise ActionError(f"{task.host.name}: {exc}") from None
            held = [d for d in deleted if d.mount == disk.mount]
            reports.append({"disk": {"mount": disk.mount, "used_percent": disk.used_percent,
                                     "free_bytes": disk.free_bytes, "size_bytes": disk.size_bytes},
                            **usage.to_json(), "deleted_open": [d.to_json() for d in held],
                            "deleted_open_bytes": sum(d.allocated for d in held)})
        return Plan(Outcome.OK, data={"mounts": reports}, message=" | ".join(_summary(r) for r in reports)[:400])


def _summary(report: Mapping[str, Any]) -> str:
    mount = report["mount"]
    below = [d for d in report["dirs"] if d["path"] != mount][:3]
    parts = [f"{mount} {report['disk']['used_percent']:.0f}%"]
    if below:
        parts.append(", ".join(f"{_below(d['path'], mount)} {format_bytes(d['bytes'])}" for d in below))
    if report["files"]:
        top = report["files"][0]
        parts.append(f"largest file {_below(top['path'], mount)} {format_bytes(top['bytes'])}")
    if report["deleted_open_bytes"]:
        parts.append(f"{format_bytes(report['deleted_open_bytes'])} held by deleted open files")
    if report["partial"]:
        parts.append("(walk cut short)")
    return ": ".join(parts[:1]) + (": " + "; ".join(parts[1:]) if len(parts) > 1 else "")


def _below(path: str, mount: str) -> str:
    """A path inside the mount as the one-line summary shows it: relative to the mount."""
    inside = path[len(mount):].lstrip("/") if path.startswith(mount) else path
    return show_path(inside or path)


@dataclass(frozen=True)
class ReleaseParams:
    """over: only files on mounts at or over warning/critical (any: all mounts); mounts_from:
    judge "over" by this registered health.check result; mounts:
    only these mounts; min_size: ignore smaller files; truncate: truncate log-like files
    (false: only report what to restart)."""

    over: Literal["any", "warning", "critical"] = "any"
    mounts_from: str | None = None
    mounts: list[str] = ()  # type: ignore[assignment]
    min_size: ByteSize = 1024 * 1024  # type: ignore[assignment]
    truncate: bool = True


class ReleaseDeletedAction(HostAction):
    """Free deleted-but-open logs' space via /proc/PID/fd/N; name the service to restart for other files.

    Params: ``over`` (any | warning | critical), ``mounts_from``, ``mounts`` (default all), ``min_size``
    (default 1M), ``truncate`` (default true). Only deleted files that were logs of the host's
    log sets (inside their roots) are truncated, and only once a verified archive of this run
    holds their bytes (the ``logs.archive`` step's, else one this step writes); a file that
    cannot be secured is left as it is and fails the host. Any other deleted file (a
    database's temp file, an application's data) is never touched: the plan names the service
    (or process) whose restart frees it. Records df before/after and the bytes freed.
    """

    name = "disk.release_deleted"
    Params = ReleaseParams
    host_vars = THRESHOLD_VARS + LOG_SET_VARS
    confirm = True

    def plan(self, task: HostTask, params: ReleaseParams) -> Plan:
        deleted = [d for d in deleted_open_files(task) if d.allocated >= params.min_size or d.size >= params.min_size]
        if params.mounts:
            deleted = [d for d in deleted if d.mount in params.mounts]
        pressured = mounts_over(task, params.over, params.mounts_from)
        if pressured is not None:
            deleted = [d for d in deleted if d.mount in {p.mount for p in pressured}]
        roots = log_roots(task)
        truncate = [d for d in deleted if params.truncate and is_log_like(d.path, roots)]
        restart = [d for d in deleted if d not in truncate]
        data: dict[str, Any] = {"truncate": [d.to_json() for d in truncate],
                                "restart": [restart_entry(d) for d in restart],
                "bytes": sum(d.allocated for d in truncate),
                "restart_bytes": sum(d.allocated for d in restart)}
        advice = "; ".join(f"restart {e['service'] or e['process'] + ' (pid ' + str(e['pid']) + ')'} to free "
                           f"{format_bytes(e['bytes'])} held by deleted {show_path(e['path'])}"
                           for e in data["restart"])
        data["advice"] = advice
        if not truncate:
            return Plan(Outcome.OK, data=data, message=advice or "no deleted-but-open files to release")
        evidence = DfEvidence([d.mount or "/" for d in truncate])
        # One change per file; the report says it once per mount, on the last of its files.
        mounts = [mount_of(d) for d in truncate]
        groups: dict[str, list[DeletedFile]] = {}
        for mount, d in zip(mounts, truncate):
            groups.setdefault(mount, []).append(d)
        truncated: set[tuple[int, int]] = set()
        # Each file is secured first (a verified archive of this run holding exactly its bytes),
        # then truncated: a file that cannot be secured fails the host and stays as it is.
        secured: dict[tuple[int, int], int] = {}
        archived = secured_held(task)
        sets = list(log_sets_for(task.vars, task.host.roles).values())
        owners = {(h.file.device, h.file.inode): h for h in held_logs(truncate, sets)}
        changes: list[Change] = []
        for d, mount, last in zip(truncate, mounts, last_of_each(mounts)):
            held = owners.get((d.device, d.inode), HeldLog(d, ""))
            entry = archived.get((d.device, d.inode))
            done = entry is not None and entry["verified"] and entry["bytes"] == d.size
            changes.append(Change(
                (f"deleted {show_path(d.path)} is secured in {entry['archive']}" if done and entry else
                 f"secure deleted {show_path(d.path)} ({format_bytes(d.size)}, held by {d.holders[0].process}) "
                 "into the run's artifacts"),
                apply=evidence.wrap(securer(held, secured)), details={"deleted": d.to_json()},
                message=Message(INTERNAL) if done else Message("deleted_log_secured", {
                    "path": d.path, "process": d.holders[0].process})))
            changes.append(Change(
                f"truncate deleted {show_path(d.path)} through {d.holders[0].fd_path} ({d.holders[0].process}): "
                f"frees {format_bytes(d.allocated)}",
                apply=evidence.wrap(truncator(d, truncated, secured, groups[mount] if last else ())),
                details={"command": truncate_command(d, d.size)},
                message=freed_message(mount, groups[mount]) if last else Message(INTERNAL)))
        unsecured = sum(1 for d in truncate if not (archived.get((d.device, d.inode)) or {}).get("verified"))
        message = f"truncate {len(truncate)} deleted log(s), {format_bytes(data['bytes'])}"
        if unsecured:
            message = f"secure {unsecured} deleted log(s) into the run's artifacts, then " + message
        return Plan(Outcome.CHANGED, changes=tuple(changes), data=data,
                    message=message + (f"; {advice}" if advice else ""), state=evidence)

    def after(self, task: HostTask, params: ReleaseParams, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        return plan.state.finish(task) if isinstance(plan.state, DfEvidence) else {}
