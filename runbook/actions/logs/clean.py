"""The ``logs.clean`` action: delete old rotated logs, safely, and say exactly which.

Which files are due and which are refused is ``runbook.logs.retention``; the deletion, re-checked
on the host right before ``rm``, is ``runbook.logs.deletion``; what this run has archived and
verified is ``runbook.logs.archive.secure``. The plan has one change per file, with its size;
check mode shows exactly that list.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.logs.common import host_log_sets, last_of_each, on_mounts
from runbook.actions.params import ByteSize, Duration
from runbook.change import INTERNAL, Change, Message, Outcome, Plan
from runbook.health.evidence import DfEvidence, mounts_over
from runbook.health.thresholds import THRESHOLD_VARS
from runbook.logs.sets import LOG_SET_VARS
from runbook.logs.archive.secure import secured_files
from runbook.logs.deletion import Deletion, delete_command, deleted_message
from runbook.logs.files import LogFile, list_log_files
from runbook.logs.retention import choose, due_files
from runbook.logs.rotation import show_path
from runbook.task import HostTask
from runbook.units import format_bytes


@dataclass(frozen=True)
class CleanParams:
    """sets: log set names (empty: all); keep / max_age: override the sets' retention;
    over: only files on mounts at or over the warning/critical threshold (any: all);
    mounts_from: judge "over" by this registered health.check result instead of now;
    require_archive: only files in a verified archive of this run; max_files / max_bytes:
    caps for one run."""

    sets: list[str] = ()  # type: ignore[assignment]
    keep: int | None = None
    max_age: Duration | None = None
    over: Literal["any", "warning", "critical"] = "any"
    mounts_from: str | None = None
    require_archive: bool = True
    max_files: int = 500
    max_bytes: ByteSize | None = None


class LogsCleanAction(HostAction):
    """Delete rotated/compressed logs beyond keep or older than max_age, only verified-archived ones.

    Params: ``sets`` (default all), ``keep`` and ``max_age`` (default: each set's), ``over``
    (any | warning | critical), ``mounts_from`` (a registered health.check result),
    ``require_archive`` (default true: only files a verified ``logs.archive`` of this run
    holds; false deletes unarchived logs and says so loudly),
    ``max_files`` (default 500), ``max_bytes`` (default none). Never deletes outside the
    set's roots, through a symlink, a file held open, or a live log. Records df before/after.
    """

    name = "logs.clean"
    Params = CleanParams
    host_vars = LOG_SET_VARS + THRESHOLD_VARS
    confirm = True

    def plan(self, task: HostTask, params: CleanParams) -> Plan:
        sets = {s.name: s for s in host_log_sets(task, list(params.sets))}
        pressured = mounts_over(task, params.over, params.mounts_from)
        files = on_mounts(list_log_files(task, list(sets.values())), pressured)
        due = due_files(files, sets, keep=params.keep, max_age=params.max_age, now=time.time())
        archived = secured_files(task) if params.require_archive else None
        chosen, refused, capped = choose(due, sets, archived, max_files=params.max_files,
                                         max_bytes=params.max_bytes)
        total = sum(c.file.size for c in chosen)
        data: dict[str, Any] = {
            "sets": list(sets), "require_archive": params.require_archive,
            "delete": [{"path": c.file.path, "bytes": c.file.size, "reason": c.reason, "archive": c.archive}
                       for c in chosen],
            "bytes": total, "refused": refused, "capped": capped}
        loud = "" if params.require_archive else " WITHOUT archive (require_archive: false)"
        summary = f"delete {len(chosen)} old log file(s), {format_bytes(total)}{loud}"
        notes = [f"{len(refused)} refused" if refused else "", f"{len(capped)} over the caps" if capped else ""]
        message = "; ".join([summary, *filter(None, notes)]) if chosen else \
            "; ".join(["nothing to delete", *filter(None, notes)])
        if not chosen:
            return Plan(Outcome.OK, data=data, message=message)
        run = Deletion(DfEvidence([c.file.mount or "/" for c in chosen]))
        msg = "logs_deleted" if params.require_archive else "logs_deleted_unarchived"
        directories = [posixpath.dirname(c.file.path) for c in chosen]
        groups: dict[str, list[LogFile]] = {}
        for directory, c in zip(directories, chosen):
            groups.setdefault(directory, []).append(c.file)
        changes = tuple(Change(
            f"delete {show_path(c.file.path)} ({format_bytes(c.file.size)}, {c.reason}){loud}",
            apply=run.step(c.file, groups[directory] if last else ()),
            details={"path": c.file.path, "bytes": c.file.size, "command": delete_command(c.file)},
            message=deleted_message(msg, directory, groups[directory]) if last else Message(INTERNAL))
            for c, directory, last in zip(chosen, directories, last_of_each(directories)))
        return Plan(Outcome.CHANGED, changes=changes, data=data, message=message, state=run)

    def after(self, task: HostTask, params: CleanParams, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        run = plan.state
        if not isinstance(run, Deletion):
            return {}
        deleted = [p for p, outcome in run.outcomes.items() if outcome == "deleted"]
        return {"deleted": deleted, "deleted_bytes": sum(run.sizes[p] for p in deleted),
                "not_deleted": {p: o for p, o in run.outcomes.items() if o != "deleted"},
                **run.evidence.finish(task)}
