"""The engine: steps in order, each by its action's strategy, one connection per host per run.

For each step: a ``StepContext`` over the targeted hosts, handed to the strategy the action
asks for -- ``run_per_host`` (a ``HostAction``: hosts plan and apply in parallel, bounded by
``--forks``) or ``run_ordered`` (a ``RunAction``: one plan across hosts, applied in its order).
Every event goes to the journal as it happens. One host failing or unreachable never hides
the others' results.

Stopping (SIGINT/SIGTERM via ``stop()``): nothing new starts, running commands are killed
(remote process groups included), every host that was running gets its ``host.end``, and the
journal's ``run.end`` says "interrupted".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from runbook.actions import ACTIONS
from runbook.actions.base import RunAction
from runbook.connection import ConnectOptions, connect
from runbook.connection.base import Connection
from runbook.inventory.model import Host, Inventory
from runbook.journal import Journal
from runbook.playbook.model import Playbook, Step
from runbook.run.hosts import RunHosts
from runbook.run.options import Confirm, RunOptions
from runbook.run.ordered import run_ordered
from runbook.run.per_host import run_per_host
from runbook.run.results import HostOutcome, RunResult, count
from runbook.run.step import StepContext
from runbook.task import NO_ACTIVITY, HostActivity

#: A strategy takes one step over its hosts; both have this signature.
Strategy = Callable[[StepContext], None]


def strategy_for(step: Step) -> Strategy:
    """``run_ordered`` for a run-scoped action, ``run_per_host`` for every other."""
    return run_ordered if issubclass(ACTIONS[step.action], RunAction) else run_per_host


class Engine:
    """Runs one playbook over a list of hosts, writing one journal."""

    def __init__(self, inventory: Inventory, hosts: Sequence[Host], playbook: Playbook, journal: Journal,
                 options: RunOptions, *, confirm: Confirm | None = None,
                 on_outcome: Callable[[HostOutcome], None] | None = None,
                 clock: Callable[[], datetime] | None = None,
                 incident: Mapping[str, Any] | None = None,
                 connector: Callable[[Host, ConnectOptions], Connection] = connect,
                 activity: HostActivity = NO_ACTIVITY) -> None:
        self.inventory = inventory
        self.incident = incident
        self.activity = activity
        self.hosts = list(hosts)
        self.playbook = playbook
        self.journal = journal
        self.options = options
        self._confirm: Confirm = confirm or (lambda step, items: False)
        self._on_outcome = on_outcome or (lambda outcome: None)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._stop = threading.Event()
        self.run_hosts = RunHosts(self.hosts, options.connect, connector=connector)

    def stop(self) -> None:
        """Start nothing new and kill what runs. Safe to call from a signal handler."""
        self._stop.set()
        self.run_hosts.cancel_all()

    @property
    def stopped(self) -> bool:
        """``stop()`` was called."""
        return self._stop.is_set()

    def run(self) -> RunResult:
        """Every step in order, until the end, an aborting failure or ``stop()``."""
        started = time.monotonic()
        outcomes: list[HostOutcome] = []
        status = "completed"
        try:
            for step in self.playbook.steps:
                if self.stopped:
                    status = "interrupted"
                    break
                step_outcomes = self._run_step(step)
                outcomes.extend(step_outcomes)
                if self.stopped:
                    status = "interrupted"
                    break
                if step.on_failure == "abort" and any(o.outcome == "failed" for o in step_outcomes):
                    status = "aborted"
                    break
                if self.journal.failure is not None:  # what happens next could not be recorded
                    status = "aborted"
                    break
        finally:
            self.run_hosts.close_all()
            if status == "completed" and any(o.outcome in ("failed", "unreachable") for o in outcomes):
                status = "failed"
            result = RunResult(self.journal.run_id, status, tuple(outcomes))
            self.journal.write("run.end", status=status, counts=result.counts(),
                               duration=round(time.monotonic() - started, 3))
            self.journal.finish()
        return result

    def _run_step(self, step: Step) -> list[HostOutcome]:
        self.journal.write("step.start", step=step.index, name=step.name, action=step.action,
                           hosts=[h.name for h in self.hosts])
        ctx = StepContext(step, self.hosts, run_hosts=self.run_hosts, journal=self.journal, options=self.options,
                          last=step.index == self.playbook.steps[-1].index, stop=self._stop,
                          confirm=self._confirm, on_outcome=self._on_outcome, clock=self._clock,
                          inventory=self.inventory, incident=self.incident, activity=self.activity)
        strategy_for(step)(ctx)
        results = ctx.results()
        self.journal.write("step.end", step=step.index, counts=count(results))
        return results
