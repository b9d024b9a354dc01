"""The engine: steps in order, hosts in parallel (bounded), one connection per host per run.

For each step and host: evaluate ``when``, render params (Jinja2, per host), let the action
plan (reading facts as it needs), then -- unless in check mode -- ask once for the whole step
if the step needs confirmation, and apply the plans in parallel. Every event goes to the
journal as it happens. One host failing or unreachable never hides the others' results.

Stopping (SIGINT/SIGTERM via ``stop()``): nothing new starts, running commands are killed
(remote process groups included), every host that was running gets its ``host.end``, and the
journal's ``run.end`` says "interrupted".
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from runbook.actions import ACTIONS
from runbook.actions.base import Applied, Change, HostTask, Plan
from runbook.actions.params import ParamError, build
from runbook.connection import ConnectOptions, connect
from runbook.connection.base import Connection
from runbook.errors import (CommandFailed, CommandTimeout, ConfigError, ConnectError, Interrupted,
                            RunbookError)
from runbook.inventory.model import Host, Inventory
from runbook.journal import Journal
from runbook.playbook.model import Playbook, Step
from runbook.templating import evaluate, render

OUTCOMES = ("ok", "changed", "skipped", "failed", "unreachable")
DEFAULT_FORKS = 20


@dataclass(frozen=True)
class RunOptions:
    """How the operator wants this run done."""

    check: bool = False
    assume_yes: bool = False
    forks: int = DEFAULT_FORKS
    connect: ConnectOptions = field(default_factory=ConnectOptions)


@dataclass(frozen=True)
class HostOutcome:
    """One result per host per step."""

    host: str
    step: int
    step_name: str
    outcome: str
    message: str
    changes: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    error: Mapping[str, Any] | None = None
    duration: float = 0.0
    #: what the journal records for ``changes``: the sentence, or {"sentence", "msg", "args"}
    #: when the action names a message id, so reports can say it in the customer's language
    records: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """What the run did; the journal has the same, and more."""

    run_id: str
    status: str                     # completed | failed | aborted | interrupted
    outcomes: tuple[HostOutcome, ...]

    def counts(self) -> dict[str, int]:
        counts = {o: 0 for o in OUTCOMES}
        for r in self.outcomes:
            counts[r.outcome] += 1
        return counts

    def last_for(self, host: str) -> HostOutcome | None:
        found = [o for o in self.outcomes if o.host == host]
        return found[-1] if found else None


Confirm = Callable[[Step, Sequence[tuple[str, Change]]], bool]


def apply_change(task: HostTask, change: Change) -> tuple[str, Any]:
    """Apply one planned change; return the sentence that says what was done, and its
    journal record (``change_record``)."""
    if change.apply is not None:
        result = change.apply(task)
        done = result if isinstance(result, Applied) else Applied(note=result)
        sentence = change.sentence + (f" ({done.note})" if done.note else "")
        return sentence, change_record(change, sentence, done)
    for command in change.commands:
        task.run(command, sudo=change.sudo, check=True)
    return change.sentence, change_record(change, change.sentence)


def change_record(change: Change, sentence: str, done: Applied | None = None) -> Any:
    """The journal's form of an applied change (see HostOutcome.records): the planned message
    id and args, as the ``apply`` that ran may have replaced or completed them."""
    msg = (done.msg if done is not None else None) or change.details.get("msg")
    if msg:
        args = {**(change.details.get("args") or {}), **(done.args if done is not None else {})}
        return {"sentence": sentence, "msg": msg, "args": args}
    return sentence


def _error_json(exc: BaseException) -> dict[str, Any]:
    return {"type": type(exc).__name__, "layer": getattr(exc, "layer", None), "message": str(exc)}


class Engine:
    """Runs one playbook over a list of hosts, writing one journal."""

    def __init__(self, inventory: Inventory, hosts: Sequence[Host], playbook: Playbook, journal: Journal,
                 options: RunOptions, *, confirm: Confirm | None = None,
                 on_outcome: Callable[[HostOutcome], None] | None = None,
                 clock: Callable[[], datetime] | None = None,
                 incident: Mapping[str, Any] | None = None) -> None:
        self.inventory = inventory
        self.incident = incident
        self.hosts = list(hosts)
        self.playbook = playbook
        self.journal = journal
        self.options = options
        self._confirm = confirm or (lambda step, items: False)
        self._on_outcome = on_outcome or (lambda outcome: None)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._stop = threading.Event()
        self._conns: dict[str, Connection] = {}
        self._unreachable: dict[str, tuple[int, BaseException]] = {}
        self._registered: dict[str, dict[str, Any]] = {h.name: {} for h in self.hosts}
        self._lock = threading.Lock()
        # A host's connection is closed when its last step is done, not at the end of the run:
        # a sweep of 1,000 hosts would otherwise hold 1,000 sockets and transport threads.
        # Not after a run-scoped step, whose other hosts may still reach this one.
        last = self.playbook.steps[-1] if self.playbook.steps else None
        self._close_after = last.index if last is not None and ACTIONS[last.action].scope != "run" else None

    # -- control ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Start nothing new and kill what runs. Safe to call from a signal handler."""
        self._stop.set()
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            cancel = getattr(conn, "cancel", None)
            if cancel is not None:
                threading.Thread(target=cancel, daemon=True).start()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> RunResult:
        started = time.monotonic()
        outcomes: list[HostOutcome] = []
        status = "completed"
        try:
            for step in self.playbook.steps:
                if self._stop.is_set():
                    status = "interrupted"
                    break
                step_outcomes = self._run_step(step)
                outcomes.extend(step_outcomes)
                if self._stop.is_set():
                    status = "interrupted"
                    break
                if step.on_failure == "abort" and any(o.outcome == "failed" for o in step_outcomes):
                    status = "aborted"
                    break
        finally:
            self._close_all()
            result_status = status
            if status == "completed" and any(o.outcome in ("failed", "unreachable") for o in outcomes):
                result_status = "failed"
            result = RunResult(self.journal.run_id, result_status, tuple(outcomes))
            self.journal.write("run.end", status=result_status, counts=result.counts(),
                               duration=round(time.monotonic() - started, 3))
        return result

    def _run_step(self, step: Step) -> list[HostOutcome]:
        names = [h.name for h in self.hosts]
        self.journal.write("step.start", step=step.index, name=step.name, action=step.action, hosts=names)
        if ACTIONS[step.action].scope == "run":
            from runbook.coordinated import run_coordinated_step
            ordered = run_coordinated_step(self, step)
            self.journal.write("step.end", step=step.index,
                               counts={o: sum(1 for r in ordered if r.outcome == o) for o in OUTCOMES})
            return ordered
        forks = 1 if step.serial else max(1, min(self.options.forks, len(self.hosts) or 1))
        planned: dict[str, tuple[HostTask, Any, Plan, float]] = {}
        results: dict[str, HostOutcome] = {}

        def plan_one(host: Host) -> None:
            began = time.monotonic()
            self.journal.write("host.start", step=step.index, host=host.name)
            outcome = self._plan_host(step, host, began, planned)
            if outcome is not None:
                self._finish(outcome, results)

        self._parallel(forks, plan_one, self.hosts)
        pending = {name: item for name, item in planned.items() if name not in results}
        if pending:
            self._apply_step(step, forks, pending, results)
        ordered = [results[n] for n in names if n in results]
        # Hosts never started (interrupted before their turn) still get one result each.
        for host in self.hosts:
            if host.name not in results:
                outcome = HostOutcome(host.name, step.index, step.name, "skipped", "not started: run interrupted")
                self._finish(outcome, results)
                ordered.append(outcome)
        counts = {o: sum(1 for r in ordered if r.outcome == o) for o in OUTCOMES}
        self.journal.write("step.end", step=step.index, counts=counts)
        return ordered

    def _parallel(self, forks: int, fn: Callable[[Any], None], items: Sequence[Any]) -> None:
        with ThreadPoolExecutor(max_workers=forks, thread_name_prefix="runbook-host") as pool:
            futures: set[Future] = {pool.submit(fn, item) for item in items}
            while futures:
                done, futures = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()  # worker bodies catch everything per host; re-raise only real bugs
                if self._stop.is_set():
                    for f in futures:
                        f.cancel()

    def _finish(self, outcome: HostOutcome, results: dict[str, HostOutcome]) -> None:
        # What the operator sees (progress, summary, --json) is redacted like the journal.
        outcome = replace(outcome, message=self.journal.redact(outcome.message),
                          changes=tuple(self.journal.redact(list(outcome.changes))),
                          data=self.journal.redact(dict(outcome.data)), error=self.journal.redact(outcome.error))
        with self._lock:
            results[outcome.host] = outcome
        self.journal.write("host.end", step=outcome.step, host=outcome.host, outcome=outcome.outcome,
                           message=outcome.message, changes=list(outcome.records or outcome.changes),
                           data=dict(outcome.data),
                           error=outcome.error, duration=round(outcome.duration, 4))
        if outcome.step == self._close_after:
            self._close_host(outcome.host)
        self._on_outcome(outcome)

    # -- per host -----------------------------------------------------------------------------

    def _context(self, host: Host) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(host.vars)
        ctx.update(self._registered.get(host.name, {}))
        ctx.update(host=host.name, address=host.address, roles=list(host.roles), customer=host.customer,
                   check_mode=self.options.check, incident=self.incident)
        return ctx

    def _connection(self, host: Host) -> Connection:
        with self._lock:
            conn = self._conns.get(host.name)
            if conn is None:
                conn = connect(host, self.options.connect)
                self._conns[host.name] = conn
        conn.open()
        return conn

    def prepare(self, step: Step, host: Host) -> tuple[HostTask, Any] | None:
        """The host's task and rendered, typed params for ``step``; None when its ``when`` is
        false. Raises ConfigError when a template or a param does not fit this host."""
        context = self._context(host)
        if step.when is not None and not evaluate(step.when, context, file=step.file, line=step.when_line or step.line,
                                                  field=f"steps[{step.index}].when"):
            return None
        raw = render(dict(step.params), context, file=step.file, line=step.line,
                     field=f"steps[{step.index}].params")
        try:
            params = build(ACTIONS[step.action].Params, raw, rendered=True)
        except ParamError as exc:
            raise ConfigError(str(exc), file=step.file, line=step.line,
                              field=f"steps[{step.index}].params.{exc.field}") from None
        task = HostTask(host=host, connect=lambda: self._connection(host), journal=self.journal,
                        step=step.index, vars=context, timeout=step.timeout or host.command_timeout,
                        check=self.options.check, clock=self._clock, inventory=self.inventory)
        return task, params

    def _plan_host(self, step: Step, host: Host, began: float,
                   planned: dict[str, tuple[HostTask, Any, Plan, float]]) -> HostOutcome | None:
        def outcome(kind: str, message: str, **kw: Any) -> HostOutcome:
            return HostOutcome(host.name, step.index, step.name, kind, message,
                               duration=time.monotonic() - began, **kw)

        if self._stop.is_set():
            return outcome("skipped", "not started: run interrupted")
        # Actions that need no SSH (notify.hoster) still run for a host found unreachable.
        if host.name in self._unreachable and ACTIONS[step.action].needs_connection:
            first_step, exc = self._unreachable[host.name]
            return outcome("unreachable", f"unreachable since step {first_step + 1}: {exc}",
                           error=_error_json(exc))
        try:
            prepared = self.prepare(step, host)
            if prepared is None:
                return outcome("skipped", f"condition is false: {step.when}")
            task, params = prepared
            action = ACTIONS[step.action]()
            plan = action.plan(task, params)
        except ConnectError as exc:
            with self._lock:
                self._unreachable[host.name] = (step.index, exc)
            return outcome("unreachable", str(exc), error=_error_json(exc))
        except (CommandTimeout, CommandFailed, ConfigError, Interrupted, RunbookError) as exc:
            return outcome("failed", str(exc).splitlines()[0], error=_error_json(exc))
        except Exception as exc:  # the per-host boundary: one host's surprise must not hide the others
            self.journal.write("error", step=step.index, host=host.name, traceback=traceback.format_exc())
            return outcome("failed", f"internal error: {exc!r}", error=_error_json(exc))
        self._register(step, host, plan.data)
        if plan.unreachable is not None:
            with self._lock:
                self._unreachable[host.name] = (step.index, plan.unreachable)
            return outcome("unreachable", str(plan.unreachable), data=plan.data,
                           error=_error_json(plan.unreachable))
        if plan.skipped:
            return outcome("skipped", plan.message, data=plan.data)
        if plan.failed:
            return outcome("failed", plan.message, data=plan.data)
        if not plan.changes:
            return outcome("ok", plan.message, data=plan.data)
        if self.options.check:
            sentences = tuple(c.sentence for c in plan.changes)
            data = dict(plan.data, check=True, planned=[c.to_json() for c in plan.changes])
            return outcome("changed", f"would: {'; '.join(sentences)}"[:500], changes=sentences, data=data,
                           records=tuple(change_record(c, c.sentence) for c in plan.changes))
        with self._lock:
            planned[host.name] = (task, (action, params), plan, began)
        return None

    def _register(self, step: Step, host: Host, data: Mapping[str, Any]) -> None:
        if step.register:
            with self._lock:
                self._registered[host.name][step.register] = dict(data)

    def _apply_step(self, step: Step, forks: int, pending: dict[str, tuple[HostTask, Any, Plan, float]],
                    results: dict[str, HostOutcome]) -> None:
        action_cls = ACTIONS[step.action]
        needs_confirm = action_cls.confirm if step.confirm is None else step.confirm
        if needs_confirm and not self.options.assume_yes:
            items = [(name, change) for name, (_, _, plan, _) in pending.items() for change in plan.changes]
            if not self._confirm(step, items):
                for name, (task, _, plan, began) in pending.items():
                    self._finish(HostOutcome(name, step.index, step.name, "skipped",
                                             "not confirmed: nothing was changed (run with --yes to apply)",
                                             data=dict(plan.data, planned=[c.to_json() for c in plan.changes]),
                                             duration=time.monotonic() - began), results)
                return

        def apply_one(name: str) -> None:
            task, (action, params), plan, began = pending[name]
            applied: list[str] = []
            records: list[Any] = []
            try:
                for change in plan.changes:
                    if self._stop.is_set():
                        raise Interrupted(f"{name}: interrupted before: {change.sentence}")
                    sentence, record = apply_change(task, change)
                    applied.append(sentence)
                    records.append(record)
                extra = action.after(task, params, plan, applied)
                data = dict(plan.data, **dict(extra))
                self._register(step, task.host, data)
                outcome = HostOutcome(name, step.index, step.name, "changed", "; ".join(applied)[:500],
                                      changes=tuple(applied), data=data, duration=time.monotonic() - began,
                                      records=tuple(records))
            except ConnectError as exc:
                outcome = HostOutcome(name, step.index, step.name, "unreachable", str(exc), tuple(applied),
                                      dict(plan.data), _error_json(exc), time.monotonic() - began)
            except (RunbookError, OSError) as exc:
                outcome = HostOutcome(name, step.index, step.name, "failed", str(exc).splitlines()[0],
                                      tuple(applied), dict(plan.data), _error_json(exc), time.monotonic() - began)
            except Exception as exc:  # the per-host boundary, as in planning
                self.journal.write("error", step=step.index, host=name, traceback=traceback.format_exc())
                outcome = HostOutcome(name, step.index, step.name, "failed", f"internal error: {exc!r}",
                                      tuple(applied), dict(plan.data), _error_json(exc), time.monotonic() - began)
            self._finish(outcome, results)

        self._parallel(forks, apply_one, list(pending))

    def _close_host(self, name: str) -> None:
        with self._lock:
            conn = self._conns.pop(name, None)
        if conn is not None:
            try:
                conn.close()
            except (OSError, RunbookError):
                pass  # closing a dead connection has nothing left to tell

    def _close_all(self) -> None:
        with self._lock:
            conns = list(self._conns.values())
            self._conns.clear()
        for conn in conns:
            try:
                conn.close()
            except (OSError, RunbookError):
                pass  # closing a dead connection has nothing left to tell
