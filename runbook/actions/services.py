"""``services.status`` and ``services.restart``: the declared services, read and restarted in order.

The restart's planning and its result are ``runbook.services.restart_plan``; its changes
``runbook.services.restart``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from runbook.actions.base import HostAction, RunAction
from runbook.actions.params import Duration
from runbook.change import Outcome, Plan, RunPlan
from runbook.errors import ActionError, ConfigError, RunbookError
from runbook.services.model import SERVICE_VARS, ServiceSpec, host_services, key_host
from runbook.services.restart import RestartSettings
from runbook.services.restart_plan import RESTART_LOOP, Restart, RestartRequest, plan_restart, restart_result
from runbook.services.status import ServiceStatus, read_status, with_probes
from runbook.task import HostTask


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
    host_vars = SERVICE_VARS

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
                    message=message[:400], verdict=params.fail_on_unhealthy and bool(bad))


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

    First each service's ``config_check`` runs on its host (in check mode too); one that
    fails refuses the restart with the checker's output before anything is stopped. Stops
    dependants first and starts dependencies first; restarting one service restarts what
    depends on it around it. After each start the service's status and probes must be
    healthy within its ``start_timeout`` (or ``gate_timeout``), retried every ``gate_interval``.
    A failed start or gate is told with the service's own words (its ``log``, its journal,
    its start command's output); what depends on it is not started, what this run stopped
    and does not depend on it is started again (``on_gate_failure: stop``, the default;
    ``continue`` also starts what was down before); the step fails naming what is up and down.
    A service started ``restart_loop.max`` times (host var, default 3) within
    ``restart_loop.window`` (default 1h) by earlier runs is not restarted again unless
    ``force: true``.

    Params: ``services``, ``on_gate_failure``, ``gate_timeout``, ``gate_interval``, ``force``,
    ``only_unhealthy`` (restart only what is down or fails a probe now; default false).
    """

    name = "services.restart"
    Params = RestartParams
    host_vars = SERVICE_VARS + (RESTART_LOOP,)
    confirm = True

    def plan_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, RestartParams]) -> RunPlan[Restart]:
        first = params[next(iter(tasks))]   # the step's params; only ``services`` may differ per host
        return plan_restart(tasks, RestartRequest(
            services={name: tuple(p.services) for name, p in params.items()}, on_gate_failure=first.on_gate_failure,
            settings=RestartSettings(first.gate_timeout, first.gate_interval), force=first.force,
            only_unhealthy=first.only_unhealthy))

    def after_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any], plan: RunPlan[Restart],
                  applied: list[tuple[str, str]], failure: tuple[str, BaseException] | None
                  ) -> Mapping[str, Mapping[str, Any]]:
        if plan.state is None:
            return {}
        result = restart_result(tasks, plan.state)
        # each host's services as they are now, in the form services.status gives, so the
        # report says what is down after the restart on a host where the step failed
        return {name: dict(result, services=[s for s in result["after"].values()
                                             if "state" in s and "healthy" in s
                                             and key_host(str(s["service"])) == name])
                for name in tasks}

    def failed_hosts(self, plan: RunPlan[Restart]) -> Mapping[str, RunbookError]:
        if plan.state is None:
            return {}
        return {host: ActionError(why) for host, why in plan.state.record.host_failures().items()}
