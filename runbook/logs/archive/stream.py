"""The local half of ``logs.archive``: what arrives over SSH becomes one .tar.gz, and the
finished archive is read back and checked against the sha256 sums computed on the host.

Two ways a host can send its files, chosen by whether it has a Python 3:

- **python** (``remote.py``): the host builds the tar.gz itself and sends it in
  frames (``FrameReader`` takes them apart: archive bytes go straight to the file, one manifest
  entry per member is kept). Only compressed bytes cross the network.
- **shell** (no Python on the host): a POSIX sh script sends exactly the listed number of bytes
  of each file, back to back (``head -c``, padded with zeros if a file shrank), and a second
  script sums the same bytes with ``sha256sum``. ``TarGzWriter`` builds the archive here.

Either way, ``verify_archive`` then reads the archive from the local disk, hashes every member
and compares it with the host's sum: only a member that matches is "verified".
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import struct
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from runbook.connection.shell import quote
from runbook.errors import ActionError
from runbook.logs.archive import remote as archive_remote

REMOTE_PROGRAM = Path(archive_remote.__file__).read_bytes()
_HEADER = struct.Struct(">cI")


@dataclass(frozen=True)
class HeldOpen:
    """Where a deleted-but-open file's content was read from: the name it had, the process
    holding it and that process's fd (the file is opened as ``/proc/<pid>/fd/<fd>``)."""

    path: str
    pid: int
    fd: int
    process: str

    @property
    def fd_path(self) -> str:
        return f"/proc/{int(self.pid)}/fd/{int(self.fd)}"

    def to_json(self) -> dict[str, Any]:
        return {"deleted": True, "path": self.path, "pid": self.pid, "fd": self.fd, "process": self.process,
                "fd_path": self.fd_path}


@dataclass(frozen=True)
class Listed:
    """One file as the listing saw it; the archive takes exactly ``size`` bytes of it.

    held: set for a deleted-but-open file: ``path`` is then its ``/proc/PID/fd/N`` link (the
    only kind of path the host side follows) and its member is ``deleted/<pid>-<fd>/<name>``.
    """

    path: str
    size: int
    mtime: float
    device: int
    inode: int
    held: HeldOpen | None = None

    @property
    def member(self) -> str:
        """The member's name in the tar."""
        if self.held is not None:
            return f"deleted/{int(self.held.pid)}-{int(self.held.fd)}/{posixpath.basename(self.held.path)}"
        return self.path.lstrip("/")

    def to_job(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtime": self.mtime,
                "device": self.device, "inode": self.inode, "member": self.member,
                "proc_fd": self.held is not None}


def remote_stdin(files: Sequence[Listed], *, level: int, chunk: int) -> bytes:
    """What the python bootstrap reads: the program, then the job, each after its length."""
    job = json.dumps({"files": [f.to_job() for f in files], "level": level, "chunk": chunk},
                     ensure_ascii=False).encode("utf-8", "surrogateescape")
    return b"%d\n" % len(REMOTE_PROGRAM) + REMOTE_PROGRAM + b"%d\n" % len(job) + job


def python_command(interpreter: str) -> str:
    """The fixed command line of the python mode (-I -S -B: no site, no env, no .pyc)."""
    return f"exec {quote(interpreter)} -I -S -B -c {quote(archive_remote.BOOTSTRAP)}"


