"""Deleting a log file on the host, safely: re-checked right before ``rm``, one file at a time.

Right before each deletion the host re-checks the file (same device, inode, size, one link,
no symlink in the path, not open) and deletes it with ``rm -f -- PATH``; a file that changed
is left alone and reported. The customer's report says it once per directory ("Deleted 12
archived log files in /var/log/nginx ...; 3.2 GiB freed"), counting what was really deleted.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from runbook.change import INTERNAL, Applied, Message
from runbook.connection.shell import quote
from runbook.health.evidence import DfEvidence
from runbook.logs.files import LogFile
from runbook.task import HostTask


def deleted_message(msg_id: str, directory: str, files: Sequence[LogFile]) -> Message:
    """The report's message for deleting ``files`` of one directory."""
    return Message(msg_id, {"count": len(files), "path": directory, "freed_bytes": sum(f.size for f in files)})


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


class Deletion:
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
        return self.evidence.wrap(apply)
