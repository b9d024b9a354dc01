"""The pure rotation planner: facts and options in, logrotate's operations out, in its order.

It replays logrotate 3.21's ``rotateLogSet`` for one log on a model of the directory, so
that every name it produces (and every name it replaces or removes) is the one logrotate
would, including its less obvious habits, each checked against Debian's logrotate:

- numbered logs shift from ``rotate`` down to 1 (``log.N -> log.N+1``); only ``log.rotate+1`` is
  removed afterwards, so strays beyond it (``log.9`` under ``rotate 3``) stay where they are;
- with compress only the ``.gz`` names shift: a plain ``log.1`` left from an older setup is
  silently replaced when the live log becomes ``log.1``;
- delaycompress compresses last run's ``log.1`` first, then shifts it as ``log.2.gz``;
- under dateext the old logs are sorted by the date in their names and all but the newest
  ``rotate - 1`` are removed; a second rotation with the same date is refused;
- ``rotate 0`` removes the log it just rotated, but a ``log.1`` from earlier is shifted to
  ``log.2`` and then kept (and under dateext the newest old log is kept);
- a file in the way of a file logrotate creates (the ``.gz`` of a compression, the copy of
  copytruncate) is renamed to ``NAME-YYYYMMDDHH.backup``;
- ``logrotate -f`` ignores size and minsize but still honours notifempty and missingok.

Where logrotate would fail half-way or do work only to undo it, the plan differs on purpose:

- a dateext rotation to a date already used is refused before anything is done (logrotate
  first removes old logs, then reports "destination already exists");
- under ``rotate 0`` the rotated log is removed without being compressed first (logrotate
  gzips it and removes the ``.gz``: same end state, without filling a full disk further);
- ``rotate 0`` + copytruncate + compress: logrotate fails compressing a ``.1`` it never made and
  keeps ``log.2``; we have nothing to compress and remove it as its plan said;
- a plan that would put two copies of one generation side by side (``log.2`` and
  ``log.2.gz``: the host's files follow another scheme than the options) is refused, naming
  both; logrotate would shift the one and leave the other. ``existing_scheme`` reads the
  scheme the files show, so a caller without options of its own can continue it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    RenamePurpose,
    RotatedFile,
    RotationPlan,
    RunCommand,
    Truncate,
    show_path,
)
from runbook.logs.rotation.options import DATE_SPECIFIER_DIGITS, RotationOptions
from runbook.units import format_bytes

_DAY = 24 * 3600


def plan_rotation(log: LogFileState, existing: Sequence[RotatedFile], opts: RotationOptions,
                  now: datetime, force: bool = False) -> RotationPlan:
    """What rotating ``log`` does, as logrotate would do it.

    log / existing: the live log and the files next to it (any sibling; those that are not
    rotated names of this log are left alone). now: the host's local time (dateext names,
    maxage). force: like ``logrotate -f``; without it the rotation is taken as due (as if the
    interval had passed) and only ``size`` (at least this big) or ``minsize`` can hold it back.

    Raises ActionError for a missing log without missingok (naming it), for a log that is not
    a regular file, and where logrotate would refuse (a dateext name already taken).
    """
    reason = _reason_to_skip(log, opts, force)
    if reason:
        return RotationPlan(log.path, skipped=reason)
    replay = _Replay(log, existing, opts, now)
    before = set(replay.files)
    plan = replay.plan()
    _refuse_two_of_a_generation(log, before, set(replay.files), opts)
    return plan


#: Extensions of compressed rotated logs and the program that makes each, as logrotate's
#: compresscmd would be set for them.
COMPRESSORS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd", ".lz4": "lz4"}
_EXT = "|".join(re.escape(e) for e in COMPRESSORS)
_NUMBERED = re.compile(r"\.(?P<n>[0-9]+)(?P<ext>" + _EXT + r")?")
_DATED = re.compile(r"-(?P<date>[0-9]{8}(?:[0-9]{2})?)(?P<ext>" + _EXT + r")?")


def existing_scheme(base: str, existing: Sequence[RotatedFile]) -> dict[str, Any] | None:
    """The rotation scheme ``base``'s rotated siblings show, as logrotate options:
    ``dateext``, ``compress``, ``delaycompress`` and (for bzip2, xz, ...) ``compresscmd`` and
    ``compressext``. The newest rotations decide (a host that switched from plain to
    compressed logs continues compressed). None when there is nothing to go by: no rotated
    sibling, or only one plain newest generation (``log.1``), which delaycompress leaves too.

    log.1 log.2 log.3          -> plain numbered
    log.1 log.2.gz log.3.gz    -> compress + delaycompress
    log.1.gz log.2.gz          -> compress
    log-20261202.gz            -> dateext + compress
    """
    numbered: dict[int, str] = {}
    dated: dict[str, str] = {}
    for sibling in existing:
        if not sibling.name.startswith(base) or sibling.kind != "file":
            continue
        rest = sibling.name[len(base):]
        if match := _NUMBERED.fullmatch(rest):
            numbered.setdefault(int(match["n"]), match["ext"] or "")
        elif match := _DATED.fullmatch(rest):
            dated.setdefault(match["date"], match["ext"] or "")
    if numbered:
        ordered = [numbered[n] for n in sorted(numbered)]
        scheme: dict[str, Any] = {"dateext": False}
    elif dated:
        ordered = [dated[d] for d in sorted(dated, reverse=True)]
        scheme = {"dateext": True}
    else:
        return None
    if ordered == [""]:
        return None             # log.1 alone: plain numbering and delaycompress both leave it so
    newest, older = ordered[0], [ext for ext in ordered[1:] if ext]
    if newest:
        ext = newest
        scheme.update(compress=True, delaycompress=False)
    elif older and not scheme["dateext"]:
        ext = older[0]          # log.1 plain, log.2.gz: logrotate's delaycompress
        scheme.update(compress=True, delaycompress=True)
    else:
        return {**scheme, "compress": False, "delaycompress": False}
    if ext != ".gz":
        scheme.update(compresscmd=COMPRESSORS[ext], compressext=ext)
    return scheme


def _refuse_two_of_a_generation(log: LogFileState, before: set[str], after: set[str],
                                opts: RotationOptions) -> None:
    """ActionError when the planned end state holds one rotated generation twice, plain and
    compressed (``log.2`` beside ``log.2.gz``), where it did not before: the options do not
    fit the host's files. (A pair that was there already is the host's own; it stays.)"""
    made = _pairs(log.name, after, opts) - _pairs(log.name, before, opts)
    if made:
        plain, ext = min(made)
        path = posixpath.join(log.directory, plain)
        raise ActionError(
            f"rotating {show_path(log.path)} would leave {show_path(path)} beside "
            f"{show_path(path + ext)}: its rotated files follow another scheme than the "
            "rotation options (compress, delaycompress, dateext); rotate it with the host's "
            "logrotate, or set log_sets.<set>.rotate to match the files")


def _pairs(base: str, names: set[str], opts: RotationOptions) -> set[tuple[str, str]]:
    """(plain name, extension) of every rotated generation of ``base`` present both plain
    and compressed among ``names``."""
    exts = set(COMPRESSORS) | {opts.compressext}
    return {(name[: -len(ext)], ext) for name in names for ext in exts
            if name.startswith(base) and name != base and name.endswith(ext) and name[: -len(ext)] in names}


def format_date(dateformat: str, now: datetime) -> str:
    """logrotate's strftime of the dateext suffix, for the specifiers it allows."""
    values = {"Y": f"{now.year:04d}", "m": f"{now.month:02d}", "d": f"{now.day:02d}",
              "H": f"{now.hour:02d}", "M": f"{now.minute:02d}", "S": f"{now.second:02d}",
              "V": f"{now.isocalendar().week:02d}", "s": str(int(now.timestamp()))}
    return re.sub(r"%(.)", lambda m: values[m.group(1)], dateformat.lstrip(" "))


