"""What the CLI hands to the code below it: console, paths, clock. Built once per command."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.change import Change
from runbook.cli.terminal import escape
from runbook.errors import UsageError
from runbook.inventory import Host, Inventory
from runbook.paths import Paths
from runbook.playbook.model import Playbook, Step
from runbook.run.engine import Engine
from runbook.run.start import changes_hosts, customers_of, incident_vars, scope_to_incident

if TYPE_CHECKING:
    from rich.console import Console


@dataclass
class CliContext:
    paths: Paths
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    interactive: bool = False
    _consoles: "tuple[Console, Console] | None" = field(default=None, repr=False)
    _making: threading.RLock = field(default_factory=threading.RLock, repr=False)  # re-entered by a signal handler

    @classmethod
    def create(cls, reports_dir: Path | None = None, runs_dir: Path | None = None) -> "CliContext":
        return cls(paths=Paths.resolve(reports_dir, runs_dir), interactive=sys.stdin.isatty())

    @property
    def out(self) -> "Console":
        """The stdout console (made, and Rich imported, when a command first prints with it)."""
        return self._pair()[0]

    @property
    def err(self) -> "Console":
        """The stderr console: questions, notes, errors, progress."""
        return self._pair()[1]

    def _pair(self) -> "tuple[Console, Console]":
        with self._making:  # one pair, whichever thread prints first (a live display is bound to it)
            if self._consoles is None:
                from runbook.cli.console import console_pair
                self._consoles = console_pair()
            return self._consoles


def one_customer(ctx: CliContext, inventory: Inventory, hosts: list[Host], *, incident: str | None,
                 limit: str | None, playbook: Playbook | None = None, check: bool = True,
                 yes: bool = False) -> list[Host]:
    """The hosts a run may touch, kept to one customer where that is asked for:

    - with ``--incident``, the incident's customer only (the others left out are named; a
      limit naming another customer's host is a UsageError, before any journal is begun);
    - a run that may change hosts of several customers asks first, naming them (without a
      terminal it is refused unless ``--yes``): ``-l SLUG`` picks one customer.
    """
    hosts, left_out = scope_to_incident(inventory, hosts, incident, incident_vars(ctx.paths, incident), limit)
    if left_out:
        ctx.err.print(f"[yellow]note:[/] incident {escape(str(incident))}: only its customer's hosts; left out: "
                      + escape(", ".join(f"{h.name} ({h.customer})" for h in left_out)), highlight=False)
    customers = customers_of(hosts)
    if len(customers) < 2 or playbook is None or yes or not changes_hosts(playbook, check):
        return hosts
    named = ", ".join(customers)
    if not ctx.interactive:
        raise UsageError(f"this run may change hosts of {len(customers)} customers ({named}) and nobody can be "
                         f"asked: choose one with -l SLUG (e.g. -l {customers[0]}), or say --yes", option="--limit")
    ctx.err.print(f"[bold]This run may change hosts of {len(customers)} customers:[/] {escape(named)}",
                  highlight=False)
    answer = ctx.err.input(escape(f"Work on all {len(customers)} customers' hosts? [y/N] ")).strip().lower()
    if answer not in ("y", "yes", "j", "ja"):
        raise UsageError(f"not confirmed: choose one customer with -l SLUG ({named})", option="--limit")
    return hosts


def confirm_step(ctx: CliContext, pause: Callable[[], AbstractContextManager[None]] | None = None
                 ) -> Callable[[Step, Sequence[tuple[str, Change]]], bool]:
    """Ask once per step, listing every change on every host; a step that works across hosts
    in one order (a controlled restart) lists them numbered, in that order. ``pause`` stops a
    live display while the question is on the screen."""

    def ask(step: Step, items: Sequence[tuple[str, Change]]) -> bool:
        with (pause or nullcontext)():
            return _ask(step, items)

    def _ask(step: Step, items: Sequence[tuple[str, Change]]) -> bool:
        from runbook.actions import ACTIONS, RunAction

        ordered = issubclass(ACTIONS[step.action], RunAction)
        ctx.err.print(f"\n[bold]Step {step.index + 1} ({escape(step.name)})[/] would change {len(items)} thing(s)"
                      + (", one after the other in this order:" if ordered else ":"), highlight=False)
        for number, (host, change) in enumerate(items, 1):
            ctx.err.print(("  " + f"{number}.".rjust(len(str(len(items))) + 1) if ordered else " ")
                          + f" [cyan]{escape(host)}[/]: {escape(change.sentence)}", highlight=False, soft_wrap=True)
        if not ctx.interactive:
            ctx.err.print("[yellow]not a terminal: nothing applied; run with --yes to apply[/]")
            return False
        ctx.err.print(escape("Apply? [y/N] "), end="", highlight=False)  # escaped: else Rich eats "[y/N]"
        answer = input().strip().lower()
        return answer in ("y", "yes", "j", "ja")

    return ask


@contextmanager
def stop_on_signals(engine: Engine, ctx: CliContext) -> Iterator[None]:
    """SIGINT/SIGTERM: tell the engine to stop (it closes the journal); a second one is ignored."""

    def handler(signum: int, frame: object) -> None:
        if not engine.stopped:
            ctx.err.print(f"\n[yellow]{signal.Signals(signum).name}: stopping -- starting nothing new, "
                          "killing running commands[/]")
        engine.stop()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def env_sudo_password() -> str | None:
    return os.environ.get("RUNBOOK_SUDO_PASSWORD") or None
