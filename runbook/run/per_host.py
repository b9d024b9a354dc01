"""The per-host strategy: every host plans on its own, in parallel (bounded by ``--forks``); the
step asks once for all of them; then every host applies its own changes, in parallel.

One host failing or unreachable never hides the others' results. Check mode records each
plan as "would: ..." and applies nothing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from runbook.actions.base import HostAction
from runbook.change import Outcome, Plan
from runbook.errors import ConnectError, Interrupted
from runbook.inventory.model import Host
from runbook.run.step import StepContext, apply_change, error_json
from runbook.task import HostTask


@dataclass(frozen=True)
class _Planned:
    """A host whose plan has changes to apply once the step is confirmed."""

    task: HostTask
    params: Any
    plan: Plan


def run_per_host(ctx: StepContext) -> None:
    """Plan every host, ask once, apply every host's changes; each host gets its result."""
    action = ctx.action()
    if not isinstance(action, HostAction):
        raise TypeError(f"{ctx.step.action} is not a per-host action")
    planned: dict[str, _Planned] = {}
    lock = threading.Lock()

    def plan_one(host: Host) -> None:
        ctx.begin(host)
        found = _plan(ctx, action, host)
        if found is not None:
            with lock:
                planned[host.name] = found

    ctx.in_parallel(plan_one, ctx.hosts)
    if not planned:
        return
    if not ctx.confirm([(name, change) for name, p in planned.items() for change in p.plan.changes]):
        for name, p in planned.items():
            ctx.not_confirmed(name, p.plan.data, p.plan.changes)
        return

    def apply_one(name: str) -> None:
        _apply(ctx, action, name, planned[name])

    ctx.in_parallel(apply_one, list(planned))


def _plan(ctx: StepContext, action: HostAction, host: Host) -> _Planned | None:
    """The host's plan; None once the host has its result (nothing to apply)."""
    if ctx.stopped:
        return None  # results() says "not started"
    if ctx.skip_if_unreachable(host):
        return None
    try:
        prepared = ctx.prepare(host)
        if prepared is None:
            ctx.finish(host.name, Outcome.SKIPPED, f"condition is false: {ctx.step.when}")
            return None
        plan = action.plan(prepared.task, prepared.params)
    except ConnectError as exc:
        ctx.mark_unreachable(host.name, exc)
        ctx.failed(host.name, exc)
        return None
    except Exception as exc:  # the per-host boundary: one host's surprise must not hide the others
        ctx.failed(host.name, exc)
        return None
    ctx.register(host.name, plan.data)
    if plan.error is not None:
        ctx.mark_unreachable(host.name, plan.error)
        ctx.finish(host.name, Outcome.UNREACHABLE, str(plan.error), data=plan.data, error=error_json(plan.error))
        return None
    if plan.outcome is not Outcome.CHANGED:
        ctx.judged(prepared.task, plan)
        return None
    if ctx.options.check:
        ctx.would(host.name, plan.changes, plan.data)
        return None
    return _Planned(prepared.task, prepared.params, plan)


def _apply(ctx: StepContext, action: HostAction, name: str, planned: _Planned) -> None:
    """Apply the host's changes in order, stopping at the first that fails."""
    applied: list[str] = []
    records: list[Any] = []
    try:
        for change in planned.plan.changes:
            if ctx.stopped:
                raise Interrupted(f"{name}: interrupted before: {change.sentence}")
            sentence, record = apply_change(planned.task, change)
            applied.append(sentence)
            records.append(record)
        data = dict(planned.plan.data, **dict(action.after(planned.task, planned.params, planned.plan, applied)))
    except Exception as exc:  # the per-host boundary, as in planning
        ctx.failed(name, exc, changes=applied, data=planned.plan.data, records=records)
        return
    ctx.register(name, data)
    ctx.changed(name, applied, records, data)
