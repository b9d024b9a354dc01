"""Deleted-but-open logs: a file of a log set deleted while its writer still holds it open.

Its content is the incident's evidence and is reachable only through ``/proc/PID/fd/N``.
``logs.archive`` secures it from there into the run's archive (a member
``deleted/<pid>-<fd>/<name>``), and ``disk.release_deleted`` empties it only once a verified
archive of the same run holds it (same device, inode and byte count), securing it itself
otherwise. A deleted file counts as a log only when one of the host's log sets would have
listed it: its old path matches the set's globs (or their rotated siblings) and lies inside
the set's roots. Any other deleted file is never read and never truncated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from runbook.facts.usage import DeletedFile, Holder
from runbook.logs.archive.stream import HeldOpen, Listed
from runbook.logs.files import glob_match
from runbook.logs.sets import LogSet


@dataclass(frozen=True)
class HeldLog:
    """A deleted file of log set ``log_set``, as the deleted-files listing saw it."""

    file: DeletedFile
    log_set: str

    @property
    def holder(self) -> Holder:
        """The process (and fd) the content is read through: the first of its holders."""
        return self.file.holders[0]

    def listed(self, size: int | None = None) -> Listed:
        """What the archive takes of it: ``size`` bytes (default: its size when listed) read
        through the holder's fd link."""
        holder = self.holder
        return Listed(holder.fd_path, self.file.size if size is None else size, time.time(), self.file.device,
                      self.file.inode, held=HeldOpen(self.file.path, holder.pid, holder.fd, holder.process))

    def in_words(self) -> str:
        """"/var/log/nginx/access.log (held open by nginx pid 812)"."""
        return f"{self.file.path} (held open by {self.holder.process} pid {self.holder.pid})"


def inside(path: str, roots: Sequence[str]) -> bool:
    """``path`` lies below one of ``roots``."""
    return any(path.startswith(root.rstrip("/") + "/") for root in roots)


def held_logs(deleted: Sequence[DeletedFile], sets: Sequence[LogSet]) -> list[HeldLog]:
    """The deleted-but-open files that belong to one of ``sets`` (the first that claims it)."""
    found = []
    for file in deleted:
        owner = next((s for s in sets if inside(file.path, s.roots)
                      and any(glob_match(file.path, g) is not None for g in s.globs)), None)
        if owner is not None and file.holders:
            found.append(HeldLog(file, owner.name))
    return found
