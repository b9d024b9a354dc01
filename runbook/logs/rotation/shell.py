"""Rotation on a host: the fact that reads a log's directory, the shell line for each planned
operation, and applying a plan through a Connection.

Every value in a command goes through ``shlex.quote`` (runbook.connection.shell). Log paths are
absolute and normalised (LogFileState checks that), so no path can be read as an option, and
every command still ends its options with ``--``. The commands need GNU coreutils and findutils
(``mv -T``, ``chmod --reference``, ``find -printf``, ``sync FILE``), as on Debian and RHEL.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from runbook.change import INTERNAL, Change, Message
from runbook.connection.base import CommandResult, Connection
from runbook.connection.shell import join, quote
from runbook.errors import ActionError
from runbook.logs.rotation.model import (
    Compress,
    Copy,
    Create,
    FileKind,
    LogFileState,
    Operation,
    Remove,
    Rename,
    RotatedFile,
    RotationPlan,
    RunCommand,
    Truncate,
    check_log_path,
)

# One record per directory entry, NUL-terminated: the numeric fields cannot hold '/', and the
# name, last, can hold anything but '/' and NUL -- so spaces, quotes and newlines survive.
_FIND_FORMAT = "%y/%n/%m/%U/%G/%s/%T@/%f\\0"
_KINDS: dict[str, FileKind] = {"f": "file", "l": "symlink", "d": "directory"}
_TEMP_SUFFIX = ".runbook-tmp"

StepObserver = Callable[[Operation, CommandResult], None]


def state_command(path: str) -> str:
    """One shell line that lists the log and every name beside it starting with its name
    (type, links, mode, uid, gid, size, mtime, name), without following symlinks; empty
    output when the directory does not exist."""
    check_log_path(path)
    directory, name = posixpath.split(path)
    pattern = re.sub(r"([\\*?\[])", r"\\\1", name) + "*"
    # -H: a symlinked log directory (/var/log -> /data/log) is followed, entries in it are not.
    find = join(["find", "-H", directory, "-maxdepth", "1", "-mindepth", "1",
                 "-name", pattern, "-printf", _FIND_FORMAT])
    return f"if [ -d {quote(directory)} ]; then {find}; fi"


def parse_state(stdout: str, path: str) -> tuple[LogFileState, list[RotatedFile]]:
    """The live log and its siblings from ``state_command``'s output. Names that did not decode
    as UTF-8 (shown with U+FFFD) cannot be named back to the host and are left out."""
    check_log_path(path)
    name = posixpath.basename(path)
    records = stdout.split("\0")
    if records[-1] != "":
        raise ActionError(f"unexpected listing for {path!r}: not NUL-terminated: "
                          f"{records[-1][:80]!r}")
    log = LogFileState(path, exists=False)
    siblings: list[RotatedFile] = []
    for record in records[:-1]:
        fields = record.split("/", 7)
        if len(fields) != 8:
            raise ActionError(f"unexpected listing for {path!r}: {record[:80]!r}")
        kind_code, nlink, mode, uid, gid, size, mtime, entry = fields
        try:
            kind = _KINDS.get(kind_code, "other")
            numbers = int(nlink), int(mode, 8), int(uid), int(gid), int(size), float(mtime)
        except ValueError:
            raise ActionError(f"unexpected listing for {path!r}: {record[:80]!r}") from None
        if "\ufffd" in entry:
            continue
        if entry == name:
            log = LogFileState(path, True, size=numbers[4], mtime=numbers[5], mode=numbers[1],
                               uid=numbers[2], gid=numbers[3], kind=kind, nlink=numbers[0])
        else:
            siblings.append(RotatedFile(entry, size=numbers[4], mtime=numbers[5], kind=kind))
    siblings.sort(key=lambda f: f.name)
    return log, siblings


def read_log_state(conn: Connection, path: str, *, timeout: float,
                   sudo: bool = False) -> tuple[LogFileState, list[RotatedFile]]:
    """Run ``state_command`` on the host and parse it."""
    result = conn.run(state_command(path), sudo=sudo, timeout=timeout, check=True)
    return parse_state(result.stdout, path)


def plan_to_commands(plan: RotationPlan) -> list[str]:
    """The plan as shell lines, one per operation, in order. Each line is a chain of ``&&``,
    so it stops (and fails) at its first failing step."""
    return [operation_command(op) for op in plan.operations]


def operation_command(op: Operation) -> str:
    """One operation as one POSIX shell line."""
    if isinstance(op, Rename):
        # -T: if dst is a directory, fail like rename(2) instead of moving src into it.
        return join(["mv", "-f", "-T", "--", op.src, op.dst])
    if isinstance(op, Copy):
        return _copy_command(op)
    if isinstance(op, Truncate):
        return join(["truncate", "--no-create", "--size=0", "--", op.path])
    if isinstance(op, Create):
        return " && ".join([_create_exclusive(":", op.path),
                            join(["chown", "--", f"{op.owner}:{op.group}", op.path]),
                            join(["chmod", "--", f"{op.mode:04o}", op.path])])
    if isinstance(op, Compress):
        return _compress_command(op)
    if isinstance(op, Remove):
        return join(["rm", "-f", "--", op.path])
    if isinstance(op, RunCommand):
        # As logrotate's runScript(): sh -c SCRIPT logrotate_script LOG ROTATED.
        return join(["/bin/sh", "-c", op.command, "logrotate_script", op.log, op.rotated])
    raise TypeError(f"not a rotation operation: {op!r}")


def plan_to_changes(plan: RotationPlan, *, sudo: bool | None = None) -> tuple[Change, ...]:
    """The plan in the engine's terms: one Change per operation, with its sentence and its one
    command, so check mode records exactly what a real run applies. The customer's report
    words the rotation once, on the last operation."""
    last = len(plan.operations) - 1
    return tuple(Change(op.sentence, (operation_command(op),), sudo=sudo,
                        details={"operation": type(op).__name__.lower()},
                        message=rotated_message(posixpath.dirname(plan.path), 1) if i == last else Message(INTERNAL))
                 for i, op in enumerate(plan.operations))


def rotated_message(path: Any, count: int) -> Message:
    """The report's message for rotating ``count`` logs in ``path`` (a directory, or
    directories in words)."""
    return Message("logs_rotated", {"count": count, "path": path})


def apply_plan(conn: Connection, plan: RotationPlan, *, timeout: float, sudo: bool = False,
               on_step: StepObserver | None = None) -> list[CommandResult]:
    """Run the plan's commands in order through ``conn`` (each with ``check=True``).

    The first failing command raises CommandFailed (or CommandTimeout) and nothing after it
    runs; ``on_step`` sees each operation that completed, so a journal can record how far a
    failed rotation got.
    """
    results: list[CommandResult] = []
    for op, command in zip(plan.operations, plan_to_commands(plan), strict=True):
        result = conn.run(command, sudo=sudo, timeout=timeout, check=True)
        results.append(result)
        if on_step is not None:
            on_step(op, result)
    return results


def _copy_command(op: Copy) -> str:
    """Copy into a new file with the live log's owner and mode and sync it before the
    truncate (as copyTruncate() does); a failed copy is removed, never left half-written."""
    return " && ".join([
        _create_exclusive(":", op.dst),
        _undo_on_failure([f"cat -- {quote(op.src)} > {quote(op.dst)}",
                          *_same_owner_mode(op.src, op.dst), join(["sync", "--", op.dst])],
                         cleanup=op.dst),
    ])


def _compress_command(op: Compress) -> str:
    """Compress to a hidden temporary name next to the file, give it the original's owner,
    mode and mtime (as compressLogFile() does), sync it, rename it into place, and only then
    remove the original. A failure at any step removes the temporary file and leaves the
    original as it was."""
    directory, name = posixpath.split(op.path)
    temp = posixpath.join(directory, f".{name}{op.ext}{_TEMP_SUFFIX}")
    compress = f"exec {join(op.command)} < {quote(op.path)}"
    steps = [_create_exclusive(compress, temp), *_same_owner_mode(op.path, temp),
             join(["touch", "-r", op.path, "--", temp]), join(["sync", "--", temp]),
             join(["mv", "-f", "-T", "--", temp, op.dst])]
    return " && ".join([join(["rm", "-f", "--", temp]), _undo_on_failure(steps, cleanup=temp),
                        join(["rm", "-f", "--", op.path])])


def _undo_on_failure(steps: list[str], *, cleanup: str) -> str:
    """Run steps as one && chain; if one fails, remove ``cleanup`` and exit with its status
    (``$?`` in the else branch is the failed step's)."""
    return (f"if {' && '.join(steps)}; then :; "
            f"else rc=$?; rm -f -- {quote(cleanup)}; exit \"$rc\"; fi")


def _create_exclusive(producer: str, path: str) -> str:
    """Run ``producer`` with its stdout into a new file at path, private until its mode is set.
    noclobber makes the shell refuse an existing name, a planted symlink included (O_EXCL)."""
    return f"(umask 077 && set -C && {producer} > {quote(path)})"


def _same_owner_mode(reference: str, path: str) -> list[str]:
    # chown before chmod: chown clears set-id bits that chmod would have set.
    return [join(["chown", f"--reference={reference}", "--", path]),
            join(["chmod", f"--reference={reference}", "--", path])]
