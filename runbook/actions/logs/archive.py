"""The ``logs.archive`` action: secure a host's log files in one verified tar.gz per host.

The plan lists the files (path and the exact byte count the archive will hold); applying
streams them over the run's SSH connection into the run's artifacts and verifies them
(``runbook.logs.archive.secure``); ``logs.clean`` deletes only files that a verified manifest
of the same run holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.logs.common import directories_in_words, host_log_sets, on_mounts
from runbook.actions.params import Duration
from runbook.change import INTERNAL, Applied, Change, Message, Outcome, Plan
from runbook.errors import ActionError
from runbook.facts.disk import DiskUsage
from runbook.health.evidence import DfEvidence, mounts_over
from runbook.health.thresholds import THRESHOLD_VARS
from runbook.logs.sets import LOG_SET_VARS
from runbook.logs.archive.secure import secure, secured_held
from runbook.logs.archive.stream import Listed
from runbook.logs.files import LogFile, list_log_files
from runbook.logs.held import HeldLog, held_logs
from runbook.logs.release import deleted_open_files
from runbook.logs.sets import LogSet
from runbook.task import HostTask
from runbook.units import format_bytes

_LISTED = ("path", "log_set", "size", "mtime", "device", "inode", "rotated", "compressed", "open_by", "mount")


@dataclass(frozen=True)
class ArchiveParams:
    """sets: log set names (empty: every set of the host); since: only files modified within
    this long (default: all); files: all, live or rotated; over: only files on mounts at or
    over the host's warning/critical disk threshold (any: no filter); mounts_from: judge
    "over" by this registered health.check result instead of now; level: gzip level 1-9;
    remote: how the host sends its files (auto: python3 if present, else POSIX sh)."""

    sets: list[str] = ()  # type: ignore[assignment]
    since: Duration | None = None
    files: Literal["all", "live", "rotated"] = "all"
    over: Literal["any", "warning", "critical"] = "any"
    mounts_from: str | None = None
    level: int = 1
    remote: Literal["auto", "python", "shell"] = "auto"


class LogsArchiveAction(HostAction):
    """Stream a host's log files as one tar.gz into the run's artifacts, verified by sha256.

    Params: ``sets`` (default: all log sets), ``since`` (mtime window, e.g. 2d; default all),
    ``files`` (all | live | rotated), ``over`` (any | warning | critical: only mounts over the
    threshold), ``mounts_from`` (a registered health.check: its verdict decides ``over``),
    ``level`` (gzip 1-9, default 1), ``remote`` (auto | python | shell).
    Each file is archived as exactly the bytes it had when listed; nothing is written on the
    host. The journal's artifact event carries the manifest (path, bytes, sha256, verified).
    A file of a log set deleted while a process still holds it open is secured too, read
    through /proc/PID/fd/N into the member ``deleted/<pid>-<fd>/<name>`` (its manifest entry:
    ``deleted: true``, path, pid, fd, device, inode); the step fails if it is not verified.
    """

    name = "logs.archive"
    Params = ArchiveParams
    host_vars = LOG_SET_VARS + THRESHOLD_VARS
    confirm = True

    def plan(self, task: HostTask, params: ArchiveParams) -> Plan:
        if not 1 <= params.level <= 9:
            raise ActionError(f"level must be 1-9, not {params.level}")
        sets = host_log_sets(task, list(params.sets))
        pressured = mounts_over(task, params.over, params.mounts_from)
        found = on_mounts(list_log_files(task, sets), pressured)
        chosen = select(found, params, now=time.time())
        held = [] if params.files == "rotated" else held_to_secure(task, sets, pressured)
        skipped = [f for f in found if f.kind != "file"]
        data: dict[str, Any] = {"sets": [s.name for s in sets],
                                "files": [{k: f.to_json()[k] for k in _LISTED} for f in chosen],
                                "deleted": [held_json(h) for h in held],
                                "bytes": sum(f.size for f in chosen) + sum(h.file.size for h in held),
                                "skipped": [{"path": f.path, "reason": f"a {f.kind}"} for f in skipped]}
        if not chosen and not held:
            return Plan(Outcome.OK, data=data, message=f"no log files to archive in {', '.join(data['sets']) or 'no sets'}")
        listed = [Listed(f.path, f.size, f.mtime, f.device, f.inode) for f in chosen] + [h.listed() for h in held]
        names = sorted({f.log_set for f in chosen} | {h.log_set for h in held})
        sentence = (f"archive {len(listed)} log file(s), {format_bytes(data['bytes'])}, "
                    f"of {', '.join(names)} into the run's artifacts")
        if held:
            sentence += ", securing the deleted " + ", ".join(h.in_words() for h in held)
        evidence = DfEvidence([f.mount or "/" for f in chosen] + [h.file.mount or "/" for h in held])
        # The report's sentence ("Archived 5 log files from /var/log/nginx ... (1.2 MiB, checksum
        # verified)") gets the verified count and the archive's size once it is written.
        paths = [f.path for f in chosen] + [h.file.path for h in held]
        change = Change(sentence, apply=evidence.wrap(lambda t: secure(t, listed, level=params.level,
                                                                        remote=params.remote)),
                        details={"files": [{"path": f.path, "bytes": f.size} for f in listed]},
                        message=Message("logs_archived", {"count": len(listed), "path": directories_in_words(paths)}))
        # One more change per deleted file: it checks the archive holds it verified (else the
        # step fails: nothing is emptied on its strength) and gives the report its sentence.
        checks = tuple(Change(f"check the archive holds the deleted {h.in_words()}", apply=held_checker(h),
                              details={"deleted": held_json(h)},
                              message=Message("deleted_log_secured", {"path": h.file.path,
                                                                      "process": h.holder.process}))
                       for h in held)
        return Plan(Outcome.CHANGED, changes=(change, *checks), data=data, message=sentence, state=evidence)

    def after(self, task: HostTask, params: ArchiveParams, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        return plan.state.finish(task) if isinstance(plan.state, DfEvidence) else {}


def select(files: list[LogFile], params: ArchiveParams, *, now: float) -> list[LogFile]:
    """Regular files of the wanted kind, modified within ``since``; oldest first."""
    chosen = [f for f in files if f.kind == "file"]
    if params.files != "all":
        chosen = [f for f in chosen if f.rotated == (params.files == "rotated")]
    if params.since is not None:
        chosen = [f for f in chosen if f.mtime >= now - params.since]
    return sorted(chosen, key=lambda f: (f.mtime, f.path))


def held_to_secure(task: HostTask, sets: list[LogSet], pressured: list[DiskUsage] | None) -> list[HeldLog]:
    """The deleted-but-open files of ``sets`` on the ``pressured`` mounts (None: anywhere). A
    file still held open is being written: it counts as live and recent (``since`` does not
    leave it out)."""
    held = held_logs(deleted_open_files(task), sets)
    if pressured is not None:
        held = [h for h in held if h.file.mount in {d.mount for d in pressured}]
    return held


def held_json(held: HeldLog) -> dict[str, Any]:
    """What the plan (and check mode's later steps) record of a deleted file to secure."""
    f, holder = held.file, held.holder
    return {"path": f.path, "log_set": held.log_set, "size": f.size, "device": f.device, "inode": f.inode,
            "pid": holder.pid, "fd": holder.fd, "process": holder.process, "mount": f.mount}


def held_checker(held: HeldLog) -> Callable[[HostTask], str | Applied | None]:
    """An ``apply`` that finds ``held`` verified in this run's archive, or fails the host."""
    def check(task: HostTask) -> str | Applied | None:
        entry = secured_held(task).get((held.file.device, held.file.inode))
        if entry is not None and entry["verified"]:
            return f"{format_bytes(entry['bytes'])} as {entry['member']}"
        if entry is not None and entry.get("status") in ("missing", "replaced"):
            # The holder closed it before it was read: its content and its space are gone.
            return Applied("no longer held open: nothing left to secure", message_id=INTERNAL)
        status = entry.get("status", "not verified") if entry else "not in the archive"
        raise ActionError(f"{task.host.name}: the deleted {held.file.path} could not be secured ({status})")
    return check
