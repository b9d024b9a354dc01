"""Steps that act across hosts in one order: a controlled restart of web, app and db.

Most actions work on each host alone, in parallel. A run-scoped action (``scope = "run"``)
sees every targeted host at once and returns one ``RunPlan``: an ordered list of changes,
each bound to a host, that the engine applies strictly one after the other, stopping at the
first failure (a failed health gate must stop the chain before anything depending on it is
started). Check mode, confirmation and the journal work as for per-host steps, and every
host still gets exactly one result for the step.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runbook.actions import ACTIONS
from runbook.actions.base import RunAction
from runbook.change import Change, RunPlan
from runbook.errors import ConfigError, ConnectError, RunbookError
from runbook.playbook.model import Step
from runbook.task import HostTask

if TYPE_CHECKING:
    from runbook.engine import Engine, HostOutcome


def run_coordinated_step(engine: "Engine", step: Step) -> list["HostOutcome"]:
    from runbook.engine import HostOutcome, _error_json, apply_change

    began = time.monotonic()
    results: dict[str, HostOutcome] = {}

    def finish(host: str, outcome: str, message: str, **kw: Any) -> None:
        engine._finish(HostOutcome(host, step.index, step.name, outcome, message,
                                   duration=time.monotonic() - began, **kw), results)

    tasks: dict[str, HostTask] = {}
    params: dict[str, Any] = {}
    for host in engine.hosts:
        engine.journal.write("host.start", step=step.index, host=host.name)
        if host.name in engine._unreachable:
            first, exc = engine._unreachable[host.name]
            finish(host.name, "unreachable", f"unreachable since step {first + 1}: {exc}", error=_error_json(exc))
            continue
        try:
            prepared = engine.prepare(step, host)
        except ConfigError as exc:
            finish(host.name, "failed", str(exc), error=_error_json(exc))
            continue
        if prepared is None:
            finish(host.name, "skipped", f"condition is false: {step.when}")
            continue
        tasks[host.name], params[host.name] = prepared
    if not tasks:
        return [results[h.name] for h in engine.hosts if h.name in results]
    action = ACTIONS[step.action]()
    assert isinstance(action, RunAction)
    try:
        plan: RunPlan = action.plan_run(tasks, params)
    except ConnectError as exc:
        with engine._lock:
            engine._unreachable[exc.host] = (step.index, exc)
        for name in tasks:
            outcome = "unreachable" if name == exc.host else "failed"
            finish(name, outcome, str(exc) if name == exc.host else f"not done: {exc.host} is unreachable",
                   error=_error_json(exc))
        return [results[h.name] for h in engine.hosts if h.name in results]
    except RunbookError as exc:
        for name in tasks:
            finish(name, "failed", str(exc).splitlines()[0], error=_error_json(exc))
        return [results[h.name] for h in engine.hosts if h.name in results]
    except Exception as exc:  # the step boundary: an action bug fails the step, not the run's record
        engine.journal.write("error", step=step.index, host=None, traceback=traceback.format_exc())
        for name in tasks:
            finish(name, "failed", f"internal error: {exc!r}", error=_error_json(exc))
        return [results[h.name] for h in engine.hosts if h.name in results]

    by_host: dict[str, list[Change]] = {name: [] for name in tasks}
    for name, change in plan.changes:
        by_host.setdefault(name, []).append(change)
    if plan.failed or not plan.changes or engine.options.check:
        for name in tasks:
            data = dict(plan.data.get(name, {}))
            sentences = tuple(c.sentence for c in by_host[name])
            if name in plan.failed:
                finish(name, "failed", plan.messages.get(name, "failed"), data=data)
            elif engine.options.check and sentences:
                data.update(check=True, planned=[c.to_json() for c in by_host[name]],
                            order=[f"{h}: {c.sentence}" for h, c in plan.changes])
                finish(name, "changed", f"would: {'; '.join(sentences)}"[:500], changes=sentences, data=data,
                       records=tuple(c.journal_record(c.sentence) for c in by_host[name]))
            else:
                finish(name, "ok", plan.messages.get(name, "nothing to do"), data=data)
        return [results[h.name] for h in engine.hosts if h.name in results]

    needs_confirm = ACTIONS[step.action].confirm if step.confirm is None else step.confirm
    if needs_confirm and not engine.options.assume_yes and not engine._confirm(step, list(plan.changes)):
        for name in tasks:
            finish(name, "skipped", "not confirmed: nothing was changed (run with --yes to apply)",
                   data=dict(plan.data.get(name, {})))
        return [results[h.name] for h in engine.hosts if h.name in results]

    applied: list[tuple[str, str]] = []
    records: dict[str, list[Any]] = {}
    failure: tuple[str, BaseException] | None = None
    for name, change in plan.changes:
        if engine.stopped:
            failure = (name, RunbookError(f"interrupted before: {change.sentence}"))
            break
        try:
            sentence, record = apply_change(tasks[name], change)
            applied.append((name, sentence))
            records.setdefault(name, []).append(record)
        except (RunbookError, OSError) as exc:
            failure = (name, exc)
            break
    extra = action.after_run(tasks, params, plan, applied, failure)
    for name in tasks:
        data = dict(plan.data.get(name, {}), **dict(extra.get(name, {})))
        done = tuple(s for h, s in applied if h == name)
        if failure is not None and failure[0] == name:
            exc = failure[1]
            kind = "unreachable" if isinstance(exc, ConnectError) else "failed"
            finish(name, kind, str(exc).splitlines()[0], changes=done, data=data, error=_error_json(exc))
        elif failure is not None and len(done) < len(by_host[name]):
            finish(name, "failed" if done else "skipped",
                   f"stopped: {failure[0]} failed before this host's turn ({len(by_host[name]) - len(done)} "
                   "change(s) not applied)", changes=done, data=data)
        elif done:
            finish(name, "changed", "; ".join(done)[:500], changes=done, data=data,
                   records=tuple(records.get(name, ())))
        else:
            finish(name, "ok", plan.messages.get(name, "nothing to do"), data=data)
    return [results[h.name] for h in engine.hosts if h.name in results]
