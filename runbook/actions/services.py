"""``services.status`` and ``services.restart``: the declared services, read and restarted in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from runbook.actions.base import HostAction, RunAction
from runbook.actions.params import Duration
from runbook.change import Outcome, Plan, RunPlan
from runbook.errors import ConfigError, ConnectError, RunbookError
from runbook.services.graph import ServiceGraph
from runbook.services.history import earlier_starts
from runbook.services.model import ServiceSpec, host_services
from runbook.services.restart import RestartSettings, RestartState, build_changes
from runbook.services.status import ServiceStatus, read_status, with_probes
from runbook.task import HostTask
from runbook.units import parse_duration

DEFAULT_LOOP = {"max": 3, "window": "1h"}


@dataclass(frozen=True)
class Restart:
    """What ``after_run`` needs of its plan: the restart's shared record and the service graph."""

    record: RestartState
    graph: ServiceGraph


@dataclass(frozen=True)
class StatusParams:
    """services: names to report (default: every declared service); probes: run the probes too."""

    services: list[str] = ()  # type: ignore[assignment]
    probes: bool = True
    fail_on_unhealthy: bool = False


class ServicesStatusAction(HostAction):
    """Report each declared service: state, main pid, since when, and its probe results.

    Params: ``services`` (names; default all of the host's ``services`` var), ``probes``
    (default true), ``fail_on_unhealthy`` (fail the step when one is not running or a probe
    fails; default false).
    """

    name = "services.status"
    Params = StatusParams

    def plan(self, task: HostTask, params: StatusParams) -> Plan:
        specs = _select(host_services(task.host, task.vars), params.services, task.host.name)
        if not specs:
            return Plan(Outcome.SKIPPED, data={"services": []}, message="no services declared")
        statuses = read_status(task.run, specs)
        if params.probes:
            statuses = [with_probes(s, spec, task.run) for s, spec in zip(statuses, specs)]
        bad = [s for s in statuses if not (s.healthy if params.probes else s.state == "running")]
        message = "; ".join(_line(s) for s in statuses)
        return Plan(Outcome.FAILED if params.fail_on_unhealthy and bad else Outcome.OK,
                    data={"services": [s.to_json() for s in statuses], "unhealthy": [s.key for s in bad]},
                    message=message[:400])


def _line(status: ServiceStatus) -> str:
    text = f"{status.name} {status.state}" + (f" (pid {status.main_pid})" if status.main_pid else "")
    bad = [p for p in status.probes if not p.ok]
    return text + (f", {bad[0].target} {bad[0].detail}" if bad else "")


def _select(specs: Mapping[str, ServiceSpec], names: tuple[str, ...] | list[str], host: str) -> list[ServiceSpec]:
    if not names:
        return list(specs.values())
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise ConfigError(f"{host} declares no service {', '.join(map(repr, unknown))} "
                          f"(declared: {', '.join(specs) or 'none'})", field="params.services")
    return [specs[n] for n in names]


@dataclass(frozen=True)
class RestartParams:
    """services: what to restart ("nginx" on each host that declares it, or "db1:postgresql";
    default: every service of the targeted hosts); on_gate_failure: stop | continue;
    gate_timeout: overrides each service's start_timeout; force: ignore restart-loop protection;
    only_unhealthy: restart only those of them that are not running or fail a probe now."""

    services: list[str] = ()  # type: ignore[assignment]
    on_gate_failure: Literal["stop", "continue"] = "stop"
    gate_timeout: Duration | None = None
    gate_interval: Duration = 1.0  # type: ignore[assignment]
    force: bool = False
    only_unhealthy: bool = False


