"""The ``logs.clean`` action: delete old rotated logs, safely, and say exactly which.

Candidates are rotated or compressed files of a log set beyond ``keep`` (per live log, newest
kept) or older than ``max_age``. A candidate is refused -- listed with the reason, never
deleted -- when it is outside the set's roots, has a symlink anywhere in its path, is not a
plain file with one link, is held open by a process, or (by default) is not in a verified
``logs.archive`` manifest of this same run with the same inode, size and sha256. Caps bound
one run (``max_files``, ``max_bytes``); the oldest files go first.

The plan has one change per file, with its size; check mode shows exactly that list. Right
before each deletion the host re-checks the file (same device, inode, size, one link, no
symlink in the path, not open) and deletes it with ``rm -f -- PATH``; a file that changed
is left alone and reported. The customer's report says it once per directory ("Deleted 12
archived log files in /var/log/nginx ...; 3.2 GiB freed"), counting what was really deleted.
"""

from __future__ import annotations

import hashlib
import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.actions.logs.archive import ARTIFACT_KIND
from runbook.actions.logs.common import (
    DfEvidence,
    host_log_sets,
    last_of_each,
    list_log_files,
    mounts_over,
    on_mounts,
)
from runbook.actions.params import ByteSize, Duration
from runbook.change import INTERNAL, Applied, Change, Message, Outcome, Plan
from runbook.connection.shell import quote
from runbook.journal import read_events
from runbook.logs.files import LogFile
from runbook.logs.rotation import show_path
from runbook.logs.sets import LogSet
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


