"""The mount table: which filesystem type is mounted where.

``df`` does not say the filesystem type portably and prints mount points with spaces
ambiguously, so the disk fact reads the kernel's table (/proc/mounts) beside it. Parsing also
accepts the output of plain ``mount`` ("DEV on DIR type FSTYPE (OPTS)"), which is what public
examples and old systems tend to have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OCTAL = re.compile(r"\\([0-7]{3})")
_MOUNT_LINE = re.compile(r"^(?P<device>.+?) on (?P<mount>/.*?) type (?P<fstype>\S+)(?: \((?P<opts>[^)]*)\))?$")


@dataclass(frozen=True)
class MountEntry:
    """One line of the mount table.

    device:  what is mounted (``/dev/sda1``, ``tmpfs``, ``server:/export``)
    mount:   where, with octal escapes (``\\040`` for a space) decoded
    fstype:  the kernel's filesystem type (``ext4``, ``overlay``, ``nfs4``)
    """

    device: str
    mount: str
    fstype: str


def unescape_octal(field: str) -> str:
    """Decode the kernel's ``\\ooo`` escapes (space, tab, newline, backslash) in a mounts field."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> list[MountEntry]:
    """Entries of /proc/mounts (or /etc/mtab, or ``mount`` output), in mount order.

    The same mount point may appear more than once (over-mounts, bind mounts); the last entry
    is the one a path lookup, and so ``df``, sees.
    """
    entries: list[MountEntry] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if " on " in line and " type " in line:
            m = _MOUNT_LINE.match(line)
            if m:
                entries.append(MountEntry(m["device"], m["mount"], m["fstype"]))
            continue
        fields = line.split()
        if len(fields) >= 3:
            entries.append(MountEntry(unescape_octal(fields[0]), unescape_octal(fields[1]),
                                      fields[2]))
    return entries


def fstype_by_mount(entries: list[MountEntry]) -> dict[str, MountEntry]:
    """The visible (last) entry for each mount point."""
    return {e.mount: e for e in entries}
