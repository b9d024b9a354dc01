"""What an action is: it reads facts, returns a plan; the engine applies the plan.

An action never decides whether it is in check mode: it plans (reading is always allowed),
and the engine either records the plan (``--check``) or applies it change by change. Dry run
is therefore the same code path as a real run, up to the last step.

Two kinds, one protocol each:

- ``HostAction``: ``plan`` per host (hosts in parallel), ``after`` once a host's changes are
  applied;
- ``RunAction``: ``plan_run`` once over every targeted host, returning a ``RunPlan`` whose
  changes are applied strictly in its order across hosts (a controlled restart), and
  ``after_run`` with that plan (which carries the action's own state) once they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic

from runbook.change import Plan, RunPlan, State
from runbook.errors import RunbookError
from runbook.hostvars import HostVar
from runbook.task import HostTask


class Action:
    """Base of all actions. Subclasses set ``name``, ``Params`` and implement their protocol.

    ``confirm`` says whether applying asks the operator first (unless ``--yes``); a
    playbook step may override it. ``host_vars`` are the host vars it reads (each declared
    where it is documented, ``runbook.hostvars``): ``runbook check`` reads them for every
    targeted host before any host is contacted.
    """

    name: ClassVar[str]
    Params: ClassVar[type]
    confirm: ClassVar[bool] = False
    host_vars: ClassVar[tuple[HostVar[Any], ...]] = ()
    #: False for actions that work without the host's SSH connection (probes from here,
    #: journals): the engine plans them even for hosts an earlier step found unreachable.
    needs_connection: ClassVar[bool] = True

    @classmethod
    def summary(cls) -> str:
        """The first line of the action's docstring, for ``runbook actions``."""
        return (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""


class HostAction(Action):
    """An action that plans each host on its own (hosts in parallel, bounded by ``--forks``)."""

    def plan(self, task: HostTask, params: Any) -> Plan:
        """What this host has and what would change on it."""
        raise NotImplementedError

    def after(self, task: HostTask, params: Any, plan: Plan, applied: list[str]) -> Mapping[str, Any]:
        """Runs once the host's changes are applied (e.g. to take "after" evidence); what it
        returns is added to the host's result data."""
        return {}


class RunAction(Action, Generic[State]):
    """An action that sees every targeted host at once and orders its changes across them."""

    def plan_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any]) -> RunPlan[State]:
        """One plan for all hosts (``tasks`` and ``params`` by host name)."""
        raise NotImplementedError

    def after_run(self, tasks: Mapping[str, HostTask], params: Mapping[str, Any], plan: RunPlan[State],
                  applied: list[tuple[str, str]], failure: tuple[str, BaseException] | None
                  ) -> Mapping[str, Mapping[str, Any]]:
        """Runs once the plan's changes are applied, or the first failed; returns per-host data
        to add (e.g. what is up and down)."""
        return {}

    def failed_hosts(self, plan: RunPlan[State]) -> Mapping[str, RunbookError]:
        """After ``after_run``: the hosts whose part failed although none of their changes
        raised (a service of theirs that did not come up again), each with why. The step
        fails on those hosts, and only on them."""
        return {}
