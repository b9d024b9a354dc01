"""The host vars a playbook will read, checked for every targeted host before any host is
contacted; and var names that look like a misspelt one.

Each action declares the host vars it reads (``Action.host_vars``); each var's schema is a
``runbook.hostvars.HostVar`` in the module that documents it. ``check_host_vars`` reads every
var the playbook's actions read, for every targeted host, so a mistake anywhere in one is a
ConfigError naming its file, line and field before a run's journal is opened.
``misspelt_vars`` finds the names no part of runbook reads that are close to one it does
(``hung_rule`` for ``hung_rules``): left alone, such a var is silently ignored and the
defaults stay in force. Names far from every declared one are the user's own (templates see
them), and stay allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from runbook.actions import ACTIONS
from runbook.hostvars import HostVar, HostVars, did_you_mean
from runbook.inventory.model import Host
from runbook.playbook.model import Playbook


def declared_vars() -> dict[str, tuple[HostVar[Any], tuple[str, ...]]]:
    """Every host var runbook reads, by name, with the actions that read it (``runbook sweep
    --alert`` reads the ``alert_*`` vars itself). Loads every action."""
    from runbook.sweeps.alerts import ALERT_VARS  # a sweep checks its vars without the alert code

    found: dict[str, tuple[HostVar[Any], tuple[str, ...]]] = {var.name: (var, ("sweep --alert",)) for var in ALERT_VARS}
    for name, action in sorted(ACTIONS.items()):
        for var in action.host_vars:
            readers = found.get(var.name, (var, ()))[1]
            found[var.name] = (var, (*readers, name))
    return found


def vars_read_by(playbook: Playbook) -> tuple[HostVar[Any], ...]:
    """The host vars the playbook's steps' actions read, each once, in step order."""
    found: dict[str, HostVar[Any]] = {}
    for step in playbook.steps:
        for var in ACTIONS[step.action].host_vars:
            found.setdefault(var.name, var)
    return tuple(found.values())


def check_host_vars(playbook: Playbook, hosts: Iterable[Host]) -> None:
    """Read every host var the playbook's actions will read, for every host; the first
    mistake is a ConfigError naming file, line and field."""
    wanted = vars_read_by(playbook)
    for host in hosts:
        vars = HostVars.of(host)
        for var in wanted:
            vars.read(var)


@dataclass(frozen=True)
class MisspeltVar:
    """A host var no part of runbook reads whose name is close to one it does."""

    name: str
    suggestion: str
    file: str | None
    line: int | None
    field: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file and self.line else f"{self.file}: " if self.file else ""
        return f"{where}{self.field}: did you mean {self.suggestion}? (no part of runbook reads {self.name})"


def misspelt_vars(hosts: Sequence[Host], known: Iterable[str] | None = None) -> list[MisspeltVar]:
    """The misspelt-looking var names of ``hosts``, each place once (a name set in
    ``defaults`` is found once, not once per host)."""
    names = set(declared_vars() if known is None else known)
    found: dict[tuple[str | None, int | None, str], MisspeltVar] = {}
    for host in hosts:
        vars = HostVars.of(host)
        for name in vars:
            suggestion = did_you_mean(str(name), names)
            if suggestion is None:
                continue
            at = vars.located(str(name))
            found.setdefault((at.file, at.line, str(name)),
                             MisspeltVar(str(name), suggestion, at.file, at.line, at.field))
    return list(found.values())
