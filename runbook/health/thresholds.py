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

Anything else raises ``runbook.errors.ConfigError`` naming the file, line and variable
(each var is declared here as a ``runbook.hostvars.HostVar``; ``THRESHOLD_VARS`` lists them), e.g.
``inventory/acme.yml:12: vars.disk_thresholds./var.warn: bad threshold '85 percent': ...``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.errors import ConfigError
from runbook.hostvars import HostVar, HostVars, Located
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
        """Parse the threshold variables of one host's merged vars; ConfigError if bad (at
        the var's file and line when ``host_vars`` knows them, see ``runbook.hostvars``)."""
        vars = HostVars.over(host_vars)
        disk_by_mount, inode_by_mount = vars.read(DISK_THRESHOLDS)
        return cls(disk=_pair(vars, "disk"), inode=_pair(vars, "inode"), mem_available=_pair(vars, "mem_available"),
                   swap=_pair(vars, "swap"), load=_pair(vars, "load"), disk_by_mount=disk_by_mount,
                   inode_by_mount=inode_by_mount, ignore=tuple(vars.read(DISK_IGNORE)))


def parse_threshold(raw: Any, field_name: str, kinds: tuple[str, ...]) -> Threshold:
    """One threshold value of the given allowed kinds; ConfigError naming ``field_name``."""
    return _parse(Located(raw, None, None, field_name), kinds)


def _parse(at: Located, kinds: tuple[str, ...]) -> Threshold:
    raw = at.value
    expected = {PERCENT: 'a percentage like 80 or "80%"', BYTES: 'a size like "5GiB"',
                NUMBER: "a number of tasks per CPU like 2 or 1.5"}
    hint = " or ".join(expected[k] for k in kinds)

    def bad(why: str = "") -> ConfigError:
        return at.error(f"bad threshold {raw!r}: {why or 'expected ' + hint}")

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


def _check_order(warn: Threshold, crit: Threshold, warn_at: Located, crit_at: Located,
                 lower_is_worse: bool) -> None:
    """WARNING must not lie beyond CRITICAL. The one of the two that was set is named (the
    warning one when both were)."""
    # Free space and available memory are bad when LOW, so there warn must be the larger.
    if warn.kind != crit.kind:
        return
    lower = lower_is_worse or warn.kind == BYTES
    if not ((warn.value < crit.value) if lower else (warn.value > crit.value)):
        return
    warn_name, crit_name = warn_at.field.rpartition(".")[2], crit_at.field.rpartition(".")[2]
    if warn_at.value is not None or crit_at.value is None:
        raise warn_at.error(f"warning threshold {warn.spec} is {'below' if lower else 'above'} the critical one "
                            f"({crit_name} = {crit.spec}{_elsewhere(crit_at, warn_at)})")
    raise crit_at.error(f"critical threshold {crit.spec} is {'above' if lower else 'below'} the warning one "
                        f"({warn_name} = {warn.spec})")


def _elsewhere(other: Located, here: Located) -> str:
    """Where ``other`` was set, when that is not where ``here`` was (a host's own disk_crit
    under the defaults' disk_warn): both places may need a look."""
    if other.value is None or other.file is None or (other.file, other.line) == (here.file, here.line):
        return ""
    return f", set at {other.file}" + (f":{other.line}" if other.line else "")


#: the allowed kinds of each check's thresholds, and whether a lower value is the worse one
_CHECKS: dict[str, tuple[tuple[str, ...], bool]] = {
    "disk": ((PERCENT, BYTES), False), "inode": ((PERCENT,), False), "mem_available": ((PERCENT, BYTES), True),
    "swap": ((PERCENT,), False), "load": ((NUMBER,), False)}
_SHAPES = {(PERCENT, BYTES): 'a percentage like 80 or "80%", or a size like "5GiB"',
           (PERCENT,): 'a percentage like 80 or "80%"', (NUMBER,): "a load per CPU like 2 or 1.5"}


def _warn_var(check: str) -> HostVar[Threshold]:
    kinds = _CHECKS[check][0]
    return HostVar(f"{check}_warn", _SHAPES[kinds], DEFAULTS[f"{check}_warn"], __name__,
                   lambda at, vars: _parse(at, kinds))


def _crit_var(check: str) -> HostVar[Threshold]:
    """The critical threshold; reading it checks it against the warning one."""
    kinds, lower_is_worse = _CHECKS[check]

    def parse(at: Located, vars: HostVars) -> Threshold:
        crit = _parse(at, kinds)
        warn_var = WARN_VARS[check]
        _check_order(vars.read(warn_var), crit, vars.located(warn_var.name), at, lower_is_worse)
        return crit

    return HostVar(f"{check}_crit", _SHAPES[kinds], DEFAULTS[f"{check}_crit"], __name__, parse)


WARN_VARS: dict[str, HostVar[Threshold]] = {check: _warn_var(check) for check in _CHECKS}
CRIT_VARS: dict[str, HostVar[Threshold]] = {check: _crit_var(check) for check in _CHECKS}


def _pair(vars: HostVars, check: str) -> Pair:
    return Pair(vars.read(WARN_VARS[check]), vars.read(CRIT_VARS[check]))


def _mount_overrides(at: Located, vars: HostVars) -> tuple[dict[str, Pair], dict[str, Pair]]:
    at.mapping("a mapping of mount point to {warn, crit}")
    disk, inode = _pair(vars, "disk"), _pair(vars, "inode")
    disk_by_mount: dict[str, Pair] = {}
    inode_by_mount: dict[str, Pair] = {}
    for mount, spec in at.members():
        if not isinstance(mount, str) or not mount.startswith("/"):
            raise spec.error(f"mount point must be an absolute path, got {mount!r}")
        spec.mapping("a mapping like {warn: 85, crit: 95, inode_warn: 80, inode_crit: 90}")
        spec.keys_among(_MOUNT_KEYS)

        def override(key: str, default: Threshold, kinds: tuple[str, ...]) -> Threshold:
            value = spec.member(key)
            return default if value.value is None else _parse(value, kinds)

        d = Pair(override("warn", disk.warn, (PERCENT, BYTES)), override("crit", disk.crit, (PERCENT, BYTES)))
        i = Pair(override("inode_warn", inode.warn, (PERCENT,)), override("inode_crit", inode.crit, (PERCENT,)))
        _check_order(d.warn, d.crit, spec.member("warn"), spec.member("crit"), False)
        _check_order(i.warn, i.crit, spec.member("inode_warn"), spec.member("inode_crit"), False)
        disk_by_mount[mount] = d
        inode_by_mount[mount] = i
    return disk_by_mount, inode_by_mount


DISK_THRESHOLDS: HostVar[tuple[dict[str, Pair], dict[str, Pair]]] = HostVar(
    "disk_thresholds", "per mount point: {warn, crit, inode_warn, inode_crit}", {}, __name__, _mount_overrides)
DISK_IGNORE: HostVar[list[str]] = HostVar(
    "disk_ignore", 'mount point globs that are not the host\'s concern, like ["/snap/*"]', [], __name__,
    lambda at, vars: [g.value for g in at.strings("a list of mount point globs")])

#: every threshold var, as the actions that judge mounts, memory and load declare them
THRESHOLD_VARS: tuple[HostVar[Any], ...] = (*(var for check in _CHECKS for var in (WARN_VARS[check], CRIT_VARS[check])),
                                            DISK_THRESHOLDS, DISK_IGNORE)