def _reason_to_skip(log: LogFileState, opts: RotationOptions, force: bool) -> str | None:
    """findNeedRotating(), in its order; None when the log is to be rotated."""
    if not log.exists:
        if opts.missingok:
            return "it does not exist (missingok)"
        raise ActionError(f"log file {show_path(log.path)} does not exist "
                          "(set missingok to skip missing logs)")
    if log.kind == "symlink":
        return "it is a symbolic link, which logrotate never rotates"
    if log.kind != "file":
        raise ActionError(f"{show_path(log.path)} is a {log.kind}, not a log file")
    if log.nlink != 1:
        return f"it has {log.nlink} hard links, which logrotate does not rotate"
    if not force:
        # "size" replaces the time criterion and then minsize is never consulted: logrotate
        # only checks minsize in its time-based branch (verified: size 1k + minsize 2k rotates
        # a 1500-byte log).
        if opts.size is not None and log.size < opts.size:
            return f"{format_bytes(log.size)} is below size {format_bytes(opts.size)}"
        if opts.size is None and opts.minsize is not None and log.size < opts.minsize:
            return f"{format_bytes(log.size)} is below minsize {format_bytes(opts.minsize)}"
    if not opts.ifempty and log.size == 0:
        return "it is empty (notifempty)"
    return None


