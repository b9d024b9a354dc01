"""What uses the space of a mount: its largest directories and files, and deleted files that
processes still hold open (the classic hidden disk leak: ``df`` says full, ``du`` finds nothing).

Every fact is a shell command plus a pure parser, like the other facts. The walks are bounded:
``du -x``/``find -xdev`` stay on the one filesystem, ``du -d`` limits the depth, and
``timeout`` stops each walk after a few seconds, so a mount with millions of files still
answers (with ``partial`` set). They run under ``nice``/``ionice`` because the host they
look at is usually already in trouble. Output is NUL-separated, so every file name survives.

The commands need GNU coreutils/findutils (``du -0``, ``find -printf``), as on Debian and RHEL.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from runbook.connection.shell import quote
from runbook.facts.batch import part_marker, split_parts
from runbook.facts.mounts import unescape_octal

# Gentle on a host in trouble: lowest CPU priority, idle I/O class where ionice exists.
NICE = "nice -n 19 $(command -v ionice >/dev/null 2>&1 && echo ionice -c 3)"
_SERVICE_SUFFIXES = (".service",)


@dataclass(frozen=True)
class SpaceUser:
    """A directory or file and the space it uses.

    path: absolute path. bytes: disk usage (directories: ``du``, files: their size).
    kind: "dir" or "file". mtime: epoch seconds (files only).
    """

    path: str
    bytes: int
    kind: str
    mtime: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MountUsage:
    """The largest directories and files under one mount point.

    mount: the mount point walked. dirs / files: largest first (``top`` of each).
    partial: a walk ran out of time, so the figures are lower bounds. depth: du's depth.
    """

    mount: str
    dirs: tuple[SpaceUser, ...]
    files: tuple[SpaceUser, ...]
    partial: bool
    depth: int

    def to_json(self) -> dict[str, Any]:
        return {"mount": self.mount, "dirs": [d.to_json() for d in self.dirs],
                "files": [f.to_json() for f in self.files], "partial": self.partial,
                "depth": self.depth}


@dataclass(frozen=True)
class MountPoint:
    """One line of /proc/self/mountinfo: device number, where it is mounted, its type."""

    device: int
    mount: str
    fstype: str


@dataclass(frozen=True)
class Holder:
    """A process holding a file open: pid, its fd number, its name and systemd service."""

    pid: int
    fd: int
    process: str
    service: str | None

    @property
    def fd_path(self) -> str:
        return f"/proc/{self.pid}/fd/{self.fd}"


@dataclass(frozen=True)
class DeletedFile:
    """A deleted file that processes still hold open: its space is only freed when the last
    holder closes it (or the file is truncated through /proc/PID/fd/N).

    path: the name it had (without " (deleted)"). size: its length. allocated: bytes of disk
    it occupies (what truncating frees). device, inode: identity. holders: who holds it.
    mount: the mount point it lives on (None if unknown).
    """

    path: str
    size: int
    allocated: int
    device: int
    inode: int
    holders: tuple[Holder, ...]
    mount: str | None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "allocated": self.allocated,
                "device": self.device, "inode": self.inode, "mount": self.mount,
                "holders": [asdict(h) for h in self.holders]}


# -- largest directories and files ---------------------------------------------------------------

def usage_command(mount: str, nonce: str, *, depth: int = 3, seconds: float = 20.0,
                  min_file_bytes: int = 10 * 1024 * 1024) -> str:
    """One sh line walking ``mount`` twice (du for directories, find for big files), each
    stopped after ``seconds``; the exit codes say whether a walk was cut short."""
    limit = f"timeout {float(seconds):g}"
    kib = max(int(min_file_bytes) // 1024, 0)
    return "; ".join([
        "export LC_ALL=C",
        part_marker(nonce, "dirs"),
        f"{NICE} {limit} du -x -0 -k -d {int(depth)} -- {quote(mount)} 2>/dev/null",
        "rc_du=$?",
        part_marker(nonce, "files"),
        (f"{NICE} {limit} find {quote(mount)} -xdev -type f -size +{kib}k "
         f"-printf '%s %T@ %p\\0' 2>/dev/null"),
        "rc_find=$?",
        part_marker(nonce, "status"),
        "echo \"$rc_du $rc_find\"",
    ])


def parse_usage(stdout: str, mount: str, nonce: str, *, depth: int, top: int = 10) -> MountUsage:
    """The usage fact from ``usage_command``'s output (largest ``top`` of each kind)."""
    parts = split_parts(stdout, nonce)
    if "dirs" not in parts or "status" not in parts:
        raise ValueError(f"usage walk of {mount} printed no sections (output cut off?)")
    dirs = []
    for record in parts["dirs"].split("\0"):
        size, sep, path = record.lstrip("\n").partition("\t")
        if sep and size.isdigit():
            dirs.append(SpaceUser(path, int(size) * 1024, "dir"))
    files = []
    for record in parts.get("files", "").split("\0"):
        fields = record.lstrip("\n").split(" ", 2)
        if len(fields) == 3 and fields[0].isdigit():
            files.append(SpaceUser(fields[2], int(fields[0]), "file", float(fields[1])))
    # timeout(1) exits 124 when it stopped a walk; du/find exit 1 for an unreadable
    # directory, which does not make the listing partial in a way worth flagging. du prints
    # the mount itself last: without it, du was stopped before it finished.
    partial = "124" in parts["status"].split() or not any(d.path == mount for d in dirs)
    dirs.sort(key=lambda d: (-d.bytes, d.path))
    files.sort(key=lambda f: (-f.bytes, f.path))
    return MountUsage(mount, tuple(dirs[:top]), tuple(files[:top]), partial, depth)


