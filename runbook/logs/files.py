"""The log files of a host's log sets: each file's size, mtime, identity (device, inode),
whether it is rotated or compressed, whether a process holds it open, and whether a symlink
sits anywhere in its path.

One shell command lists every set: per glob, a ``find`` from the glob's fixed base directory
at exactly the glob's depth (``-path`` narrows it, the parser then matches each component with
the glob's own pattern, since ``find``'s ``*`` also matches ``/``). Rotated siblings are found
by the live name plus ``.``/``-`` and anything (``access.log.1``, ``access.log.2.gz``,
``access.log-20250101``). Which files are held open comes from /proc/*/fd (by device and
inode, not by name, so a renamed or hostile name cannot hide it); which mount a file is on
comes from /proc/self/mountinfo. Output is NUL-separated: names with spaces, quotes or
newlines survive. ``find -P`` never follows a symlink below the base directory, and
``readlink -f`` of each base directory tells whether a symlink sits above it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any

from runbook.connection.shell import join, quote
from runbook.errors import ActionError
from runbook.facts.batch import new_nonce, part_marker, split_parts
from runbook.facts.usage import mount_for, parse_mountinfo
from runbook.logs.sets import LogSet, glob_base
from runbook.task import HostTask

COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4", ".lzo", ".Z", ".zip")
_KINDS = {"f": "file", "l": "symlink", "d": "directory"}
# What logrotate and the usual writers append to a rotated log's name: a number, a date
# (dateext: -20250101, -2025010112, -2025-01-01), optionally a time, then a compression suffix.
_SUFFIX = re.compile(r"[.-](\d{1,4}|\d{8}(?:\d{2}|-?\d{6})?|\d{4}-\d{2}-\d{2}(?:[._-]\d{1,6})?)")
_ENDS_ROTATED = re.compile(r"^(.+?)" + _SUFFIX.pattern + "$")
_DATED = re.compile(r"[._-]?\d{4}-?\d{2}-?\d{2}(?:[._-]?\d{2,6})?(?=[._-]|$)")


@dataclass(frozen=True)
class LogFile:
    """One file of a log set, as listed on the host.

    path: absolute path. log_set: the set's name. log: the live log it belongs to (its own
    path for a live log; ``access.log`` for ``access.log.2.gz``) -- rotated files of one log
    are counted together for ``keep``. size, mtime (epoch seconds), device, inode, nlink:
    from lstat. kind: "file", "symlink" or "other". rotated: a rotated (or dated) copy, not
    the log being written. compressed: by name. open_by: pids holding it open. mount: the
    mount point it lives on. symlinked: a symlink is somewhere in its path (it may be read
    but is never deleted).
    """

    path: str
    log_set: str
    log: str
    size: int
    mtime: float
    device: int
    inode: int
    nlink: int
    kind: str
    rotated: bool
    compressed: bool
    open_by: tuple[int, ...]
    mount: str | None
    symlinked: bool

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["open_by"] = list(self.open_by)
        return data


def logfiles_command(sets: Sequence[LogSet], nonce: str) -> str:
    """One sh line listing every file of ``sets`` (parts ``g<set>_<glob>``), the real path of
    each base directory (``b<i>``), open files (``open``) and the mount table (``mounts``)."""
    pieces = ["export LC_ALL=C", part_marker(nonce, "open"),
              # fd -> file identity; the pid is the directory name. One line per fd.
              "find -L /proc/[0-9]*/fd -mindepth 1 -maxdepth 1 -type f -printf '%D:%i %h\\n' 2>/dev/null",
              part_marker(nonce, "mounts"), "cat /proc/self/mountinfo"]
    bases = _bases(sets)
    for i, base in enumerate(bases):
        pieces += [part_marker(nonce, f"b{i}"), f"readlink -f -- {quote(base)}"]
    for s, log_set in enumerate(sets):
        for g, glob in enumerate(log_set.globs):
            base, depth = glob_base(glob)
            find = join(["find", "-H", base, "-mindepth", depth, "-maxdepth", depth,
                         "(", "-path", glob, "-o", "-path", glob + "[.-]*", ")",
                         "-printf", "%y %D %i %n %s %T@ %p\\0"])
            pieces += [part_marker(nonce, f"g{s}_{g}"),
                       f"if [ -d {quote(base)} ]; then {find} 2>/dev/null; fi"]
    pieces.append(part_marker(nonce, "end"))
    return "; ".join(pieces)


def parse_logfiles(stdout: str, sets: Sequence[LogSet], nonce: str) -> list[LogFile]:
    """Every file of every set, from ``logfiles_command``'s output. A file matched by two
    sets belongs to the first. Names that did not decode as UTF-8 are left out: they cannot
    be named back to the host."""
    parts = split_parts(stdout, nonce)
    if "end" not in parts:
        raise ValueError("log file listing was cut off")
    open_by = _open_files(parts.get("open", ""))
    points = parse_mountinfo(parts.get("mounts", ""))
    real = {base: parts.get(f"b{i}", "").removesuffix("\n") for i, base in enumerate(_bases(sets))}
    seen: set[str] = set()
    files: list[LogFile] = []
    for s, log_set in enumerate(sets):
        for g, glob in enumerate(log_set.globs):
            base, _ = glob_base(glob)
            records = _records(parts.get(f"g{s}_{g}", ""), glob)
            names = live_names({posixpath.basename(r["path"]) for r in records if r["direct"]})
            for r in records:
                if r["path"] in seen or "\ufffd" in r["path"]:
                    continue
                seen.add(r["path"])
                rotated, compressed, log_name = classify(posixpath.basename(r["path"]), names)
                files.append(LogFile(
                    path=r["path"], log_set=log_set.name,
                    log=posixpath.join(posixpath.dirname(r["path"]), log_name),
                    size=r["size"], mtime=r["mtime"], device=r["device"], inode=r["inode"],
                    nlink=r["nlink"], kind=r["kind"], rotated=rotated, compressed=compressed,
                    open_by=tuple(sorted(open_by.get((r["device"], r["inode"]), ()))),
                    mount=mount_for(r["path"], r["device"], points),
                    symlinked=r["kind"] == "symlink" or real.get(base) != base))
    return files


def classify(name: str, live_names: set[str] | frozenset[str] = frozenset()) -> tuple[bool, bool, str]:
    """(rotated, compressed, name of the live log) for a file name.

    Rotated: another listed live name plus a rotation suffix (``access.log.1``,
    ``access.log-20250101.gz``), a name ending in such a suffix, a compressed name, or a name
    carrying a date (``catalina.2025-01-01.log``: Tomcat rotates by starting a new file each
    day). Everything else is a live log.
    """
    compressed = name.endswith(COMPRESSED)
    stem = next((name[: -len(ext)] for ext in COMPRESSED if name.endswith(ext)), name)
    for live in sorted(live_names, key=len, reverse=True):
        if live != name and stem.startswith(live) and (stem == live or _SUFFIX.fullmatch(stem[len(live):])):
            return True, compressed, live
    split = _ENDS_ROTATED.match(stem)
    if split:
        return True, compressed, split.group(1)
    if _DATED.search(stem):
        return True, compressed, _DATED.sub("", stem) or stem
    return compressed, compressed, stem


def live_names(names: set[str]) -> set[str]:
    """The names among ``names`` that are live logs (shortest first, so ``access.log`` makes
    ``access.log.1`` and ``access.log.1.gz`` its rotated files)."""
    live: set[str] = set()
    for name in sorted(names, key=len):
        if not classify(name, live)[0]:
            live.add(name)
    return live


def _bases(sets: Sequence[LogSet]) -> list[str]:
    return sorted({glob_base(glob)[0] for s in sets for glob in s.globs})


def _open_files(text: str) -> Mapping[tuple[int, int], set[int]]:
    held: dict[tuple[int, int], set[int]] = {}
    for line in text.splitlines():
        ident, _, where = line.partition(" ")
        dev, _, ino = ident.partition(":")
        pid = where.removeprefix("/proc/").removesuffix("/fd")
        if dev.isdigit() and ino.isdigit() and pid.isdigit():
            held.setdefault((int(dev), int(ino)), set()).add(int(pid))
    return held


def glob_match(path: str, glob: str) -> bool | None:
    """Whether ``path`` belongs to ``glob``, component by component: True for a file the glob
    matches itself, False for a rotated sibling (the glob plus ``.``/``-`` and anything), None
    for neither. As in the shell, a wildcard does not match a leading dot (temporary files)."""
    pattern = glob.strip("/").split("/")
    parts = path.strip("/").split("/")
    if len(parts) != len(pattern) or posixpath.normpath(path) != path:
        return None
    if not all(fnmatchcase(p, q) for p, q in zip(parts[:-1], pattern[:-1])):
        return None
    if any(p.startswith(".") and not q.startswith(".") for p, q in zip(parts, pattern)):
        return None
    if fnmatchcase(parts[-1], pattern[-1]):
        return True
    return False if fnmatchcase(parts[-1], pattern[-1] + "[.-]*") else None


def _records(text: str, glob: str) -> list[dict[str, Any]]:
    """find's records that really match the glob component by component (``direct``), or
    whose last component is the glob's plus a rotation suffix (a sibling)."""
    out = []
    for record in text.split("\0"):
        fields = record.lstrip("\n").split(" ", 6)
        if len(fields) != 7:
            continue
        kind, dev, ino, nlink, size, mtime, path = fields
        direct = glob_match(path, glob)
        if direct is None:
            continue
        try:
            out.append({"path": path, "kind": _KINDS.get(kind, "other"), "device": int(dev),
                        "inode": int(ino), "nlink": int(nlink), "size": int(size),
                        "mtime": float(mtime), "direct": direct})
        except ValueError:
            continue
    return out


def list_log_files(task: HostTask, sets: Sequence[LogSet]) -> list[LogFile]:
    """Every file of ``sets`` on the host (one command)."""
    if not sets:
        return []
    nonce = new_nonce()
    result = task.run(logfiles_command(sets, nonce), check=True)
    try:
        return parse_logfiles(result.stdout, sets, nonce)
    except ValueError as exc:
        raise ActionError(f"{task.host.name}: cannot read the log file listing: {exc}") from None