@dataclass
class _Entry:
    """One name in the model of the log's directory."""

    size: int | None
    mtime: float
    kind: FileKind


class _Replay:
    """prerotateSingleLog, rotateSingleLog, the postrotate script and postrotateSingleLog for one
    log, applied to a dict of names so that every existence check sees what logrotate sees."""

    def __init__(self, log: LogFileState, existing: Sequence[RotatedFile],
                 opts: RotationOptions, now: datetime) -> None:
        self.log = log
        self.opts = opts
        self.now = now
        self.base = log.name
        self.files: dict[str, _Entry] = {
            f.name: _Entry(f.size, f.mtime, f.kind) for f in existing if f.name != log.name}
        self.files[self.base] = _Entry(log.size, log.mtime, "file")
        self.ops: list[Operation] = []

    def plan(self) -> RotationPlan:
        opts, base = self.opts, self.base
        # "rotate 0" still names the rotated log .1 and shifts like "rotate 1" (logrotate:
        # rotateCount ? rotateCount : 1); it differs only in what it disposes of.
        count = opts.rotate or 1
        ext = opts.rotated_ext
        if opts.delays_compression:
            # First compress the previous rotation that delaycompress left plain.
            previous = self._dated("") if opts.dateext else [f"{base}.1"]
            for name in previous:
                if name in self.files:
                    self._compress(name)
        if opts.dateext:
            dispose = self._expire_dated(count, ext)
            final = base + format_date(opts.dateformat, self.now)
            if final + ext in self.files:
                raise ActionError(
                    f"{show_path(self._path(final + ext))} already exists: logrotate skips a "
                    f"second rotation with the same date (dateformat {opts.dateformat!r})")
        else:
            dispose = self._shift(count, ext)
            final = f"{base}.1"
        if dispose and dispose[0] not in self.files:
            dispose = None

        final, dispose = self._rotate(final, ext, dispose)
        if opts.postrotate:
            # Once, after the rename/create and before compression, so the writer has
            # reopened its log before .1 is compressed away.
            self.ops.append(RunCommand(opts.postrotate, self.log.path, self._path(final)))
        kept = self._compress_rotated(final)
        if dispose:
            self._remove(*dispose)
        return RotationPlan(self.log.path, tuple(self.ops), rotated_to=kept)

    def _shift(self, count: int, ext: str) -> tuple[str, str]:
        """log.N -> log.N+1 from N = count down to 1; returns the name removed at the end."""
        base, maxage = self.base, self.opts.maxage
        for i in range(count, 0, -1):
            old = f"{base}.{i}{ext}"
            if old not in self.files:
                continue
            if maxage and self._age_days(old) > maxage:
                self._remove(old, f"older than maxage {maxage} days")
                continue
            self._rename(old, f"{base}.{i + 1}{ext}", "shift")
        return f"{base}.{count + 1}{ext}", f"beyond rotate {self.opts.rotate}"

    def _expire_dated(self, count: int, ext: str) -> tuple[str, str] | None:
        """Remove the oldest dated logs so that ``count - 1`` stay, plus those past maxage. The
        last one chosen is only removed after the rotation (logrotate's disposeName)."""
        matches = self._dated(ext)
        total, maxage = len(matches), self.opts.maxage
        chosen: list[tuple[str, str]] = []
        for index, name in enumerate(matches):
            if total >= count and index <= total - count:
                chosen.append((name, f"beyond rotate {self.opts.rotate} (oldest by date)"))
            elif maxage and self._age_days(name) > maxage:
                chosen.append((name, f"older than maxage {maxage} days"))
        for name, reason in chosen[:-1]:
            self._remove(name, reason)
        return chosen[-1] if chosen else None

    def _rotate(self, final: str, ext: str,
                dispose: tuple[str, str] | None) -> tuple[str, tuple[str, str] | None]:
        """rotateSingleLog: rename (+ create) or copy + truncate."""
        opts, log = self.opts, self.log
        if not opts.copytruncate:
            self._rename(self.base, final, "rotate")
            if opts.rotate == 0:
                # rotate 0 replaces the disposal chosen above with the log just rotated, so an
                # older log.2 / newest dated log survives (verified with logrotate 3.21).
                # logrotate would compress it first and remove the .gz; see _compress_rotated.
                dispose = (final, "rotate 0 keeps no rotated log")
            if opts.create:
                mode = opts.create_mode if opts.create_mode is not None else log.mode & 0o777
                owner = opts.create_owner or str(log.uid)
                group = opts.create_group or str(log.gid)
                self.ops.append(Create(log.path, mode, owner, group))
                self.files[self.base] = _Entry(0, self.now.timestamp(), "file")
        else:
            if opts.rotate != 0:  # logrotate skips the copy under rotate 0: only truncates
                self._make_room(final)
                self.ops.append(Copy(log.path, self._path(final), log.size))
                self.files[final] = _Entry(log.size, self.now.timestamp(), "file")
            self.ops.append(Truncate(log.path, log.size))
            self.files[self.base] = _Entry(0, self.now.timestamp(), "file")
        return final, dispose

    def _compress_rotated(self, final: str) -> str | None:
        """postrotateSingleLog's compression; returns where the rotated content is kept."""
        opts = self.opts
        if final not in self.files:
            # rotate 0 with copytruncate made no copy. logrotate then fails trying to compress
            # the missing .1 and keeps its disposal; there is nothing to compress, so we don't.
            return None
        if opts.rotate == 0 and not opts.copytruncate:
            # logrotate compresses the rotated log and removes the .gz straight away; removing
            # the plain file ends the same, without gzipping a log nobody keeps on a full disk.
            return None
        kept = final
        if opts.compress and not opts.delays_compression:
            self._compress(final)
            kept = final + opts.compressext
        # Under rotate 0 with copytruncate a .1 left from before may still be compressed here,
        # but the live log's lines were truncated away, not kept.
        return self._path(kept) if opts.rotate else None

    def _dated(self, ext: str) -> list[str]:
        """Names ``base + date + ext``, oldest first, as logrotate's glob and date sort find
        them (glob order by name, then a stable sort by the date read back from the name)."""
        parts = re.split(r"%(.)", self.opts.dateformat.lstrip(" "))
        specs = parts[1::2]
        pattern = "".join(
            f"([0-9]{{{DATE_SPECIFIER_DIGITS[part]}}})" if index % 2 else re.escape(part)
            for index, part in enumerate(parts))
        wanted = re.compile(re.escape(self.base) + pattern + re.escape(ext))
        found = []
        for name in sorted(self.files, key=lambda n: n.encode("utf-8", "surrogateescape")):
            match = wanted.fullmatch(name)
            if match:
                found.append((_date_key(specs, match.groups()), name))
        found.sort(key=lambda pair: pair[0])
        return [name for _, name in found]

    def _compress(self, name: str) -> None:
        entry = self.files[name]
        if entry.kind != "file":
            raise ActionError(f"{show_path(self._path(name))} is a {entry.kind}: logrotate "
                              "refuses to compress it (it opens with O_NOFOLLOW)")
        self._make_room(name + self.opts.compressext)
        command = (self.opts.compresscmd, *self.opts.compressoptions)
        self.ops.append(Compress(self._path(name), self.opts.compressext, command, entry.size))
        del self.files[name]
        self.files[name + self.opts.compressext] = _Entry(None, entry.mtime, "file")

    def _make_room(self, name: str) -> None:
        """createOutputFile(): a file already at a name logrotate creates is moved aside."""
        if name in self.files:
            backup = name + self.now.strftime("-%Y%m%d%H") + ".backup"
            self._rename(name, backup, "backup")

    def _rename(self, src: str, dst: str, purpose: RenamePurpose) -> None:
        entry = self.files.pop(src)
        replaces = dst in self.files
        self.ops.append(Rename(self._path(src), self._path(dst), purpose, entry.size, replaces))
        self.files[dst] = entry

    def _remove(self, name: str, reason: str) -> None:
        entry = self.files.pop(name)
        self.ops.append(Remove(self._path(name), reason, entry.size))

    def _age_days(self, name: str) -> float:
        return (self.now.timestamp() - self.files[name].mtime) / _DAY

    def _path(self, name: str) -> str:
        return posixpath.join(self.log.directory, name)


def _date_key(specs: list[str], digits: tuple[str, ...]) -> tuple[int, ...]:
    """The order logrotate sorts dated names in: strptime() the date, then mktime(). Fields the
    format lacks stay as strptime leaves a zeroed struct tm; %V is parsed but ignored by glibc."""
    values = dict(zip(specs, (int(d) for d in digits), strict=True))
    if "s" in values:
        return (values["s"],)
    return (values.get("Y", 1900), values.get("m", 1), values.get("d", 0),
            values.get("H", 0), values.get("M", 0), values.get("S", 0))
