"""Which rotated logs may go: those beyond ``keep`` (per live log, newest kept) or older than
``max_age``, minus every file that must never be deleted whatever the retention says.

A candidate is refused -- listed with the reason, never deleted -- when it is outside the
set's roots, has a symlink anywhere in its path, is not a plain file with one link, is held
open by a process, is a live log, or (when an archive is required) is not in a verified
archive of this run with the same device, inode and size. Caps bound one run; the oldest
files go first.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook.logs.files import LogFile
from runbook.logs.sets import LogSet


@dataclass(frozen=True)
class Candidate:
    """A file the clean would delete, and why."""

    file: LogFile
    reason: str
    archive: str | None


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


def choose(due: Sequence[tuple[LogFile, str]], sets: Mapping[str, LogSet],
           archived: Mapping[str, Mapping[str, Any]] | None, *, max_files: int, max_bytes: int | None
           ) -> tuple[list[Candidate], list[dict[str, Any]], list[dict[str, Any]]]:
    """(to delete, refused with the reason, left over by the caps ``max_files``/``max_bytes``),
    oldest first. ``archived`` None means no archive is required."""
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
        if len(chosen) >= max_files or (max_bytes is not None and total + file.size > max_bytes):
            capped.append({"path": file.path, "bytes": file.size})
            continue
        total += file.size
        chosen.append(Candidate(file, reason, ((archived or {}).get(file.path) or {}).get("archive")))
    return chosen, refused, capped


def _archive_refusal(file: LogFile, archived: Mapping[str, Mapping[str, Any]]) -> str | None:
    entry = archived.get(file.path)
    if entry is None:
        return "no verified archive of it in this run"
    if (entry.get("device"), entry.get("inode"), entry.get("bytes")) != (file.device, file.inode, file.size):
        return "changed since it was archived"
    return None