class ServicesRestartAction(RunAction[Restart]):
    """Restart services in dependency order across hosts, with a health gate after each start.

    Stops dependants first and starts dependencies first; restarting one service restarts
    what depends on it around it. After each start the service's status and probes must be
    healthy within its ``start_timeout`` (or ``gate_timeout``), retried every ``gate_interval``.
    A failed gate stops the chain (``on_gate_failure: stop``, the default) or skips only what
    depends on it (``continue``); either way the result names the services up and down.
    A service started ``restart_loop.max`` times (host var, default 3) within
    ``restart_loop.window`` (default 1h) by earlier runs is not restarted again unless
    ``force: true``.

    Params: ``services``, ``on_gate_failure``, ``gate_timeout``, ``gate_interval``, ``force``,
    ``only_unhealthy`` (restart only what is down or fails a probe now; default false).
    """

    name = "services.restart"
    Params = RestartParams
    confirm = True

    def plan_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, RestartParams]) -> RunPlan[Restart]:
        first = next(iter(tasks.values()))
        settings = params[first.host.name]
        graph = ServiceGraph.from_inventory(first.inventory, [t.host for t in tasks.values()],
                                            vars_of={n: t.vars for n, t in tasks.items()})
        requested = _requested(graph, tasks, params)
        if requested and settings.only_unhealthy:
            now = _statuses(graph, tasks, requested)
            requested = [k for k in requested if not with_probes(now[k], graph.services[k],
                                                                 tasks[graph.services[k].host].run).healthy]
            if not requested:
                return RunPlan(messages={n: "every service is healthy: nothing to restart" for n in tasks})
        if not requested:
            return RunPlan(messages={n: "no services declared" for n in tasks})
        order = graph.restart_order(requested, set(tasks))
        involved = list(order.start)
        # Dependencies outside the restart that are down now are started first (no stop needed).
        outside = {d for k in involved for d in graph.dependencies(k)} - set(involved)
        statuses = _statuses(graph, tasks, sorted(outside | set(involved)))
        extra = [d for d in graph.order(outside) if graph.services[d].host in tasks
                 and statuses.get(d) is not None and statuses[d].state != "running"]
        starts = graph.order(set(involved) | set(extra))
        state = RestartState({k: "up" if statuses.get(k) and statuses[k].state == "running" else "down"
                              for k in starts}, policy=settings.on_gate_failure)
        for key in starts:
            state.pids_before[key] = statuses[key].main_pid if key in statuses else None
        data = {"order": {"stop": list(order.stop), "start": starts}, "requested": list(order.requested),
                "started_because_down": extra, "not_in_run": list(order.elsewhere),
                "before": {k: statuses[k].to_json() for k in starts if k in statuses}}
        blocked = {} if settings.force else _loop_blocked(graph, tasks, starts)
        if blocked:
            message = "restart-loop protection: " + "; ".join(blocked.values()) + \
                      "; not restarted again without force: true"
            return RunPlan(data={n: dict(data, restart_loop=blocked) for n in tasks},
                           messages={n: message for n in tasks}, failed=frozenset(tasks))
        changes = build_changes([graph.services[k] for k in order.stop], [graph.services[k] for k in starts],
                                state, RestartSettings(settings.gate_timeout, settings.gate_interval),
                                {k: statuses[k].state != "stopped" for k in statuses})
        return RunPlan(changes=tuple(changes), data={n: data for n in tasks},
                       messages={n: "nothing to do" for n in tasks}, state=Restart(state, graph))

    def after_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any], plan: RunPlan[Restart],
                  applied: list[tuple[str, str]], failure: tuple[str, BaseException] | None
                  ) -> Mapping[str, Mapping[str, Any]]:
        if plan.state is None:
            return {}
        state, graph = plan.state.record, plan.state.graph
        # The truth after the restart is what the hosts say now, not what we meant to do.
        final: dict[str, dict[str, Any]] = {}
        for key in state.states:
            spec = graph.services[key]
            try:
                status = with_probes(read_status(tasks[spec.host].run, [spec])[0], spec, tasks[spec.host].run)
                final[key] = status.to_json()
                state.states[key] = "up" if status.healthy else "down"
            except (ConnectError, RunbookError) as exc:
                final[key] = {"service": key, "state": "unknown", "error": str(exc).splitlines()[0]}
        result = {"up": state.up(), "down": state.down(), "not_started": dict(state.skipped),
                  "gate_failed": dict(state.failed), "after": final,
                  "pids": {k: {"before": state.pids_before.get(k), "after": final.get(k, {}).get("main_pid")}
                           for k in state.states}}
        return {name: result for name in tasks}


def _requested(graph: ServiceGraph, tasks: Mapping[str, HostTask], params: Mapping[str, RestartParams]) -> list[str]:
    keys: list[str] = []
    for name in tasks:
        names = params[name].services
        if not names:
            keys += [k for k, s in graph.services.items() if s.host == name]
            continue
        for item in names:
            if ":" in item:
                key = graph.resolve(item, name)
                if graph.services[key].host not in tasks:
                    raise ConfigError(f"{key} is on a host outside this run (targets/--limit)", field="params.services")
                keys.append(key)
            elif f"{name}:{item}" in graph.services:
                keys.append(f"{name}:{item}")
    for item in {i for p in params.values() for i in p.services if ":" not in i}:
        if not any(k.endswith(f":{item}") for k in keys):
            raise ConfigError(f"no targeted host declares a service {item!r}", field="params.services")
    return list(dict.fromkeys(keys))


def _statuses(graph: ServiceGraph, tasks: Mapping[str, HostTask], keys: list[str]) -> dict[str, ServiceStatus]:
    found: dict[str, ServiceStatus] = {}
    for host in dict.fromkeys(graph.services[k].host for k in keys):
        if host not in tasks:
            continue
        specs = [graph.services[k] for k in keys if graph.services[k].host == host]
        for status in read_status(tasks[host].run, specs):
            found[status.key] = status
    return found


def _loop_blocked(graph: ServiceGraph, tasks: Mapping[str, HostTask], keys: list[str]) -> dict[str, str]:
    blocked: dict[str, str] = {}
    for key in keys:
        task = tasks[graph.services[key].host]
        limit, window = _loop_policy(task)
        now: datetime = task.clock()
        earlier = earlier_starts(task.journal.run_dir.parent, key, now=now, window=window)
        if len(earlier) >= limit:
            times = ", ".join(t.strftime("%H:%M:%S") for t in earlier[-limit:])
            blocked[key] = f"{key} was started {len(earlier)} times in the last {_span(window)} ({times} UTC)"
    return blocked


def _loop_policy(task: HostTask) -> tuple[int, float]:
    raw = task.vars.get("restart_loop") or DEFAULT_LOOP
    if not isinstance(raw, Mapping):
        raise ConfigError("must be a mapping like {max: 3, window: 1h}", file=task.host.file, line=task.host.line,
                          field="vars.restart_loop")
    limit = raw.get("max", DEFAULT_LOOP["max"])
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigError("must be a whole number >= 1", file=getattr(raw, "file", task.host.file),
                          line=getattr(raw, "line_of", lambda k: task.host.line)("max"), field="vars.restart_loop.max")
    try:
        window = parse_duration(raw.get("window", DEFAULT_LOOP["window"]))
    except ValueError as exc:
        raise ConfigError(str(exc), file=getattr(raw, "file", task.host.file),
                          line=getattr(raw, "line_of", lambda k: task.host.line)("window"),
                          field="vars.restart_loop.window") from None
    return limit, window


def _span(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds / 60:g}m"
