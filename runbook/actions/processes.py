"""``processes.hung`` and ``processes.kill``: find hung processes by the host's rules, end them safely.

The rules, the look at the process table and the ending itself are ``runbook.processes``:
here are the typed params and the plans. Ending a process is guarded three ways (see
``runbook.processes.survey`` and ``runbook.processes.ending``): never pid 1, kernel threads,
sshd, runbook's own session or ``protected_processes``; the pid's start time and command line
re-checked before every signal; TERM first, a grace period, KILL only if it is still the same
process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runbook.actions.base import HostAction
from runbook.actions.params import Duration
from runbook.change import Change, Outcome, Plan
from runbook.errors import ConfigError
from runbook.processes.ending import ended_message, ender
from runbook.processes.identity import identity_script, parse_identities
from runbook.processes.hung import HUNG_RULES
from runbook.processes.survey import PROTECTED_PROCESSES, find_hung, survey
from runbook.services.model import SERVICE_VARS
from runbook.task import HostTask


@dataclass(frozen=True)
class HungParams:
    """max_sample: longest time to watch CPU and D states; fail_on_found: fail the step if any."""

    max_sample: Duration = 30.0  # type: ignore[assignment]
    fail_on_found: bool = False


class ProcessesHungAction(HostAction):
    """Find hung processes by the host's ``hung_rules``, each with the reason a human reads.

    Rules: a command pattern older than ``max_age``; state T (stopped); zombies (with their
    parent); state D longer than ``longer_than`` (with what would help); CPU above
    ``cpu_above`` % over ``window``; a service alive whose probe times out. Reads only.

    Params: ``max_sample`` (default 30s), ``fail_on_found`` (default false).
    """

    name = "processes.hung"
    Params = HungParams
    host_vars = (HUNG_RULES, PROTECTED_PROCESSES) + SERVICE_VARS

    def plan(self, task: HostTask, params: HungParams) -> Plan:
        look = survey(task)
        hung, window = find_hung(task, look.processes, params.max_sample)
        hung = [h for h in hung if h.pid != look.own_pid]
        data = {"hung": [dict(h.to_json(), protected=look.protected.get(h.pid)) for h in hung],
                "sampled_seconds": window}
        if not hung:
            return Plan(Outcome.OK, data=data, message="no hung processes")
        message = f"{len(hung)} hung: " + "; ".join(f"pid {h.pid} {h.command[:40]} ({h.reason[:80]})" for h in hung)
        return Plan(Outcome.FAILED if params.fail_on_found else Outcome.OK, data=data, message=message[:500],
                    verdict=params.fail_on_found)


@dataclass(frozen=True)
class KillParams:
    """Exactly one of pids / pattern / hung; grace: seconds between TERM and KILL."""

    pids: list[int] = ()  # type: ignore[assignment]
    pattern: str | None = None
    user: str | None = None
    hung: bool = False
    grace: Duration = 10.0  # type: ignore[assignment]
    max_processes: int = 20
    max_sample: Duration = 30.0  # type: ignore[assignment]


class ProcessesKillAction(HostAction):
    """End processes: TERM, a grace period, then KILL, re-checking the pid's identity before every signal.

    Selects by ``pids``, by ``pattern`` (regex on the command line, narrowed by ``user``) or by
    ``hung: true`` (what the host's hung rules mark ``action: kill``). Refuses pid 1, sshd,
    kernel threads, runbook's own session and ``protected_processes``; naming a protected pid
    in ``pids`` fails the step without ending anything.

    Params: ``pids``, ``pattern``, ``user``, ``hung``, ``grace`` (default 10s),
    ``max_processes`` (refuse a pattern matching more; default 20), ``max_sample``.
    """

    name = "processes.kill"
    Params = KillParams
    host_vars = (HUNG_RULES, PROTECTED_PROCESSES) + SERVICE_VARS
    confirm = True

    def plan(self, task: HostTask, params: KillParams) -> Plan:
        chosen = sum([bool(params.pids), params.pattern is not None, params.hung])
        if chosen != 1:
            raise ConfigError("give exactly one of pids, pattern, hung", field="params")
        look = survey(task)
        by_pid = {p.pid: p for p in look.processes}
        reasons: dict[int, str] = {}
        if params.hung:
            found, _ = find_hung(task, look.processes, params.max_sample)
            reasons = {h.pid: h.reason for h in found if h.action == "kill"}
        elif params.pattern is not None:
            try:
                regex = re.compile(params.pattern)
            except re.error as exc:
                raise ConfigError(f"not a regular expression: {exc}", field="params.pattern") from None
            reasons = {p.pid: f"matches {params.pattern!r}" for p in look.processes
                       if regex.search(p.command) and (params.user is None or p.user == params.user)}
        else:
            reasons = {pid: "named in pids" for pid in params.pids}
        refused = {pid: look.protected[pid] for pid in reasons if pid in look.protected}
        missing = [pid for pid in reasons if pid not in by_pid]
        targets = [pid for pid in reasons if pid not in refused and pid not in missing]
        data: dict[str, Any] = {"refused": [{"pid": p, "command": by_pid[p].command if p in by_pid else None,
                                             "why": why} for p, why in refused.items()],
                                "not_found": missing}
        if params.pids and refused:
            return Plan(Outcome.FAILED, data=data, message="refused, nothing was ended: " + "; ".join(
                f"pid {p} is {why}" for p, why in refused.items()))
        if len(targets) > params.max_processes:
            return Plan(Outcome.FAILED, data=data, message=f"{len(targets)} processes match, more than max_processes="
                        f"{params.max_processes}: nothing was ended (narrow the pattern)")
        ids, _, _ = parse_identities(task.run(identity_script(targets)).stdout) if targets else ({}, None, None)
        changes = []
        data["targets"] = []
        for pid in targets:
            if pid not in ids:
                continue  # ended between the two looks
            proc, identity = by_pid[pid], ids[pid]
            target = {"pid": pid, "command": proc.command, "user": proc.user, "identity": identity.to_json()}
            data["targets"].append(target)
            changes.append(Change(
                sentence=f"end pid {pid} ({proc.command[:60]}): {reasons[pid][:160]}",
                apply=ender(identity, proc.command, params.grace),
                details=target, message=ended_message(proc, hung=params.hung)))
        if not changes:
            note = f"; refused: {', '.join(map(str, refused))}" if refused else ""
            return Plan(Outcome.OK, data=data, message="nothing to end" + note)
        return Plan(Outcome.CHANGED, changes=tuple(changes), data=data)
