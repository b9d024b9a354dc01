"""Dynamic values for shell completion (bash, zsh, fish; ``runbook --install-completion``).

Each function gets the command line parsed so far (``ctx.params``: ``-i``, ``--runs-dir``...)
and the word being completed, and returns what fits: host names, roles and customers from the
inventory, playbook names, run ids and incident ids from the journals. They import what they
need only when called, so no ordinary start pays for them, and never raise: a broken inventory
completes nothing rather than printing a traceback into the shell's prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import typer

from runbook.errors import RunbookError


def _quietly(find: Callable[[], Iterable[str]], incomplete: str) -> list[str]:
    try:
        values = list(dict.fromkeys(find()))
    except (RunbookError, OSError, ValueError):
        return []
    return [v for v in values if v.startswith(incomplete)]


def _inventory(ctx: typer.Context) -> Any:
    from runbook.inventory import load_inventory

    given = ctx.params.get("inventory") or os.environ.get("RUNBOOK_INVENTORY", "").split()
    if not given:
        return None
    return load_inventory([Path(p) for p in given], contracts=False)


def _paths(ctx: typer.Context) -> Any:
    from runbook.paths import Paths

    def given(name: str) -> Path | None:  # typer turns the option into a Path only for the command itself
        value = ctx.params.get(name)
        return Path(os.path.expanduser(str(value))) if value else None
    return Paths.resolve(given("reports_dir"), given("runs_dir"))


def complete_host(ctx: typer.Context, incomplete: str) -> list[str]:
    """Host names of the inventory (``-i``, else RUNBOOK_INVENTORY / the config's)."""
    def hosts() -> Iterable[str]:
        inv = _inventory(ctx)
        return list(inv.hosts) if inv is not None else []
    return _quietly(hosts, incomplete)


def complete_limit(ctx: typer.Context, incomplete: str) -> list[str]:
    """``-l``: host names, roles and customers; after a comma or '!', the next pattern."""
    head, _, word = incomplete.rpartition(",")
    head = head + "," if head else ""
    bang = "!" if word.startswith("!") else ""

    def patterns() -> Iterable[str]:
        inv = _inventory(ctx)
        if inv is None:
            return []
        roles = sorted({r for h in inv.hosts.values() for r in h.roles})
        return [*inv.hosts, *roles, *sorted(c.slug for c in inv.customers.values())]
    given = {p.lstrip("!") for p in head.split(",")}
    return [f"{head}{bang}{p}" for p in _quietly(patterns, word[len(bang):]) if p not in given]


def complete_playbook(incomplete: str) -> list[str]:
    """Playbook names: shipped ones and those of ./playbooks (a path completes as a file)."""
    def names() -> Iterable[str]:
        from runbook.shipped import playbook_names
        return playbook_names()
    return _quietly(names, incomplete)


def complete_run_id(ctx: typer.Context, incomplete: str) -> list[str]:
    """Run ids from the journals, newest first."""
    def ids() -> Iterable[str]:
        from runbook.journal import iter_runs
        return [p.name for p in reversed(list(iter_runs(_paths(ctx).runs)))]
    return _quietly(ids, incomplete)


def complete_incident(ctx: typer.Context, incomplete: str) -> list[str]:
    """Incident ids opened under the reports root."""
    def ids() -> Iterable[str]:
        root = _paths(ctx).incidents
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return _quietly(ids, incomplete)
