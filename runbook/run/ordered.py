"""The ordered strategy: steps that act across hosts in one order (a controlled restart of web,
app and db).

A run-scoped action sees every targeted host at once and returns one ``RunPlan``: an ordered
list of changes, each bound to a host, applied strictly one after the other and stopping at
the first that raises. Check mode, confirmation and the journal work as for per-host steps,
and every host still gets exactly one result for the step: failed on the host whose change
raised and on each host the action finds failed afterwards (``RunAction.failed_hosts``: a
health gate that failed there, a service left down there), never on a host for another's.
"""

from __future__ import annotations

from typing import Any

from runbook.actions.base import RunAction
from runbook.change import Change, Outcome, RunPlan
from runbook.errors import ConnectError, RunbookError
from runbook.run.step import Prepared, StepContext, apply_change, error_json
from runbook.task import HostTask


def run_ordered(ctx: StepContext) -> None:
    """Plan once over all hosts, ask once, apply the plan's changes in its order."""
    action = ctx.action()
    if not isinstance(action, RunAction):
        raise TypeError(f"{ctx.step.action} is not a run-scoped action")
    prepared = _prepare_all(ctx)
    if not prepared:
        return
    tasks = {name: p.task for name, p in prepared.items()}
    params = {name: p.params for name, p in prepared.items()}
    plan = _plan(ctx, action, tasks, params)
    if plan is None:
        return
    by_host: dict[str, list[Change]] = {name: [] for name in tasks}
    for name, change in plan.changes:
        by_host.setdefault(name, []).append(change)
    if plan.failed or not plan.changes or ctx.options.check:
        _record_plan(ctx, plan, by_host, tasks)
        return
    if not ctx.confirm(list(plan.changes)):
        for name in tasks:
            ctx.not_confirmed(name, plan.data.get(name, {}))
        return
    applied: list[tuple[str, str]] = []
    records: dict[str, list[Any]] = {}
    failure: tuple[str, BaseException] | None = None
    for name, change in plan.changes:
        if ctx.stopped:
            failure = (name, RunbookError(f"interrupted before: {change.sentence}"))
            break
        try:
            sentence, record = apply_change(tasks[name], change)
        except (RunbookError, OSError) as exc:
            failure = (name, exc)
            break
        applied.append((name, sentence))
        records.setdefault(name, []).append(record)
    extra = action.after_run(tasks, params, plan, applied, failure)
    verdicts = action.failed_hosts(plan)
    for name in tasks:
        data = dict(plan.data.get(name, {}), **dict(extra.get(name, {})))
        done = [s for h, s in applied if h == name]
        if failure is not None and failure[0] == name:
            ctx.failed(name, failure[1], changes=done, data=data, records=records.get(name, ()))
        elif name in verdicts:
            ctx.failed(name, verdicts[name], changes=done, data=data, records=records.get(name, ()))
        elif failure is not None and len(done) < len(by_host[name]):
            ctx.finish(name, Outcome.FAILED if done else Outcome.SKIPPED,
                       f"stopped: {failure[0]} failed before this host's turn ({len(by_host[name]) - len(done)} "
                       "change(s) not applied)", changes=done, data=data, records=records.get(name, ()))
        elif done:
            ctx.changed(name, done, records.get(name, ()), data)
        else:
            ctx.nothing_to_do(tasks[name], plan.messages.get(name, "nothing to do"), data)


def _prepare_all(ctx: StepContext) -> dict[str, Prepared]:
    """Every host that takes part: not unreachable earlier, ``when`` true, params that fit."""
    prepared: dict[str, Prepared] = {}
    for host in ctx.hosts:
        ctx.begin(host)
        if ctx.skip_if_unreachable(host):
            continue
        try:
            found = ctx.prepare(host)
        except RunbookError as exc:
            ctx.failed(host.name, exc)
            continue
        if found is None:
            ctx.finish(host.name, Outcome.SKIPPED, f"condition is false: {ctx.step.when}")
            continue
        prepared[host.name] = found
    return prepared


def _plan(ctx: StepContext, action: RunAction[Any], tasks: dict[str, HostTask],
          params: dict[str, Any]) -> RunPlan[Any] | None:
    """The action's plan; None when planning failed (every host then has its result)."""
    try:
        return action.plan_run(tasks, params)
    except ConnectError as exc:
        ctx.mark_unreachable(exc.host, exc)
        for name in tasks:
            if name == exc.host:
                ctx.failed(name, exc)
            else:
                ctx.finish(name, Outcome.FAILED, f"not done: {exc.host} is unreachable", error=error_json(exc))
    except Exception as exc:  # the step boundary: an action bug fails the step, not the run's record
        ctx.failed_all(list(tasks), exc)
    return None


def _record_plan(ctx: StepContext, plan: RunPlan[Any], by_host: dict[str, list[Change]],
                 tasks: dict[str, HostTask]) -> None:
    """Nothing is applied: planning found a failure, nothing to do, or this is check mode."""
    for name, changes in by_host.items():
        data = plan.data.get(name, {})
        if name in plan.failed:
            ctx.finish(name, Outcome.FAILED, plan.messages.get(name, "failed"), data=data)
        elif ctx.options.check and changes:
            ctx.would(name, changes, data, order=[f"{h}: {c.sentence}" for h, c in plan.changes])
        else:
            ctx.nothing_to_do(tasks[name], plan.messages.get(name, "nothing to do"), data)