@dataclass(frozen=True)
class Candidate:
    """A file the clean would delete, and why."""

    file: LogFile
    reason: str
    archive: str | None


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
    confirm = True

    def plan(self, task: HostTask, params: CleanParams) -> Plan:
        sets = {s.name: s for s in host_log_sets(task, list(params.sets))}
        pressured = mounts_over(task, params.over, params.mounts_from)
        files = on_mounts(list_log_files(task, list(sets.values())), pressured)
        due = due_files(files, sets, keep=params.keep, max_age=params.max_age, now=time.time())
        archived = archived_files(task) if params.require_archive else None
        chosen, refused, capped = choose(due, sets, archived, params)
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
        run = _Deletion(DfEvidence([c.file.mount or "/" for c in chosen]))
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
        return Plan(Outcome.CHANGED, changes=changes, data=data, message=message)

    def after(self, task: HostTask, params: CleanParams, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        run = _deletion_of(plan)
        deleted = [p for p, outcome in run.outcomes.items() if outcome == "deleted"]
        return {"deleted": deleted, "deleted_bytes": sum(run.sizes[p] for p in deleted),
                "not_deleted": {p: o for p, o in run.outcomes.items() if o != "deleted"},
                **run.evidence.finish(task)}


def deleted_message(msg_id: str, directory: str, files: Sequence[LogFile]) -> Message:
    """The report's message for deleting ``files`` of one directory."""
    return Message(msg_id, {"count": len(files), "path": directory, "freed_bytes": sum(f.size for f in files)})


def choose(due: Sequence[tuple[LogFile, str]], sets: Mapping[str, LogSet],
           archived: Mapping[str, Mapping[str, Any]] | None, params: CleanParams
           ) -> tuple[list[Candidate], list[dict[str, Any]], list[dict[str, Any]]]:
    """(to delete, refused with the reason, left over by the caps), oldest first. ``archived``
    None means no archive is required."""
    chosen: list[Candidate] = []
    refused: list[dict[str, Any]] = []
    capped: list[dict[str, Any]] = []
    total = 0
    for file, reason in due:
        why_not = refusal(file, sets[file.log_set])
        if why_not is None and archived is not None:
            why_not = _archive_refusal(file, archived)
        if why_not is not None:
            refused.append({"path": file.path, "bytes": file.size, "reason": why_not})
            continue
        if len(chosen) >= params.max_files or (params.max_bytes is not None and total + file.size > params.max_bytes):
            capped.append({"path": file.path, "bytes": file.size})
            continue
        total += file.size
        chosen.append(Candidate(file, reason, ((archived or {}).get(file.path) or {}).get("archive")))
    return chosen, refused, capped


def due_files(files: Sequence[LogFile], sets: Mapping[str, LogSet], *, keep: int | None,
              max_age: float | None, now: float) -> list[tuple[LogFile, str]]:
    """Rotated files beyond ``keep`` (per live log, newest first) or older than ``max_age``,
    oldest first, each with the reason in words."""
    by_log: dict[str, list[LogFile]] = {}
    for f in files:
        if f.rotated:
            by_log.setdefault(f.log, []).append(f)
    due: list[tuple[LogFile, str]] = []
    for group in by_log.values():
        group.sort(key=lambda f: (-f.mtime, f.path))
        rank = -1
        for f in group:
            # Only plain files count towards keep: a symlink next to the logs is not a copy.
            rank += f.kind == "file"
            log_set = sets[f.log_set]
            limit = log_set.keep if keep is None else keep
            age_limit = log_set.max_age if max_age is None else max_age
            age = now - f.mtime
            reasons = []
            if f.kind == "file" and rank >= limit:
                reasons.append(f"beyond keep {limit}")
            if age_limit is not None and age > age_limit:
                reasons.append(f"{age / 86400:.0f} days old")
            if reasons:
                due.append((f, ", ".join(reasons)))
    return sorted(due, key=lambda item: (item[0].mtime, item[0].path))


def refusal(file: LogFile, log_set: LogSet) -> str | None:
    """Why ``file`` must not be deleted whatever the retention says, or None."""
    if posixpath.normpath(file.path) != file.path or ".." in file.path.split("/"):
        return "not a normalised path"
    if not log_set.inside_roots(file.path):
        return f"outside the set's roots ({', '.join(log_set.roots)})"
    if file.symlinked:
        return "a symlink is in its path"
    if file.kind != "file":
        return f"not a plain file ({file.kind})"
    if file.nlink != 1:
        return f"{file.nlink} hard links"
    if file.open_by:
        return f"held open by pid {', '.join(map(str, file.open_by))}"
    if not file.rotated:
        return "a live log"
    return None


def archived_files(task: HostTask) -> dict[str, dict[str, Any]]:
    """Files in verified ``logs.archive`` manifests of this run for this host, by path, whose
    archive is still on disk with the sha256 the journal recorded. In check mode, the files a
    ``logs.archive`` step of this run planned count too: check mode shows what the real run
    would delete once that archive is made and verified."""
    found: dict[str, dict[str, Any]] = {}
    run_dir = task.journal.run_dir
    actions: dict[Any, str] = {}
    for event in read_events(task.journal.path):
        if event.get("event") == "step.start":
            actions[event.get("step")] = str(event.get("action"))
        if event.get("host") != task.host.name:
            continue
        if event.get("event") == "artifact" and event.get("kind") == ARTIFACT_KIND:
            if not _intact(run_dir / str(event.get("path")), str(event.get("sha256"))):
                continue
            for entry in (event.get("manifest") or {}).get("files", []):
                if entry.get("verified"):
                    found[entry["path"]] = {**entry, "archive": str(event.get("path"))}
        elif (task.check and event.get("event") == "host.end" and actions.get(event.get("step")) == ARTIFACT_KIND
              and (event.get("data") or {}).get("check")):
            for f in event["data"].get("files", []):
                found.setdefault(f["path"], {"path": f["path"], "device": f["device"], "inode": f["inode"],
                                             "bytes": f["size"], "archive": f"planned in step {event['step'] + 1}"})
    return found


def _archive_refusal(file: LogFile, archived: Mapping[str, Mapping[str, Any]]) -> str | None:
    entry = archived.get(file.path)
    if entry is None:
        return "no verified archive of it in this run"
    if (entry.get("device"), entry.get("inode"), entry.get("bytes")) != (file.device, file.inode, file.size):
        return "changed since it was archived"
    return None


def _intact(archive: Path, sha256: str) -> bool:
    """The archive is still there, byte for byte as the journal recorded it."""
    digest = hashlib.sha256()
    try:
        with open(archive, "rb") as fh:
            while piece := fh.read(1 << 20):
                digest.update(piece)
    except OSError:
        return False
    return digest.hexdigest() == sha256


def delete_command(file: LogFile) -> str:
    """sh line: re-check the file (no symlink in its directory's path, same device, inode and
    size, one link, a regular file, not open by any process), then ``rm -f --`` it. Prints
    "deleted" or why not; exits 0 either way (a changed file is news, not a failure)."""
    directory = posixpath.dirname(file.path)
    path = quote(file.path)
    expected = quote(f"{file.device}:{file.inode}:{file.size}:1")
    real_dir = quote(directory + "\nx")
    return (
        # pwd -P names the directory with every symlink resolved; the trailing x keeps
        # $(...) from eating newlines at the end of a name.
        f"if [ \"$(cd -P -- {quote(directory)} 2>/dev/null && pwd -P; echo x)\" != {real_dir} ]; "
        "then echo 'not deleted: a symlink is in its path now'; "
        f"elif [ -L {path} ] || [ ! -f {path} ] || "
        f"[ \"$(LC_ALL=C stat -c '%d:%i:%s:%h' -- {path} 2>/dev/null)\" != {expected} ]; "
        "then echo 'not deleted: changed since planned (or gone)'; "
        f"elif find -L /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -inum {int(file.inode)} -printf '%D\\n' 2>/dev/null "
        f"| grep -qx {int(file.device)}; then echo 'not deleted: a process holds it open now'; "
        f"else rm -f -- {path} && echo deleted; fi"
    )


class _Deletion:
    """The deletions of one plan: each file's outcome, and the df evidence around them."""

    def __init__(self, evidence: DfEvidence) -> None:
        self.evidence = evidence
        self.outcomes: dict[str, str] = {}
        self.sizes: dict[str, int] = {}

    def step(self, file: LogFile, group: Sequence[LogFile] = ()) -> Callable[[HostTask], str | Applied | None]:
        """Delete ``file``. On the last file of a directory, ``group`` holds that directory's
        files: the report then counts those really deleted (a changed file is left alone)."""
        def apply(task: HostTask) -> str | Applied | None:
            result = task.run(delete_command(file), check=True)
            outcome = (result.stdout.strip().splitlines() or ["no answer"])[-1]
            self.outcomes[file.path] = outcome
            self.sizes[file.path] = file.size
            note = None if outcome == "deleted" else outcome.upper()
            if not group:
                return note
            gone = [f for f in group if self.outcomes.get(f.path) == "deleted"]
            return Applied(note, message_id=None if gone else INTERNAL,
                           args={"count": len(gone), "freed_bytes": sum(f.size for f in gone)})
        wrapped = self.evidence.wrap(apply)
        wrapped.deletion = self  # type: ignore[attr-defined]
        return wrapped


def _deletion_of(plan: Plan) -> _Deletion:
    return plan.changes[0].apply.deletion  # type: ignore[union-attr]
