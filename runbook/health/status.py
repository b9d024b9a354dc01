"""Statuses and checks: the verdict of one threshold on one host, in monitoring-plugins terms."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Status(IntEnum):
    """A check's verdict. The values are the Nagios/monitoring-plugins exit codes.

    The values are NOT the severity order. ``worst`` ranks OK < UNKNOWN < WARNING < CRITICAL,
    as monitoring-plugins' ``max_state_alt`` does: a real problem that is known outranks a
    probe that could not look. So a sweep with one full disk and one failed fact is CRITICAL
    (exit 2), not UNKNOWN (exit 3); it is UNKNOWN only when nothing worse was found.
    """

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def severity(self) -> int:
        """Rank for "which is worse": OK 0, UNKNOWN 1, WARNING 2, CRITICAL 3."""
        return _SEVERITY[self]


_SEVERITY = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}


def worst(checks: Iterable[Check | Status]) -> Status:
    """The most severe status among checks (or statuses); UNKNOWN when there are none,
    because a host of which nothing was checked is not known to be fine."""
    statuses = [c.status if isinstance(c, Check) else Status(c) for c in checks]
    return max(statuses, key=lambda s: s.severity) if statuses else Status.UNKNOWN


@dataclass(frozen=True)
class Check:
    """The result of one threshold check on one host.

    name:    what was checked: "disk:/var", "inodes:/var", "memory", "swap", "load", or a
             fact name ("disk", "processes") when that fact could not be gathered
    status:  the verdict
    message: one line for a human: "/var 93% used (1.2 GiB free) >= 90%"
    value:   the measured value in ``unit`` (None when unknown)
    warn, crit: the thresholds in ``unit`` (an absolute free-space threshold is converted
             to the used % it means on that filesystem), None when not applicable
    unit:    "%" or "" (load per CPU)
    details: extra facts for reports and JSON; disk checks carry mount, used_percent and
             inodes_used_percent, every check with thresholds carries ``direction``
             ("above": value >= threshold is bad; "below": value < threshold is bad)
    msg, args: what the check found as a message id and its arguments (numbers as numbers,
             lists as lists), for reports to word in the customer's language; ``message`` is
             the English line for the terminal, Nagios and the internal report
    """

    name: str
    status: Status
    message: str
    value: float | None = None
    warn: float | None = None
    crit: float | None = None
    unit: str = ""
    details: dict[str, Any] = field(default_factory=dict, compare=False)
    msg: str = ""
    args: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        """Plain dict; details are merged in at the top level (they never shadow the fields)."""
        core = {"name": self.name, "status": self.status.name, "code": int(self.status),
                "message": self.message, "value": self.value, "warn": self.warn,
                "crit": self.crit, "unit": self.unit}
        if self.msg:
            core.update(msg=self.msg, args=dict(self.args))
        return {**{k: v for k, v in self.details.items() if k not in core}, **core}
