"""The disk fact: space and inodes per mounted filesystem, from ``df -P`` or psutil.

Over SSH the fact reads three things in one go: the mount table (/proc/mounts, for filesystem
types and to resolve ambiguous mount points), ``df -P -i`` (inodes) and ``df -P -k`` (space).
``-P`` is the POSIX format: one line per filesystem, fixed columns, no wrapping on GNU and
busybox. The parser still copes with the other shapes found in the wild: the device name alone
on a line (busybox and old GNU ``df`` without ``-P`` wrap long names), an extra ``Type`` column
(``df -PT``), mount points and device names with spaces, and ``-`` for unknown numbers.

Pseudo filesystems (proc, tmpfs, overlay, squashfs snaps, ...) are left out unless
``include_pseudo=True``: they are either not disks at all or always "100% full" by design.
The root filesystem ``/`` is always kept, whatever its type, because in a container it is an
overlay and it is still the disk that fills up.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from runbook.facts.batch import part_marker, split_parts
from runbook.facts.mounts import MountEntry, fstype_by_mount, parse_mounts

NAME = "disk"

PSEUDO_FSTYPES = frozenset({
    "autofs", "aufs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devfs",
    "devpts", "devtmpfs", "efivarfs", "erofs", "fuse.gvfsd-fuse", "fuse.lxcfs", "fuse.portal",
    "fuse.snapfuse", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nfsd", "nsfs", "overlay",
    "proc", "pstore", "ramfs", "rootfs", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs",
    "sysfs", "tmpfs", "tracefs", "udf",
})
"""Filesystem types that are not disks, or are read-only images that are always full."""

# Only used when no mount table came with the df output (public examples, old captures):
# the device column of a pseudo filesystem is usually its type or a conventional name.
_PSEUDO_DEVICES = frozenset({
    "cgroup", "devpts", "devtmpfs", "none", "overlay", "proc", "shm", "sysfs", "tmpfs", "udev",
    "varrun", "varlock", "procbususb", "devshm", "lrm", "devfs",
})

_TAIL = r"\s+(?P<total>\d+|-)\s+(?P<used>\d+|-)\s+(?P<free>-?\d+|-)\s+(?P<pct>-?\d+%|-)"


@dataclass(frozen=True)
class DiskUsage:
    """Space and inodes of one mounted filesystem.

    device:              what is mounted (``/dev/sda1``, ``tmpfs``, ``server:/export``)
    fstype:              filesystem type (``ext4``, ``xfs``, ``overlay``), None if unknown
    mount:               mount point
    size_bytes:          total size
    used_bytes:          used space
    free_bytes:          space available to unprivileged users (df's "Available")
    used_percent:        used / (used + free) * 100, as df computes it (reserved blocks count
                         as neither), unrounded to two decimals
    inodes_total, inodes_used, inodes_free: inode counts, None where the filesystem has no
                         fixed inode table (btrfs, vfat) or ``df -i`` was not available
    inodes_used_percent: inodes_used / inodes_total * 100, None as above
    """

    device: str
    fstype: str | None
    mount: str
    size_bytes: int
    used_bytes: int
    free_bytes: int
    used_percent: float
    inodes_total: int | None = None
    inodes_used: int | None = None
    inodes_free: int | None = None
    inodes_used_percent: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _DfRow:
    device: str
    fstype: str | None
    total: int | None
    used: int | None
    free: int | None
    mount: str


def shell(nonce: str) -> str:
    """The fact's part of the batched command: mount table, inodes, then space (whose exit
    status becomes the section's)."""
    return (f"{part_marker(nonce, 'mounts')}; cat /proc/mounts; "
            f"{part_marker(nonce, 'inodes')}; df -P -i; "
            f"{part_marker(nonce, 'space')}; df -P -k")


def parse_section(text: str, nonce: str, *, include_pseudo: bool = False) -> list[DiskUsage]:
    """The disk fact from its section of a batched command's output."""
    parts = split_parts(text, nonce)
    if not parts.get("space", "").strip():
        raise ValueError("df -P -k printed nothing")
    return parse_df(parts["space"], parts.get("inodes"), parts.get("mounts"),
                    include_pseudo=include_pseudo)


def parse_df(space: str, inodes: str | None = None, mounts: str | None = None, *,
             include_pseudo: bool = False) -> list[DiskUsage]:
    """Filesystems from ``df -P -k`` text, with inodes from ``df -P -i`` and types from the
    mount table (/proc/mounts or ``mount`` output) where given.

    Accepts GNU and busybox ``df``, with or without ``-P`` and ``-T``; 512-byte blocks if the
    header says so. Raises ValueError for text that is not df output (or ``df -h``).
    """
    table = fstype_by_mount(parse_mounts(mounts)) if mounts else {}
    unit, rows = _parse_table(space, table)
    inode_rows: dict[str, _DfRow] = {}
    if inodes and inodes.strip():
        _, irows = _parse_table(inodes, table)
        inode_rows = {r.mount: r for r in irows}
    by_mount: dict[str, DiskUsage] = {}
    for row in rows:
        entry = table.get(row.mount)
        fstype = entry.fstype if entry else row.fstype
        if not include_pseudo and row.mount != "/" and _is_pseudo(fstype, row.device, row.mount):
            continue
        total, used, free = ((v or 0) * unit for v in (row.total, row.used, row.free))
        by_mount[row.mount] = DiskUsage(
            device=row.device, fstype=fstype, mount=row.mount, size_bytes=total,
            used_bytes=used, free_bytes=max(free, 0), used_percent=_percent(used, used + free),
            **_inode_fields(inode_rows.get(row.mount)))
    return list(by_mount.values())


def collect_local(*, include_pseudo: bool = False) -> list[DiskUsage]:
    """The disk fact of this machine from psutil (space) and statvfs (inodes).

    Like ``df``, filesystems with no blocks (proc, sysfs) and those that cannot be statted
    (permission, a dead NFS server answering with an error) are left out.
    """
    import psutil

    visible: dict[str, Any] = {}
    for part in psutil.disk_partitions(all=True):
        visible[part.mountpoint] = part     # the last entry is the one paths resolve to
    result: list[DiskUsage] = []
    for mount, part in visible.items():
        if not include_pseudo and mount != "/" and _is_pseudo(part.fstype, part.device, mount):
            continue
        try:
            usage = psutil.disk_usage(mount)
            st = os.statvfs(mount)
        except OSError:
            continue
        if usage.total == 0:
            continue
        inodes_used = st.f_files - st.f_ffree
        result.append(DiskUsage(
            device=part.device, fstype=part.fstype, mount=mount, size_bytes=usage.total,
            used_bytes=usage.used, free_bytes=usage.free,
            used_percent=_percent(usage.used, usage.used + usage.free),
            inodes_total=st.f_files if st.f_files else None,
            inodes_used=inodes_used if st.f_files else None,
            inodes_free=st.f_ffree if st.f_files else None,
            inodes_used_percent=_percent(inodes_used, st.f_files) if st.f_files else None))
    return result


def _parse_table(text: str, table: dict[str, MountEntry]) -> tuple[int, list[_DfRow]]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("Filesystem"):
        raise ValueError(f"not df output: {lines[0][:80] if lines else '(empty)'!r}")
    header = lines[0].split()
    if any(h in ("Size", "Avail") for h in header):
        raise ValueError("human-readable df output (-h) has no exact sizes")
    unit = 512 if "512-blocks" in header else 1 if "Inodes" in header else 1024
    has_type = len(header) > 1 and header[1] == "Type"
    rows: list[_DfRow] = []
    pending = ""
    for line in lines[1:]:
        # A device name too long for its column sits alone on a line; its numbers follow on
        # the next, indented line (busybox and old GNU df without -P).
        joined = f"{pending} {line.strip()}" if pending and line[:1].isspace() else line
        row = _parse_row(joined, has_type, table)
        if row is None and pending:
            # Not a wrapped pair after all: the held line was junk. Do not let it take the
            # whole fact down if this line stands on its own.
            row = _parse_row(line, has_type, table)
        if row is not None:
            rows.append(row)
            pending = ""
        elif " " not in line.strip() or not _looks_like_numbers(line):
            pending = line.strip()
        else:
            raise ValueError(f"unparsable df line: {joined[:120]!r}")
    if pending:
        raise ValueError(f"df output ends inside a wrapped line: {pending[:120]!r}")
    return unit, rows


def _parse_row(line: str, has_type: bool, table: dict[str, MountEntry]) -> _DfRow | None:
    head = r"^(?P<device>\S.*?)" + (r"\s+(?P<fstype>\S+)" if has_type else "")
    # Resolve the mount point against the mount table first: it tells where a mount point with
    # spaces (or a device name with spaces) ends, which the text alone cannot.
    for mount in sorted((m for m in table if line.endswith(" " + m)), key=len, reverse=True):
        m = re.match(head + _TAIL + r"$", line[: -len(mount) - 1].rstrip())
        if m:
            return _row(m, mount)
    m = re.match(head + _TAIL + r"\s+(?P<mount>/.*)$", line)
    return _row(m, m["mount"]) if m else None


def _row(m: re.Match[str], mount: str) -> _DfRow:
    return _DfRow(device=m["device"], fstype=m.groupdict().get("fstype"), mount=mount,
                  total=_int(m["total"]), used=_int(m["used"]), free=_int(m["free"]))


def _looks_like_numbers(line: str) -> bool:
    return bool(re.match(r"\s*" + _TAIL.removeprefix(r"\s+") + r"\s+/", line))


def _int(text: str) -> int | None:
    return None if text == "-" else int(text)


def _inode_fields(row: _DfRow | None) -> dict[str, Any]:
    if row is None or not row.total:
        return {}
    used = row.used or 0
    return {"inodes_total": row.total, "inodes_used": used, "inodes_free": row.free,
            "inodes_used_percent": _percent(used, row.total)}


def _percent(part: int, whole: int) -> float:
    return round(part * 100.0 / whole, 2) if whole > 0 else 0.0


def _is_pseudo(fstype: str | None, device: str, mount: str) -> bool:
    if fstype:
        return fstype in PSEUDO_FSTYPES or fstype.startswith("cgroup")
    # No mount table: guess from the device name, and from where snaps are mounted.
    return device in _PSEUDO_DEVICES or (mount.startswith("/snap/") and device.startswith("/dev/loop"))

