"""The step context: what a strategy needs of the run to take one step over its hosts.

A strategy (``runbook.run.per_host``, ``runbook.run.ordered``) decides the order of planning
and applying; everything else is said once, here: how a host's params are rendered, how a
host found unreachable earlier is skipped, what check mode records, the rule for asking the
operator, and the one result each host gets, written to the journal as it happens (and its
connection closed when that was its last step).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from runbook.actions import ACTIONS
from runbook.actions.base import Action
from runbook.actions.params import ParamError, build
from runbook.change import Applied, Change, Outcome, Plan
from runbook.errors import ConfigError, ConnectError, RunbookError
from runbook.inventory.model import Host, Inventory
from runbook.journal import Journal
from runbook.playbook.model import Step
from runbook.run.hosts import RunHosts
from runbook.run.options import Confirm, RunOptions
from runbook.run.results import HostOutcome
from runbook.task import NO_ACTIVITY, HostActivity, HostTask
from runbook.templating import evaluate, render
from runbook.units import shorten

#: The longest one-line message of a host's result (the journal keeps every sentence).
MESSAGE_CHARS = 500
NOT_CONFIRMED = "not confirmed: nothing was changed (run with --yes to apply)"
NOT_STARTED = "not started: run interrupted"
CHECK_VERDICT = "check mode: judged before the planned changes, which were not made"

Item = TypeVar("Item")


@dataclass(frozen=True)
class Prepared:
    """A host ready for the step's action: its task and its rendered, typed params."""

    task: HostTask
    params: Any


def _line_of(step: Step, param: str) -> int:
    """The playbook line of one of the step's params (the step's own line when not known)."""
    line_of = getattr(step.params, "line_of", None)
    return line_of(param) if line_of is not None else step.line


def error_json(exc: BaseException) -> dict[str, Any]:
    """How a host's result and the journal record an error: its type, layer and message."""
    return {"type": type(exc).__name__, "layer": getattr(exc, "layer", None), "message": str(exc)}


def apply_change(task: HostTask, change: Change) -> tuple[str, Any]:
    """Apply one planned change; return the sentence that says what was done, and its
    journal record (``Change.journal_record``)."""
    if change.apply is not None:
        result = change.apply(task)
        done = result if isinstance(result, Applied) else Applied(note=result)
        sentence = change.sentence + (f" ({done.note})" if done.note else "")
        return sentence, change.journal_record(sentence, done)
    for command in change.commands:
        task.run(command, sudo=change.sudo, check=True)
    return change.sentence, change.journal_record(change.sentence)