class FrameReader:
    """A sink for ``Connection.stream``: writes Z payloads to ``out`` as they arrive (no
    buffering of archive data), keeps M entries and the E summary."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.bytes = 0
        self.entries: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None
        self._head = bytearray()
        self._kind = b""
        self._left = 0
        self._record = bytearray()

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            if self._left == 0 and not self._kind:
                need = _HEADER.size - len(self._head)
                self._head += view[:need]
                view = view[need:]
                if len(self._head) < _HEADER.size:
                    break
                self._kind, self._left = _HEADER.unpack(bytes(self._head))
                self._head.clear()
                if self._kind not in (b"Z", b"M", b"E"):
                    raise ActionError(f"archive stream is garbled: frame kind {self._kind!r}")
                if self._left == 0:
                    self._finish()
                continue
            take = view[: self._left]
            view = view[len(take):]
            self._left -= len(take)
            if self._kind == b"Z":
                self.out.write(take)
                self.sha256.update(take)
                self.bytes += len(take)
            else:
                self._record += take
            if self._left == 0:
                self._finish()
        return len(data)

    def _finish(self) -> None:
        if self._kind != b"Z":
            value = json.loads(bytes(self._record).decode("utf-8"))
            if self._kind == b"M":
                self.entries.append(value)
            else:
                self.end = value
        self._record.clear()
        self._kind = b""

    @property
    def complete(self) -> bool:
        return self.end is not None and self._left == 0 and not self._head


class _Hashing:
    """A write-only file that hashes what passes through (for the archive's own sha256)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.sha256.update(data)
        self.bytes += len(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


class TarGzWriter:
    """A sink for the shell mode's stream: the files' bytes back to back, in listing order,
    each exactly ``size`` long. Writes tar headers and padding around them, gzip-compressed."""

    def __init__(self, out: BinaryIO, files: Sequence[Listed], *, level: int) -> None:
        self._raw = _Hashing(out)
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=level, mtime=0)  # type: ignore[arg-type]
        self._files = list(files)
        self._index = -1
        self._left = 0
        self.sums: list[str] = []
        self._digest = hashlib.sha256()
        self._next()

    def _next(self) -> None:
        while True:
            if self._index >= 0:
                size = self._files[self._index].size
                if size % 512:
                    self._gz.write(bytes(512 - size % 512))
                self.sums.append(self._digest.hexdigest())
            self._index += 1
            if self._index >= len(self._files):
                return
            listed = self._files[self._index]
            info = tarfile.TarInfo(listed.member)
            info.size, info.mtime, info.mode = listed.size, int(listed.mtime), 0o644
            self._gz.write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
            self._digest = hashlib.sha256()
            self._left = listed.size
            if self._left:
                return

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            if self._index >= len(self._files):
                raise ActionError(f"archive stream has {len(view)} bytes more than listed")
            take = view[: self._left]
            self._gz.write(take)
            self._digest.update(take)
            self._left -= len(take)
            view = view[len(take):]
            if self._left == 0:
                self._next()
        return len(data)

    def close(self) -> None:
        if self._index < len(self._files):
            raise ActionError(f"archive stream ended early, inside {self._files[self._index].path!r}")
        self._gz.write(bytes(1024))
        self._gz.close()

    @property
    def sha256(self) -> str:
        return self._raw.sha256.hexdigest()

    @property
    def bytes(self) -> int:
        return self._raw.bytes


def shell_stream_script(files: Sequence[Listed]) -> str:
    """sh script (sent on stdin) printing exactly ``size`` bytes of each file, in order."""
    lines = ["export LC_ALL=C"]
    for f in files:
        n = int(f.size)
        lines.append(f"{{ head -c {n} -- {quote(f.path)} 2>/dev/null; head -c {n} /dev/zero; }} | head -c {n}")
    return "\n".join(lines) + "\n"


def shell_sums_script(files: Sequence[Listed]) -> str:
    """sh script (sent on stdin) printing, per file: index, dev:inode, bytes present of the
    listed size, and the sha256 of exactly what the stream script sends."""
    lines = ["export LC_ALL=C"]
    for i, f in enumerate(files):
        n, p = int(f.size), quote(f.path)
        # A deleted-but-open file is read through its /proc fd link: its identity is the target's.
        follow = "-L " if f.held is not None else ""
        lines.append(f"printf '%s %s %s %s\\n' {i} \"$(stat {follow}-c %d:%i -- {p} 2>/dev/null || echo -)\" "
                     f"\"$(head -c {n} -- {p} 2>/dev/null | wc -c)\" "
                     f"\"$({{ head -c {n} -- {p} 2>/dev/null; head -c {n} /dev/zero; }} | head -c {n} | sha256sum)\"")
    return "\n".join(lines) + "\n"


def parse_shell_sums(stdout: str, files: Sequence[Listed]) -> list[dict[str, Any]]:
    """Manifest entries (as the python mode sends them) from ``shell_sums_script``'s output."""
    entries = []
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].isdigit() or int(fields[0]) >= len(files):
            continue
        f = files[int(fields[0])]
        ident, present, digest = fields[1], int(fields[2]), fields[3]
        entry: dict[str, Any] = {"i": int(fields[0]), "path": f.path, "member": f.member,
                                 "listed_bytes": f.size, "bytes": f.size, "sha256": digest,
                                 "mtime": int(f.mtime), "device": f.device, "inode": f.inode}
        if ident == "-":
            entry["status"] = "missing"
        elif ident != f"{f.device}:{f.inode}":
            entry["status"] = "replaced"
        elif present < f.size:
            entry.update(status="shrunk", bytes_read=present)
        else:
            entry["status"] = "ok"
        entries.append(entry)
    return entries


def verify_archive(path: Path) -> dict[str, tuple[int, str]]:
    """Read the archive back from disk: member name -> (bytes, sha256 of its content)."""
    found: dict[str, tuple[int, str]] = {}
    with tarfile.open(path, mode="r|gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            digest = hashlib.sha256()
            size = 0
            stream = tar.extractfile(member)
            if stream is None:
                continue
            while piece := stream.read(1 << 20):
                digest.update(piece)
                size += len(piece)
            found[member.name] = (size, digest.hexdigest())
    return found
