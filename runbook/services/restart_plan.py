"""Planning a controlled restart across hosts: which services, in which order, which stopped
dependencies come up first, and restart-loop protection.

Before anything is stopped, every service the restart would stop or start has its
configuration checked on its host (``runbook.services.config_check``), in check mode too; one
failed check refuses the whole restart, so nothing is stopped anywhere.

A service started ``restart_loop.max`` times (host var, default 3) within
``restart_loop.window`` (default 1h) by earlier runs is not restarted again unless forced.
The changes themselves (stop, start, health gate) are ``runbook.services.restart``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runbook.change import RunPlan
from runbook.errors import ConfigError, ConnectError, RunbookError
from runbook.hostvars import HostVar, HostVars, Located
from runbook.services.config_check import ConfigCheck, check_configs
from runbook.services.graph import ServiceGraph
from runbook.services.history import earlier_starts
from runbook.services.restart import RestartSettings, RestartState, build_changes
from runbook.services.status import ServiceStatus, read_status, with_probes
from runbook.task import HostTask
from runbook.units import parse_duration

DEFAULT_LOOP = {"max": 3, "window": "1h"}


@dataclass(frozen=True)
class RestartLoop:
    """Restart-loop protection (host var ``restart_loop``): a service started ``max`` times
    within ``window`` seconds by earlier runs is not restarted again without ``force``."""

    max: int
    window: float


def _restart_loop(at: Located, vars: HostVars) -> RestartLoop:
    at.mapping("a mapping like {max: 3, window: 1h}")
    at.keys_among(DEFAULT_LOOP)
    limit, window = at.member("max"), at.member("window")
    return RestartLoop(limit.count(1) if limit.value is not None else int(DEFAULT_LOOP["max"]),
                       window.duration() if window.value is not None else parse_duration(DEFAULT_LOOP["window"]))


RESTART_LOOP: HostVar[RestartLoop] = HostVar("restart_loop", "{max: 3, window: 1h}", DEFAULT_LOOP, __name__,
                                             _restart_loop)


@dataclass(frozen=True)
class RestartRequest:
    """What a step asks to restart: per host the services it names (empty: all of the host's;
    "db1:postgresql" names one elsewhere), what a failed gate does (stop | continue), gate
    timing, ``force`` past restart-loop protection, only what is unhealthy now."""

    services: Mapping[str, Sequence[str]]
    on_gate_failure: str = "stop"
    settings: RestartSettings = field(default_factory=RestartSettings)
    force: bool = False
    only_unhealthy: bool = False


@dataclass(frozen=True)
class Restart:
    """A planned restart as ``restart_result`` needs it: the shared record and the service graph."""

    record: RestartState
    graph: ServiceGraph


def plan_restart(tasks: Mapping[str, HostTask], request: RestartRequest) -> RunPlan[Restart]:
    """The ordered stop/start/gate changes of a restart of ``request.services`` over ``tasks``
    (by host name), and what was found; a plan that fails every host when restart-loop
    protection holds."""
    first = next(iter(tasks.values()))
    graph = ServiceGraph.from_inventory(first.inventory, [t.host for t in tasks.values()],
                                        vars_of={n: t.vars for n, t in tasks.items()})
    requested = _requested(graph, tasks, request.services)
    if requested and request.only_unhealthy:
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
                          for k in starts}, policy=request.on_gate_failure)
    for key in starts:
        state.pids_before[key] = statuses[key].main_pid if key in statuses else None
    data = {"order": {"stop": list(order.stop), "start": starts}, "requested": list(order.requested),
            "started_because_down": extra, "not_in_run": list(order.elsewhere),
            "before": {k: statuses[k].to_json() for k in starts if k in statuses}}
    blocked = {} if request.force else _loop_blocked(graph, tasks, starts)
    if blocked:
        message = "restart-loop protection: " + "; ".join(blocked.values()) + \
                  "; not restarted again without force: true"
        return RunPlan(data={n: dict(data, restart_loop=blocked) for n in tasks},
                       messages={n: message for n in tasks}, failed=frozenset(tasks))
    checks = check_configs(tasks, [graph.services[k] for k in starts if graph.services[k].host in tasks])
    data["config_checks"] = [c.to_json() for c in checks.values()]
    refused = [c for c in checks.values() if not c.ok]
    if refused:
        # a host with no service in the restart had nothing refused: its step is not failed
        involved_hosts = frozenset(graph.services[k].host for k in starts)
        return RunPlan(data={n: data for n in tasks}, messages=_refusal(tasks, graph, refused),
                       failed=involved_hosts & frozenset(tasks))
    changes = build_changes([graph.services[k] for k in order.stop], [graph.services[k] for k in starts],
                            state, request.settings,
                            {k: statuses[k].state != "stopped" for k in statuses},
                            checked={k: c.command for k, c in checks.items()})
    return RunPlan(changes=tuple(changes), data={n: data for n in tasks},
                   messages={n: "nothing to do" for n in tasks}, state=Restart(state, graph))


def _refusal(tasks: Mapping[str, HostTask], graph: ServiceGraph, refused: list[ConfigCheck]) -> dict[str, str]:
    """Each host's message for a restart refused by failed configuration checks: its own
    checker's words where its check failed, else which checks held the restart back."""
    messages: dict[str, str] = {}
    others = ", ".join(c.key for c in refused)
    for name in tasks:
        own = [c.describe() for c in refused if graph.services[c.key].host == name]
        declared = any(spec.host == name for spec in graph.services.values())
        lead = "; ".join(own) if own else \
            f"{'not restarted' if declared else 'no services declared'}: the configuration check of {others} failed"
        messages[name] = f"{lead}; restart refused, nothing was stopped"
    return messages


def restart_result(tasks: Mapping[str, HostTask], restart: Restart) -> dict[str, Any]:
    """What is up and down after a restart, as the hosts say now (not what was meant to
    happen), with each service's main pid before and after."""
    state, graph = restart.record, restart.graph
    # The truth after the restart is what the hosts say now, not what we meant to do.
    final: dict[str, dict[str, Any]] = {}
    for key in state.states:
        spec = graph.services[key]
        try:
            status = with_probes(read_status(tasks[spec.host].run, [spec])[0], spec, tasks[spec.host].run)
            final[key] = status.to_json()
            state.states[key] = "up" if status.healthy else "down"
        except (ConnectError, RunbookError) as exc:
            final[key] = {"service": key, "state": "unknown", "error": exc.one_line()}
    result = {"up": state.up(), "down": state.down(), "not_started": dict(state.skipped),
              "gate_failed": dict(state.failed), "stop_failed": dict(state.stop_failed), "after": final,
              "pids": {k: {"before": state.pids_before.get(k), "after": final.get(k, {}).get("main_pid")}
                       for k in state.states}}
    return result


def _requested(graph: ServiceGraph, tasks: Mapping[str, HostTask],
               services: Mapping[str, Sequence[str]]) -> list[str]:
    keys: list[str] = []
    for name in tasks:
        names = services[name]
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
    for item in {i for names in services.values() for i in names if ":" not in i}:
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
    loop = task.vars.read(RESTART_LOOP)
    return loop.max, loop.window


def _span(seconds: float) -> str:
    return f"{seconds / 3600:g}h" if seconds >= 3600 else f"{seconds / 60:g}m"
