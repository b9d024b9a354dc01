"""What is changed (and read) on hosts: the explicit registry of actions.

``ACTIONS`` maps the name used in playbooks to the action class. A playbook is validated
against it (names, params) before any host is contacted.

The registry lists every action here, by module and class, and imports a module only when
its action is first looked up: a health sweep needs ``health.check`` alone, and importing the
log, service and analysis actions (with the analyzer and the report code behind them) cost
it 0.15 s of its start-up. ``runbook actions`` and ``ACTIONS.items()`` load them all.

Users add actions without editing runbook (``runbook.actions.user``): from a local
``actions/`` directory beside the inventory (``load_local_actions``), and from installed
packages' entry points (group ``runbook.actions``), which are looked for only when a name is
not found otherwise (or every action is listed): the scan costs 50 ms a start.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping

from runbook.actions.base import Action, HostAction, RunAction

_REGISTRY: dict[str, tuple[str, str]] = {
    "command": ("runbook.actions.command", "CommandAction"),
    "command.change": ("runbook.actions.command", "ChangeCommandAction"),
    "disk.release_deleted": ("runbook.actions.disk", "ReleaseDeletedAction"),
    "disk.usage": ("runbook.actions.disk", "DiskUsageAction"),
    "health.check": ("runbook.actions.health", "HealthCheckAction"),
    "logs.analyze": ("runbook.actions.logs.analyze", "LogsAnalyzeAction"),
    "logs.archive": ("runbook.actions.logs.archive", "LogsArchiveAction"),
    "logs.clean": ("runbook.actions.logs.clean", "LogsCleanAction"),
    "logs.rotate": ("runbook.actions.logs.rotate", "LogsRotateAction"),
    "notify.hoster": ("runbook.actions.notify", "NotifyHosterAction"),
    "processes.hung": ("runbook.actions.processes", "ProcessesHungAction"),
    "processes.kill": ("runbook.actions.processes", "ProcessesKillAction"),
    "services.restart": ("runbook.actions.services", "ServicesRestartAction"),
    "services.status": ("runbook.actions.services", "ServicesStatusAction"),
}


BUILT_IN = "built-in"


class ActionRegistry(MutableMapping[str, "type[Action]"]):
    """Action name -> class, importing each action's module on first use.

    Assigning a class registers it directly (tests register throwaway actions this way)."""

    def __init__(self, entries: Mapping[str, tuple[str, str]]) -> None:
        self._entries = dict(entries)
        self._loaded: dict[str, type[Action]] = {}
        self._origins: dict[str, str] = {name: BUILT_IN for name in entries}
        self._discovered = False

    def add(self, cls: type[Action], origin: str) -> None:
        """Register a user's action; ``origin`` says where it came from (for ``runbook actions``)."""
        self[cls.name] = cls
        self._origins[cls.name] = origin

    def origin(self, name: str) -> str:
        """"built-in", "entry point <dist>: <module>:<class>" or "local <file>"."""
        return self._origins.get(name, BUILT_IN)

    def _discover(self) -> None:
        """The installed packages' actions (entry points), once, when first needed."""
        if not self._discovered:
            self._discovered = True
            from runbook.actions.user import load_entry_points
            load_entry_points(self)

    def __getitem__(self, name: str) -> type[Action]:
        if name not in self._entries:
            self._discover()
        if name not in self._loaded:
            module, attr = self._entries[name]
            cls = getattr(importlib.import_module(module), attr)
            if cls.name != name:
                raise RuntimeError(f"registry entry {name!r} points at action {cls.name!r}")
            self._loaded[name] = cls
        return self._loaded[name]

    def __setitem__(self, name: str, cls: type[Action]) -> None:
        self._entries[name] = (cls.__module__, cls.__qualname__)
        self._loaded[name] = cls

    def __delitem__(self, name: str) -> None:
        del self._entries[name]
        self._loaded.pop(name, None)
        self._origins.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        self._discover()
        return iter(list(self._entries))

    def __len__(self) -> int:
        self._discover()
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self._discover()
        return name in self._entries


ACTIONS = ActionRegistry(_REGISTRY)

__all__ = ["ACTIONS", "Action", "ActionRegistry", "HostAction", "RunAction"]
