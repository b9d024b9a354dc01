"""What the rotation planner reads (facts about a log and its rotated siblings) and what it
returns (operations, each with the sentence a human reads in check mode and in the report)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Literal

from runbook.errors import ActionError
from runbook.units import format_bytes

FileKind = Literal["file", "symlink", "directory", "other"]
RenamePurpose = Literal["rotate", "shift", "backup"]


@dataclass(frozen=True)
class LogFileState:
    """The live log file as a fact found it on the host.

    path: absolute path of the log. exists: False when there is no such name. size, mtime
    (epoch seconds), mode (permission bits), uid, gid, nlink: from lstat. kind: what the name is
    (logrotate refuses to rotate a symlink or a file with several hard links).
    """

    path: str
    exists: bool = True
    size: int = 0
    mtime: float = 0.0
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    kind: FileKind = "file"
    nlink: int = 1

    def __post_init__(self) -> None:
        check_log_path(self.path)

    @property
    def directory(self) -> str:
        return posixpath.dirname(self.path)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)


@dataclass(frozen=True)
class RotatedFile:
    """A sibling of the live log in the same directory (its base name, size, mtime, kind)."""

    name: str
    size: int = 0
    mtime: float = 0.0
    kind: FileKind = "file"

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\0" in self.name or self.name in (".", ".."):
            raise ActionError(f"not a file name in the log's directory: {self.name!r}")


def check_log_path(path: str) -> None:
    """A log path must be absolute and normal: no ``..``, no ``//``, no trailing slash. That
    keeps every command we build free of option-like words (they all start with '/')."""
    # normpath keeps a leading "//" (POSIX leaves its meaning open), so refuse it separately.
    if (not path.startswith("/") or path.startswith("//") or path == "/"
            or posixpath.normpath(path) != path):
        raise ActionError(f"log path must be absolute and normalised: {path!r}")
    if "\0" in path:
        raise ActionError(f"log path contains a NUL byte: {path!r}")


@dataclass(frozen=True)
class Rename:
    """Rename src to dst in place (``rename(2)``; an existing dst is replaced, as logrotate
    does). purpose is rotate (the live log), shift (an old log moves up) or backup (a file in
    the way of a new one is moved aside)."""

    src: str
    dst: str
    purpose: RenamePurpose = "shift"
    size: int | None = None
    replaces: bool = False

    @property
    def sentence(self) -> str:
        verb = {"rotate": "rotate", "shift": "shift", "backup": "move aside"}[self.purpose]
        text = f"{verb} {show_path(self.src)} -> {_short(self.src, self.dst)}{_size(self.size)}"
        if self.replaces:
            text += f", replacing the existing {show_path(posixpath.basename(self.dst))}"
        if self.purpose == "backup":
            text += " (it is in the way of a new file)"
        return text


@dataclass(frozen=True)
class Copy:
    """Copy the live log to its first rotated name (copytruncate's first half)."""

    src: str
    dst: str
    size: int | None = None

    @property
    def sentence(self) -> str:
        return f"copy {show_path(self.src)} -> {_short(self.src, self.dst)}{_size(self.size)}"


@dataclass(frozen=True)
class Truncate:
    """Truncate the live log in place to 0 bytes; the writer keeps its open file."""

    path: str
    size: int | None = None

    @property
    def sentence(self) -> str:
        return f"truncate {show_path(self.path)} to 0 bytes{_size(self.size, 'was ')}"


@dataclass(frozen=True)
class Create:
    """Create a new empty live log with this mode and owner (names or numeric ids)."""

    path: str
    mode: int
    owner: str
    group: str

    @property
    def sentence(self) -> str:
        return (f"create an empty {show_path(self.path)} (mode {self.mode:04o}, "
                f"owner {self.owner}:{self.group})")


@dataclass(frozen=True)
class Compress:
    """Compress path to ``path + ext`` with ``command``, then remove path; the compressed file
    gets path's owner, mode and mtime (as logrotate does)."""

    path: str
    ext: str = ".gz"
    command: tuple[str, ...] = ("gzip",)
    size: int | None = None

    @property
    def dst(self) -> str:
        return self.path + self.ext

    @property
    def sentence(self) -> str:
        return (f"compress {show_path(self.path)} -> {_short(self.path, self.dst)}"
                f"{_size(self.size)} with {' '.join(self.command)}")


@dataclass(frozen=True)
class Remove:
    """Remove an old rotated log; reason says which rule chose it."""

    path: str
    reason: str
    size: int | None = None

    @property
    def sentence(self) -> str:
        return f"remove {show_path(self.path)}{_size(self.size)}: {self.reason}"


@dataclass(frozen=True)
class RunCommand:
    """Run the postrotate script with ``/bin/sh -c``, with ``$1`` the log and ``$2`` the name
    it was rotated to, as logrotate runs a postrotate script. (With ``sharedscripts``
    logrotate passes the raw config pattern instead, quotes and a trailing blank included; we
    pass the clean paths.)"""

    command: str
    log: str
    rotated: str

    @property
    def sentence(self) -> str:
        lines = self.command.strip().splitlines()
        more = " ..." if len(lines) > 1 else ""
        return (f"run the postrotate command for {show_path(self.log)} "
                f"(rotated to {_short(self.log, self.rotated)}): {lines[0]}{more}")


Operation = Rename | Copy | Truncate | Create | Compress | Remove | RunCommand


@dataclass(frozen=True)
class RotationPlan:
    """The ordered operations that rotate one log, or why nothing is to be done.

    path: the live log. operations: in the order they must run. skipped: the reason when the
    log is not rotated (then operations is empty). rotated_to: the name the live log's
    content ends up under (after compression), when it is kept.
    """

    path: str
    operations: tuple[Operation, ...] = ()
    skipped: str | None = None
    rotated_to: str | None = None

    @property
    def changes(self) -> bool:
        return bool(self.operations)

    @property
    def sentences(self) -> list[str]:
        if self.skipped:
            return [f"leave {show_path(self.path)} alone: {self.skipped}"]
        return [op.sentence for op in self.operations]


def _size(size: int | None, prefix: str = "") -> str:
    return "" if size is None else f" ({prefix}{format_bytes(size)})"


def _short(src: str, dst: str) -> str:
    """dst by its base name when it sits next to src, as in 'access.log -> access.log.1'."""
    if posixpath.dirname(src) == posixpath.dirname(dst):
        return show_path(posixpath.basename(dst))
    return show_path(dst)


def show_path(path: str) -> str:
    """How a sentence spells a path: as is, unless it holds characters that are not printable,
    which are escaped (``\\n``) so that every sentence stays one line."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in path)
