"""What the CLI hands to the code below it: console, paths, clock. Built once per command."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from runbook.change import Change
from runbook.cli.console import console_pair
from runbook.paths import Paths
from runbook.playbook.model import Step
from runbook.run.engine import Engine


@dataclass
class CliContext:
    out: Console
    err: Console
    paths: Paths
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))
    interactive: bool = False

    @classmethod
    def create(cls, reports_dir: Path | None = None, runs_dir: Path | None = None) -> "CliContext":
        out, err = console_pair()
        return cls(out=out, err=err, paths=Paths.resolve(reports_dir, runs_dir), interactive=sys.stdin.isatty())


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
