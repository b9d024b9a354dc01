"""Health thresholds from host vars (inventory defaults, then role, then host; the caller
merges them and passes one mapping).

Variables and defaults
----------------------
======================  =========  ===================================================
variable                default    the check is WARNING / CRITICAL when
======================  =========  ===================================================
``disk_warn``           ``80%``    a filesystem's used % >= the value, or its free space
``disk_crit``           ``90%``    < the value if the value is a size ("5GiB")
``inode_warn``          ``80%``    a filesystem's inodes used % >= the value
``inode_crit``          ``90%``
``mem_available_warn``  ``10%``    available memory (MemAvailable) < the value, as % of
``mem_available_crit``  ``5%``     RAM or, if the value is a size, in bytes
``swap_warn``           ``50%``    swap used % >= the value (no swap at all is OK)
``swap_crit``           ``80%``
``load_warn``           ``2``      the 5-minute load average per CPU >= the value
``load_crit``           ``4``
``disk_thresholds``     none       per mount point overrides, see below
``disk_ignore``         none       mount points (globs) that are not this host's concern:
                                   not judged, not recorded as evidence (a mount named in
                                   ``disk_thresholds`` is always judged)
======================  =========  ===================================================

Syntax
------
- Percentages: a number or a string, with or without "%": ``80``, ``"80"``, ``"80%"``,
  ``92.5``. Between 0 and 100.
- Sizes (disk and memory only): a number with a unit, meaning an absolute amount of free or
  available space, read by ``runbook.units.parse_size``: ``"5GiB"``, ``"5G"``, ``"500 MiB"``
  are binary (G = 1024^3); ``"5GB"``, ``"500MB"`` are decimal (G = 1000^3), as disk vendors
  count. A bare number is a percentage here, never bytes.
- Load: a plain number of runnable tasks per CPU: ``2``, ``"1.5"``; no "%" and no unit.
- Per-mount overrides replace the defaults for that mount only; any of ``warn``, ``crit``,
  ``inode_warn``, ``inode_crit`` may be given, the rest fall back to the host's values::

      disk_thresholds:
        /var:     {warn: 85, crit: 95}
        /backup:  {warn: 50GiB, crit: 10GiB}   # free space left
- Percent thresholds compare with ``>=`` (used exactly 80% with warn 80% is WARNING);
  free-space and available-memory thresholds compare with ``<`` ("less than 5 GiB free").
- WARNING must not be beyond CRITICAL (``disk_warn: 95`` with ``disk_crit: 90`` is an error)
  when both are of the same kind. A null value means "the default".

Anything else raises ``runbook.errors.ConfigError`` naming the variable, e.g.
``disk_thresholds./var.warn: bad threshold '85 percent': ...``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.errors import ConfigError
from runbook.units import format_bytes, parse_size

PERCENT = "percent"
BYTES = "bytes"
NUMBER = "number"

DEFAULTS: dict[str, Any] = {
    "disk_warn": 80, "disk_crit": 90, "inode_warn": 80, "inode_crit": 90,
    "mem_available_warn": 10, "mem_available_crit": 5, "swap_warn": 50, "swap_crit": 80,
    "load_warn": 2, "load_crit": 4,
}
_MOUNT_KEYS = {"warn": "disk", "crit": "disk", "inode_warn": "inode", "inode_crit": "inode"}


@dataclass(frozen=True)
class Threshold:
    """One parsed threshold.

    kind:  "percent", "bytes" (free or available amount) or "number" (load per CPU)
    value: the number, in % or bytes or tasks per CPU
    spec:  the same for humans: "90%", "5.0 GiB", "4"
    """

    kind: str
    value: float
    spec: str


@dataclass(frozen=True)
class Pair:
    """Warning and critical thresholds of one check."""

    warn: Threshold
    crit: Threshold


@dataclass(frozen=True)
class Thresholds:
    """All thresholds of one host, parsed and checked."""

    disk: Pair
    inode: Pair
    mem_available: Pair
    swap: Pair
    load: Pair
    disk_by_mount: dict[str, Pair] = field(default_factory=dict)
    inode_by_mount: dict[str, Pair] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()

    def judges(self, mount: str) -> bool:
        """Whether the mount is this host's concern (``disk_ignore``; named mounts always are)."""
        return mount in self.disk_by_mount or mount in self.inode_by_mount or not any(
            fnmatch.fnmatchcase(mount, pattern) for pattern in self.ignore)

    def for_disk(self, mount: str) -> Pair:
        return self.disk_by_mount.get(mount, self.disk)

    def for_inodes(self, mount: str) -> Pair:
        return self.inode_by_mount.get(mount, self.inode)

    @classmethod
    def from_vars(cls, host_vars: Mapping[str, Any]) -> Thresholds:
        """Parse the threshold variables of one host's merged vars; ConfigError if bad."""
        def pair(prefix: str, kinds: tuple[str, ...], lower_is_worse: bool = False) -> Pair:
            warn = _parse(_get(host_vars, f"{prefix}_warn"), f"{prefix}_warn", kinds)
            crit = _parse(_get(host_vars, f"{prefix}_crit"), f"{prefix}_crit", kinds)
            _check_order(warn, crit, f"{prefix}_warn", f"{prefix}_crit", lower_is_worse)
            return Pair(warn, crit)

        disk = pair("disk", (PERCENT, BYTES))
        inode = pair("inode", (PERCENT,))
        disk_by_mount, inode_by_mount = _mount_overrides(
            host_vars.get("disk_thresholds"), disk, inode)
        ignore = host_vars.get("disk_ignore") or []
        if isinstance(ignore, str):
            ignore = [ignore]
        if not isinstance(ignore, list) or not all(isinstance(p, str) and p for p in ignore):
            raise ConfigError(f"must be a list of mount point globs, not {ignore!r}", field="disk_ignore")
        return cls(disk=disk, inode=inode,
                   mem_available=pair("mem_available", (PERCENT, BYTES), lower_is_worse=True),
                   swap=pair("swap", (PERCENT,)), load=pair("load", (NUMBER,)),
                   disk_by_mount=disk_by_mount, inode_by_mount=inode_by_mount, ignore=tuple(ignore))