def collect_local_usage(mount: str, *, depth: int = 3, top: int = 10,
                        min_file_bytes: int = 10 * 1024 * 1024) -> MountUsage:
    """The same fact on this machine, with os.scandir (no time bound: local use only)."""
    root_dev = os.lstat(mount).st_dev
    dirs: dict[str, int] = {}
    files: list[SpaceUser] = []

    def walk(path: str, level: int) -> int:
        total = 0
        try:
            entries = list(os.scandir(path))
        except OSError:
            return 0
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_dev != root_dev:
                continue
            if entry.is_dir(follow_symlinks=False):
                total += walk(entry.path, level + 1)
            else:
                total += st.st_blocks * 512
                if entry.is_file(follow_symlinks=False) and st.st_size > min_file_bytes:
                    files.append(SpaceUser(entry.path, st.st_size, "file", st.st_mtime))
        if level <= depth:
            dirs[path] = total
        return total

    walk(mount, 0)
    ranked = sorted((SpaceUser(p, b, "dir") for p, b in dirs.items()), key=lambda d: (-d.bytes, d.path))
    files.sort(key=lambda f: (-f.bytes, f.path))
    return MountUsage(mount, tuple(ranked[:top]), tuple(files[:top]), False, depth)


# -- mounts by device number --------------------------------------------------------------------

def parse_mountinfo(text: str) -> list[MountPoint]:
    """Entries of /proc/self/mountinfo, in mount order (later entries hide earlier ones)."""
    points = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 7 or "-" not in fields[6:]:
            continue
        major, _, minor = fields[2].partition(":")
        try:
            device = os.makedev(int(major), int(minor))
        except ValueError:
            continue
        fstype = fields[fields.index("-", 6) + 1] if len(fields) > fields.index("-", 6) + 1 else ""
        points.append(MountPoint(device, unescape_octal(fields[4]), fstype))
    return points


def mount_for(path: str, device: int | None, points: list[MountPoint]) -> str | None:
    """The mount point ``path`` lives on: the longest mount point above it, preferring those
    with the file's device number (bind mounts and overlays share paths, not devices)."""
    def above(point: MountPoint) -> bool:
        return point.mount == "/" or path == point.mount or path.startswith(point.mount.rstrip("/") + "/")

    for candidates in ([p for p in points if p.device == device], points):
        found = [p.mount for p in candidates if above(p)]
        if found:
            return max(found, key=len)
    return None


# -- deleted but still open ---------------------------------------------------------------------

def deleted_command(nonce: str) -> str:
    """One sh line listing every fd that points to a regular file with no name left (link
    count 0), with the size and blocks the file holds, its old name, the holder's name and
    systemd service; and the mount table to place each file on its mount."""
    # The fd paths printed by find are /proc/<digits>/fd/<digits>, so reading them back with
    # `read` is safe; everything with a free-form name is NUL-terminated.
    record = ("while read -r fd size blocks dev ino; do pid=${fd#/proc/}; pid=${pid%%/*}; "
              "printf '%s %s %s %s %s\\0' \"$fd\" \"$size\" \"$blocks\" \"$dev\" \"$ino\"; "
              "readlink -- \"$fd\" 2>/dev/null; printf '\\0'; "
              "head -c 64 \"/proc/$pid/comm\" 2>/dev/null; printf '\\0'; "
              "grep -m 1 -o '[^/]*\\.service' \"/proc/$pid/cgroup\" 2>/dev/null; printf '\\0'; done")
    return "; ".join([
        "export LC_ALL=C",
        part_marker(nonce, "mounts"),
        "cat /proc/self/mountinfo",
        part_marker(nonce, "deleted"),
        "find -L /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -type f -links 0 "
        "-printf '%h/%f %s %b %D %i\\n' 2>/dev/null | " + record,
    ])


def parse_deleted(stdout: str, nonce: str) -> list[DeletedFile]:
    """Deleted-but-open files from ``deleted_command``'s output, one per file (not per fd),
    largest first. Shared memory (memfd, SysV) is left out: it is not on a disk."""
    parts = split_parts(stdout, nonce)
    if "deleted" not in parts:
        raise ValueError("no deleted-files section in the output")
    points = parse_mountinfo(parts.get("mounts", ""))
    fields = parts["deleted"].split("\0")
    by_id: dict[tuple[int, int], dict[str, Any]] = {}
    for i in range(0, len(fields) - 4, 4):
        head, target, comm, unit = fields[i:i + 4]
        words = head.lstrip("\n").split(" ")
        if len(words) != 5 or not all(w.isdigit() for w in words[1:]):
            continue
        fd_path, size, blocks, dev, ino = words[0], *map(int, words[1:])
        pid_text, _, fd_text = fd_path.removeprefix("/proc/").partition("/fd/")
        if not (pid_text.isdigit() and fd_text.isdigit()):
            continue
        path = target.removesuffix("\n").removesuffix(" (deleted)")
        if not path.startswith("/") or path.startswith(("/memfd:", "/SYSV", "/dev/zero")):
            continue
        service = unit.strip() or None
        holder = Holder(int(pid_text), int(fd_text), comm.strip(), service)
        entry = by_id.setdefault((dev, ino), {"path": path, "size": size, "allocated": blocks * 512,
                                              "holders": []})
        entry["holders"].append(holder)
    result = [DeletedFile(path=e["path"], size=e["size"], allocated=e["allocated"], device=dev,
                          inode=ino, holders=tuple(sorted(e["holders"], key=lambda h: (h.pid, h.fd))),
                          mount=mount_for(e["path"], dev, points))
              for (dev, ino), e in by_id.items()]
    result.sort(key=lambda f: (-f.allocated, f.path))
    return result