class StepContext:
    """One step of a run over its hosts: the public surface strategies work with."""

    def __init__(self, step: Step, hosts: Sequence[Host], *, run_hosts: RunHosts, journal: Journal,
                 options: RunOptions, last: bool, stop: threading.Event, confirm: Confirm,
                 on_outcome: Callable[[HostOutcome], None], clock: Callable[[], datetime],
                 inventory: Inventory, incident: Mapping[str, Any] | None,
                 activity: HostActivity = NO_ACTIVITY) -> None:
        self.step = step
        self.hosts = list(hosts)
        self.action: type[Action] = ACTIONS[step.action]
        self.journal = journal
        self.options = options
        self.run_hosts = run_hosts
        #: this is the last step of the run: a host's connection is closed once it is done
        self.last = last
        self._stop = stop
        self._confirm = confirm
        self._on_outcome = on_outcome
        self._clock = clock
        self._inventory = inventory
        self._incident = incident
        self.activity = activity
        self._results: dict[str, HostOutcome] = {}
        self._began: dict[str, float] = {}
        self._lock = threading.Lock()

    # -- the run around the step ----------------------------------------------------------------

    @property
    def stopped(self) -> bool:
        """Ctrl-C or SIGTERM: start nothing new."""
        return self._stop.is_set()

    @property
    def forks(self) -> int:
        """How many hosts at a time: 1 for a ``serial`` step, else ``--forks`` (at most all)."""
        return 1 if self.step.serial else max(1, min(self.options.forks, len(self.hosts) or 1))

    def in_parallel(self, work: Callable[[Item], None], items: Sequence[Item]) -> None:
        """``work`` for every item, ``forks`` at a time; once stopped, what has not started
        never starts. Workers catch everything per host; a real bug is re-raised here."""
        with ThreadPoolExecutor(max_workers=self.forks, thread_name_prefix="runbook-host") as pool:
            futures: set[Future[None]] = {pool.submit(work, item) for item in items}
            while futures:
                done, futures = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()
                if self.stopped:
                    for f in futures:
                        f.cancel()

    def needs_confirm(self) -> bool:
        """Applying asks the operator: the step's ``confirm``, else the action's; never with ``--yes``."""
        wanted = self.action.confirm if self.step.confirm is None else self.step.confirm
        return wanted and not self.options.assume_yes

    def confirm(self, items: Sequence[tuple[str, Change]]) -> bool:
        """Ask once for the whole step (every change on every host); True: apply."""
        return not self.needs_confirm() or self._confirm(self.step, items)

    # -- one host -----------------------------------------------------------------------------

    def begin(self, host: Host) -> None:
        """The host's turn in this step starts (journalled; its duration counts from here)."""
        with self._lock:
            self._began[host.name] = time.monotonic()
        self.journal.write("host.start", step=self.step.index, host=host.name)
        self.activity.started(host.name, self.step.name)

    def skip_if_unreachable(self, host: Host) -> bool:
        """Finish ``host`` as unreachable when an earlier step found it so and the action
        needs its connection; True if it was."""
        found = self.run_hosts.unreachable(host.name)
        if found is None or not self.action.needs_connection:
            return False
        first_step, exc = found
        self.finish(host.name, Outcome.UNREACHABLE, f"unreachable since step {first_step + 1}: {exc}",
                    error=error_json(exc))
        return True

    def prepare(self, host: Host) -> Prepared | None:
        """The host's task and rendered, typed params; None when the step's ``when`` is false
        for it. Raises ConfigError when a template or a param does not fit this host."""
        step = self.step
        context: dict[str, Any] = dict(host.vars)
        context.update(self.run_hosts.registered(host.name))
        context.update(host=host.name, address=host.address, roles=list(host.roles), customer=host.customer,
                       check_mode=self.options.check, incident=self._incident)
        for layer in step.vars:  # the includes' vars, then the step's own; -e still wins
            context.update(render(dict(layer), context, file=step.file, line=step.line, stop=self._stop,
                                  field=f"{step.where}.vars{step.included_from}"))
            context.update(self._inventory.extra_vars)
        if step.when is not None and not evaluate(step.when, context, file=step.file, line=step.when_line or step.line,
                                                  field=f"{step.where}.when{step.included_from}", stop=self._stop):
            return None
        raw = {key: render(value, context, file=step.file, line=_line_of(step, key), stop=self._stop,
                           field=f"{step.where}.params.{key}{step.included_from}")
               for key, value in step.params.items()}
        try:
            params = build(self.action.Params, raw, rendered=True)
        except ParamError as exc:
            raise ConfigError(str(exc), file=step.file, line=step.line,
                              field=f"{step.where}.params.{exc.field}{step.included_from}") from None
        task = HostTask(host=host, connect=lambda: self.run_hosts.connection(host), journal=self.journal,
                        step=step.index, vars=context, timeout=step.timeout or host.command_timeout,
                        check=self.options.check, clock=self._clock, inventory=self._inventory,
                        step_name=step.name, read_only=step.read_only, activity=self.activity)
        return Prepared(task, params)

    def mark_unreachable(self, name: str, exc: ConnectError) -> None:
        """Later steps skip ``name`` (unless their action needs no connection)."""
        self.run_hosts.mark_unreachable(name, self.step.index, exc)

    def register(self, name: str, data: Mapping[str, Any]) -> None:
        """The step's ``register:``: later steps of this host see ``data`` under that name."""
        if self.step.register:
            self.run_hosts.register(name, self.step.register, data)

    # -- the one result per host ---------------------------------------------------------------

    def finish(self, name: str, outcome: str, message: str, *, changes: Sequence[str] = (),
               data: Mapping[str, Any] | None = None, error: Mapping[str, Any] | None = None,
               records: Sequence[Any] = ()) -> None:
        """The host's result for this step: redacted like the journal, journalled as
        ``host.end``, shown to the operator; its connection closed if this was its last step."""
        with self._lock:
            began = self._began.get(name)
        result = HostOutcome(name, self.step.index, self.step.name, outcome, message, tuple(changes),
                             dict(data or {}), error, time.monotonic() - began if began is not None else 0.0,
                             tuple(records))
        # What the operator sees (progress, summary, --json) is redacted like the journal.
        redact = self.journal.redact
        result = replace(result, message=redact(result.message), changes=tuple(redact(list(result.changes))),
                         data=redact(dict(result.data)), error=redact(result.error))
        with self._lock:
            self._results[name] = result
        self.journal.write("host.end", step=result.step, host=name, outcome=result.outcome, message=result.message,
                           changes=list(result.records or result.changes), data=dict(result.data),
                           error=result.error, duration=round(result.duration, 4))
        self.activity.finished(name)
        self._on_outcome(result)
        if self.last:
            self.run_hosts.release(name)

    def would(self, name: str, changes: Sequence[Change], data: Mapping[str, Any], **extra: Any) -> None:
        """Check mode: the host is "changed" with what it would do, and nothing is applied."""
        sentences = tuple(c.sentence for c in changes)
        self.run_hosts.note_planned()
        self.finish(name, Outcome.CHANGED, shorten(f"would: {'; '.join(sentences)}", MESSAGE_CHARS),
                    changes=sentences,
                    data=dict(data, check=True, planned=[c.to_json() for c in changes], **extra),
                    records=[c.journal_record(c.sentence) for c in changes])

    def judged(self, task: HostTask, plan: Plan) -> None:
        """A host's finding that is not a change. A verdict (``fail_on``) in check mode, after
        an earlier step planned changes it did not make, judges a state the run would have
        changed: it is shown, and does not fail the step (nor abort the run)."""
        name = task.host.name
        if plan.outcome is Outcome.FAILED and plan.verdict and self.options.check and self.run_hosts.planned:
            self.finish(name, Outcome.OK, f"{CHECK_VERDICT}: {plan.message}"[:MESSAGE_CHARS],
                        data=dict(plan.data, verdict_in_check_mode="failed"))
        elif plan.outcome is Outcome.OK:
            self.nothing_to_do(task, plan.message, plan.data)
        else:
            self.finish(name, plan.outcome, plan.message, data=plan.data)

    def nothing_to_do(self, task: HostTask, message: str, data: Mapping[str, Any]) -> None:
        """A host the step found nothing to do on: "ok" if the step looked at it, else skipped
        (a restart never logs in to a host that declares no services, a user action may decide
        from the host's vars alone), so that no report says such a host was reached and checked. An
        action that works without logging in (a hoster notice, which probes from here) looked
        at it in its own way."""
        looked = task.logged_in or not self.action().needs_connection
        self.finish(task.host.name, Outcome.OK if looked else Outcome.SKIPPED, message, data=data)

    def not_confirmed(self, name: str, data: Mapping[str, Any], planned: Sequence[Change] = ()) -> None:
        """The operator said no (or nobody could be asked): nothing was changed."""
        if planned:
            data = dict(data, planned=[c.to_json() for c in planned])
        self.finish(name, Outcome.SKIPPED, NOT_CONFIRMED, data=data)

    def changed(self, name: str, sentences: Sequence[str], records: Sequence[Any], data: Mapping[str, Any]) -> None:
        """The host's changes were applied; the message is their sentences."""
        self.finish(name, Outcome.CHANGED, shorten("; ".join(sentences), MESSAGE_CHARS), changes=sentences,
                    data=data, records=records)

    def failed(self, name: str, exc: BaseException, *, changes: Sequence[str] = (),
               data: Mapping[str, Any] | None = None, records: Sequence[Any] = ()) -> None:
        """The host's result when ``exc`` ended its turn: unreachable for a connection error,
        failed with the error's first line for ours (and OSError), "internal error" for
        anything else -- the per-host boundary, whose traceback goes to the journal.
        ``changes`` and ``records``: what was done on the host before (the report tells it)."""
        outcome, message = self._judge(exc, name)
        if isinstance(exc, ConnectError):  # lost mid-step (sshd killed): later steps skip the host
            self.mark_unreachable(name, exc)
        self.finish(name, outcome, message, changes=changes, data=data, error=error_json(exc), records=records)

    def failed_all(self, names: Sequence[str], exc: BaseException) -> None:
        """Every host of ``names`` failed by one error (a run-scoped plan that could not be made)."""
        outcome, message = self._judge(exc, None)
        for name in names:
            self.finish(name, outcome, message, error=error_json(exc))

    def _judge(self, exc: BaseException, host: str | None) -> tuple[Outcome, str]:
        if isinstance(exc, ConnectError):
            return Outcome.UNREACHABLE, str(exc)
        if isinstance(exc, RunbookError):
            return Outcome.FAILED, exc.one_line()
        if isinstance(exc, OSError):
            return Outcome.FAILED, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.journal.write("error", step=self.step.index, host=host, traceback=traceback.format_exc())
        return Outcome.FAILED, f"internal error: {exc!r}"

    def has_result(self, name: str) -> bool:
        """The host already has its result for this step."""
        with self._lock:
            return name in self._results

    def results(self) -> list[HostOutcome]:
        """One result per host, in inventory order; a host that never got its turn (the run
        was interrupted first) gets "not started" now."""
        for host in self.hosts:
            if not self.has_result(host.name):
                self.finish(host.name, Outcome.SKIPPED, NOT_STARTED)
        with self._lock:
            return [self._results[h.name] for h in self.hosts]
