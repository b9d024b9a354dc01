"""Actions from outside runbook, with the same contract as the built-in ones.

Two places, both listed with their origin by ``runbook actions``:

- a local ``actions/`` directory beside the inventory (``-i``): every ``*.py`` file in it is
  imported and each ``HostAction``/``RunAction`` subclass it defines with a ``name`` is
  registered. Like OpenSSH with its config, runbook refuses a file or directory that another
  user could have written (owned by someone else than you or root, or writable by group or
  others): the code runs with your keys to every customer's servers.
- installed packages: an entry point in the group ``runbook.actions`` naming the class
  (``acme-cache = acme_runbook.cache:CacheFlush`` in the package's ``pyproject.toml``
  ``[project.entry-points."runbook.actions"]``).

The contract (see README, "Your own actions", and ``examples/actions/maintenance_flag.py``):
a class with ``name`` ("customer.what", a dot in it, so it cannot clash with a built-in), a
frozen dataclass ``Params`` (the types of ``runbook.actions.params``), a docstring whose first
line ``runbook actions`` shows, ``confirm = True`` if applying should ask, and ``plan(task,
params) -> Plan``: read with ``task.run`` (always allowed, also in ``--check``), return the
changes as ``Change``s with a sentence each. The engine applies them, or in check mode only
shows them, asks before applying, and journals everything; the action never decides that.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
import re
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from runbook.actions.base import Action, HostAction, RunAction
from runbook.errors import ConfigError


class ActionRegistry(Protocol):
    """What loading needs of ``runbook.actions.ActionRegistry`` (named here, not imported: the
    registry imports this module when it first looks for entry points)."""

    def __contains__(self, name: object) -> bool: ...

    def origin(self, name: str) -> str:
        """Where the action ``name`` comes from."""

    def add(self, cls: type[Action], origin: str) -> None:
        """Register ``cls`` as coming from ``origin``."""

ENTRY_POINT_GROUP = "runbook.actions"
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$")
_MODULE_PREFIX = "runbook_local_actions"


def check_action(cls: object, origin: str, registry: ActionRegistry) -> type[Action]:
    """The class as an action runbook can run, or a ConfigError naming where it came from."""
    if not (inspect.isclass(cls) and issubclass(cls, (HostAction, RunAction))):
        raise ConfigError(f"{cls!r} is not a HostAction or RunAction subclass", file=origin)
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(f"{cls.__name__}.name must be like 'acme.cache_flush' (lower case, with a dot), "
                          f"not {name!r}", file=origin, field=f"{cls.__name__}.name")
    params = getattr(cls, "Params", None)
    if not (inspect.isclass(params) and dataclasses.is_dataclass(params)):
        raise ConfigError(f"{cls.__name__}.Params must be a dataclass of the action's params", file=origin,
                          field=f"{cls.__name__}.Params")
    if not (cls.__doc__ or "").strip():
        raise ConfigError(f"{cls.__name__} needs a docstring: its first line is what `runbook actions` shows",
                          file=origin, field=cls.__name__)
    if name in registry and registry.origin(name) != origin:
        raise ConfigError(f"action {name!r} is already defined ({registry.origin(name)})", file=origin,
                          field=f"{cls.__name__}.name")
    return cls


def load_entry_points(registry: ActionRegistry) -> None:
    """Every installed package's ``runbook.actions`` entry points."""
    from importlib.metadata import entry_points

    for point in entry_points(group=ENTRY_POINT_GROUP):
        dist = point.dist.name if point.dist is not None else "?"
        origin = f"entry point {dist}: {point.value}"
        try:
            cls = point.load()
        except Exception as exc:  # a broken plugin package: one clear line, not a traceback
            raise ConfigError(f"cannot load: {type(exc).__name__}: {exc}", file=origin) from None
        registry.add(check_action(cls, origin, registry), origin)


def action_dirs(inventories: Iterable[Path]) -> list[Path]:
    """``actions/`` beside each inventory (a directory's own, or a file's directory's)."""
    dirs: dict[Path, Path] = {}
    for inv in inventories:
        folder = (inv if inv.is_dir() else inv.parent) / "actions"
        if folder.is_dir():
            dirs.setdefault(folder.resolve(), folder)
    return list(dirs.values())


def _refuse_if_others_can_write(path: Path) -> None:
    info = path.stat()
    if info.st_uid not in (os.getuid(), 0):
        raise ConfigError(f"refusing to load: owned by uid {info.st_uid}, not by you or root", file=str(path))
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError("refusing to load: writable by group or others (chmod go-w)", file=str(path))


def load_local_actions(registry: ActionRegistry, inventories: Iterable[Path]) -> list[str]:
    """Import the ``actions/*.py`` beside the inventories and register their actions; their names."""
    found: list[str] = []
    for folder in action_dirs(inventories):
        _refuse_if_others_can_write(folder)
        for file in sorted(folder.glob("*.py")):
            if file.name.startswith("_"):
                continue
            _refuse_if_others_can_write(file)
            origin = f"local {file}"
            module = _import(file)
            classes = [obj for obj in vars(module).values() if inspect.isclass(obj)
                       and issubclass(obj, Action) and obj.__module__ == module.__name__ and "name" in vars(obj)]
            for cls in classes:
                if registry.origin(cls.name) == origin:
                    continue  # the same file, loaded for another -i
                registry.add(check_action(cls, origin, registry), origin)
                found.append(cls.name)
    return found


def _import(file: Path) -> object:
    """The module of a local actions file (a syntax error or a failing import: one clear line)."""
    name = f"{_MODULE_PREFIX}.{re.sub(r'[^A-Za-z0-9_]', '_', file.stem)}_{abs(hash(str(file.resolve())))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ConfigError("cannot import", file=str(file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise ConfigError(f"syntax error: {exc.msg}", file=str(file), line=exc.lineno) from None
    except Exception as exc:  # the user's module failed while importing: say which file and how
        del sys.modules[name]
        line = exc.__traceback__.tb_next.tb_lineno if exc.__traceback__ and exc.__traceback__.tb_next else None
        raise ConfigError(f"cannot import: {type(exc).__name__}: {exc}", file=str(file), line=line) from None
    return module
