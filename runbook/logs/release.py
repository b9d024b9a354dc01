"""Releasing the space of deleted-but-open logs: a log deleted while its writer still holds it
is first secured (a verified archive of the run holds exactly its bytes; ``runbook.logs.held``),
then truncated through ``/proc/PID/fd/N``, re-checked on the host right before; any other
deleted file (a database's temp file, an application's data) is never touched, and the plan
names the service (or process) whose restart would free it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from runbook.change import INTERNAL, Applied, Message
from runbook.errors import ActionError, LocalWriteError
from runbook.facts.batch import new_nonce
from runbook.facts.usage import DeletedFile, deleted_command, parse_deleted
from runbook.logs.archive.secure import secure, secured_held
from runbook.logs.held import HeldLog, inside
from runbook.logs.sets import glob_base, log_sets_for
from runbook.task import HostTask
from runbook.units import format_bytes


def deleted_open_files(task: HostTask) -> list[DeletedFile]:
    """Every deleted file a process still holds open on the host (one command)."""
    nonce = new_nonce()
    result = task.run(deleted_command(nonce))
    try:
        return parse_deleted(result.stdout, nonce)
    except ValueError as exc:
        raise ActionError(f"{task.host.name}: cannot list deleted open files: {exc}") from None


def is_log_like(path: str, roots: Sequence[str]) -> bool:
    """Truncating is only for logs: files that were inside a log set's roots (or the
    directories of its globs). A name that merely looks like a log elsewhere does not count:
    a deleted database or application file must never be truncated under its process."""
    return inside(path, roots)


def truncate_command(file: DeletedFile, size: int) -> str:
    """Re-check that the fd still points to the same deleted file, then empty it through the
    fd: truncate it when it still has the ``size`` bytes that were secured; when its writer
    appended since, punch the secured ``size`` bytes out instead (their space is freed, the
    newer lines stay). Only numbers go into this line (pid, fd, device, inode, size)."""
    # The size check and the truncation are two commands of one shell line: a line written in
    # that instant would go with the file. No call truncates "only if still N bytes"; the
    # window is microseconds, where securing again would leave seconds.
    holder = file.holders[0]
    fd = f"/proc/{int(holder.pid)}/fd/{int(holder.fd)}"
    ident = f"{int(file.device)}:{int(file.inode)}:0"
    return (f"now=\"$(stat -L -c '%d:%i:%h:%s' {fd} 2>/dev/null)\"; "
            f"if [ \"$now\" = '{ident}:{int(size)}' ]; "
            f"then truncate --no-create --size=0 {fd} && echo truncated; "
            f"elif [ \"${{now%:*}}\" = '{ident}' ]; "
            f"then fallocate --punch-hole --offset 0 --length {int(size)} {fd} && echo punched "
            "|| echo 'not truncated: it grew since it was secured and its filesystem cannot punch holes'; "
            "else echo 'not truncated: the fd no longer holds that deleted file'; fi")


def held_size(task: HostTask, file: DeletedFile) -> int | None:
    """The deleted file's size now, read through its holder's fd; None when the fd no longer
    holds that deleted file (closed, reused, or the file got a name again)."""
    fd = file.holders[0].fd_path
    result = task.run(f"stat -L -c '%d:%i:%h:%s' {fd} 2>/dev/null || true")
    dev, ino, links, size = ((result.stdout.strip() or "-:-:-:-").split(":") + ["-"] * 4)[:4]
    if (dev, ino, links) != (str(file.device), str(file.inode), "0") or not size.isdigit():
        return None
    return int(size)


def securer(held: HeldLog, secured: dict[tuple[int, int], int]) -> Callable[[HostTask], str | Applied | None]:
    """Make sure a verified archive of this run holds ``held`` as it is now (same device,
    inode and byte count): the ``logs.archive`` step's, else a new one written here. Notes the
    secured size in ``secured`` for the truncation; raises ActionError (so nothing of the host
    is truncated any more) when the file cannot be secured."""
    file = held.file
    ident = (file.device, file.inode)

    def apply(task: HostTask) -> str | Applied | None:
        size = held_size(task, file)
        if size is None:
            return Applied("no longer held open: nothing to secure or truncate", message_id=INTERNAL)
        entry = secured_held(task).get(ident)
        if entry is not None and entry["verified"] and entry["bytes"] == size:
            secured[ident] = size
            return Applied(None, message_id=INTERNAL)   # as the plan said: the archive step's
        try:
            secure(task, [held.listed(size)], level=1, remote="auto")
        except ActionError as exc:
            raise ActionError(f"not truncating the deleted {file.path}: securing it failed: {exc}") from None
        except LocalWriteError as exc:  # our disk, not the host's: still this machine's failure (exit 73)
            raise LocalWriteError(exc.path, f"{exc.reason}; not truncating the deleted {file.path}") from None
        entry = secured_held(task).get(ident)
        if entry is None or not entry["verified"]:
            status = entry.get("status", "not verified") if entry else "not in the archive"
            raise ActionError(f"{task.host.name}: not truncating the deleted {file.path}: "
                              f"securing it failed ({status})")
        secured[ident] = int(entry["bytes"])
        return f"{format_bytes(entry['bytes'])} secured in {entry['archive']} as {entry['member']}"
    return apply


def freed_message(mount: str, files: Sequence[DeletedFile]) -> Message:
    """The report's message for truncating ``files`` on ``mount``."""
    return Message("space_freed", {"mount": mount, "freed_bytes": sum(d.allocated for d in files)})


def mount_of(file: DeletedFile) -> str:
    """The mount a deleted file was on (its directory when the mount table did not say)."""
    return file.mount or posixpath.dirname(file.path)


def truncator(file: DeletedFile, truncated: set[tuple[int, int]], secured: Mapping[tuple[int, int], int],
              group: Sequence[DeletedFile] = ()) -> Callable[[HostTask], str | Applied | None]:
    """Truncate ``file`` if ``secured`` holds its secured size, noting it in ``truncated``. On
    the last file of a mount, ``group`` holds that mount's files: the report then counts the
    space of those really truncated."""
    def apply(task: HostTask) -> str | Applied | None:
        size = secured.get((file.device, file.inode))
        if size is None:
            outcome = "not truncated: it was not secured"
        else:
            result = task.run(truncate_command(file, size), check=True)
            outcome = (result.stdout.strip().splitlines() or ["no answer"])[-1]
        if outcome in ("truncated", "punched"):
            truncated.add((file.device, file.inode))
        note = {"truncated": None, "punched": f"it grew since it was secured: the secured {format_bytes(size or 0)} "
                                              "were punched out, the newer lines kept"}.get(outcome, outcome.upper())
        if not group:
            return note
        done = [d for d in group if (d.device, d.inode) in truncated]
        return Applied(note, message_id=None if done else INTERNAL, args=freed_message(mount_of(file), done).args)
    return apply


def restart_entry(file: DeletedFile) -> dict[str, Any]:
    """What the plan says of a deleted file that is not truncated: who to restart to free it."""
    holder = file.holders[0]
    return {"path": file.path, "bytes": file.allocated, "pid": holder.pid, "process": holder.process,
            "service": holder.service, "holders": len(file.holders)}


def log_roots(task: HostTask) -> list[str]:
    """Where the host's log sets live: their roots and the directories of their globs."""
    sets = log_sets_for(task.vars, task.host.roles)
    roots = {r for s in sets.values() for r in s.roots}
    return sorted(roots | {glob_base(g)[0] for s in sets.values() for g in s.globs})