def parse_threshold(raw: Any, field_name: str, kinds: tuple[str, ...]) -> Threshold:
    """One threshold value of the given allowed kinds; ConfigError naming ``field_name``."""
    return _parse(raw, field_name, kinds)


def _get(host_vars: Mapping[str, Any], name: str) -> Any:
    value = host_vars.get(name)
    return DEFAULTS[name] if value is None else value


def _parse(raw: Any, field_name: str, kinds: tuple[str, ...]) -> Threshold:
    expected = {PERCENT: 'a percentage like 80 or "80%"', BYTES: 'a size like "5GiB"',
                NUMBER: "a number of tasks per CPU like 2 or 1.5"}
    hint = " or ".join(expected[k] for k in kinds)

    def bad(why: str = "") -> ConfigError:
        return ConfigError(f"bad threshold {raw!r}: {why or 'expected ' + hint}", field=field_name)

    # YAML turns "yes"/"on" into booleans, which are ints in Python: refuse them explicitly.
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise bad()
    text = str(raw).strip()
    number = re.fullmatch(r"\d+(?:\.\d+)?", text)
    percent = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    if NUMBER in kinds:
        if not number:
            raise bad()
        return Threshold(NUMBER, float(text), f"{float(text):g}")
    if number or percent:
        if PERCENT not in kinds:
            raise bad()
        value = float(percent.group(1) if percent else text)
        if value > 100:
            raise bad("a percentage must be between 0 and 100")
        return Threshold(PERCENT, value, f"{value:g}%")
    if BYTES in kinds:
        try:
            size = parse_size(text)
        except ValueError:
            raise bad() from None
        return Threshold(BYTES, float(size), format_bytes(size))
    raise bad()


def _check_order(warn: Threshold, crit: Threshold, warn_name: str, crit_name: str,
                 lower_is_worse: bool) -> None:
    # Free space and available memory are bad when LOW, so there warn must be the larger.
    if warn.kind != crit.kind:
        return
    lower = lower_is_worse or warn.kind == BYTES
    if (warn.value < crit.value) if lower else (warn.value > crit.value):
        relation = "below" if lower else "above"
        raise ConfigError(f"warning threshold {warn.spec} is {relation} the critical one "
                          f"({crit_name} = {crit.spec})", field=warn_name)


def _mount_overrides(raw: Any, disk: Pair, inode: Pair) -> tuple[dict[str, Pair], dict[str, Pair]]:
    if raw is None:
        return {}, {}
    if not isinstance(raw, Mapping):
        raise ConfigError("expected a mapping of mount point to {warn, crit}",
                          field="disk_thresholds")
    disk_by_mount: dict[str, Pair] = {}
    inode_by_mount: dict[str, Pair] = {}
    for mount, spec in raw.items():
        where = f"disk_thresholds.{mount}"
        if not isinstance(mount, str) or not mount.startswith("/"):
            raise ConfigError(f"mount point must be an absolute path, got {mount!r}",
                              field="disk_thresholds")
        if not isinstance(spec, Mapping):
            raise ConfigError("expected {warn, crit, inode_warn, inode_crit}", field=where)
        unknown = sorted(set(map(str, spec)) - set(_MOUNT_KEYS))
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(_MOUNT_KEYS)}", field=where)

        d = Pair(_override(spec, where, "warn", disk.warn, (PERCENT, BYTES)),
                 _override(spec, where, "crit", disk.crit, (PERCENT, BYTES)))
        i = Pair(_override(spec, where, "inode_warn", inode.warn, (PERCENT,)),
                 _override(spec, where, "inode_crit", inode.crit, (PERCENT,)))
        _check_order(d.warn, d.crit, f"{where}.warn", f"{where}.crit", False)
        _check_order(i.warn, i.crit, f"{where}.inode_warn", f"{where}.inode_crit", False)
        disk_by_mount[mount] = d
        inode_by_mount[mount] = i
    return disk_by_mount, inode_by_mount


def _override(spec: Mapping[str, Any], where: str, key: str, default: Threshold,
              kinds: tuple[str, ...]) -> Threshold:
    value = spec.get(key)
    return default if value is None else _parse(value, f"{where}.{key}", kinds)
