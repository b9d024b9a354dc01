"""``processes.hung`` and ``processes.kill``: find hung processes by the host's rules, end them safely.

Ending a process is guarded three ways:

- never: pid 1, kernel threads, sshd (our way in), the processes of runbook's own session on
  the host (the command doing the looking, its ancestors -- on the same machine that includes
  runbook itself), and anything matching the host var ``protected_processes`` (regexes);
- before every signal the pid must still have the start time and command line it had when it
  was found (``runbook.services.proc``), so a reused pid is never hit;
- TERM first, a grace period, KILL only if it is still the same process; a stopped process
  gets CONT after TERM so it can act on it. Each signal and its result goes to the journal.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil  # type: ignore[import-untyped]

from runbook.actions.base import HostAction
from runbook.actions.params import Duration
from runbook.change import INTERNAL, Applied, Change, Message, Outcome, Plan
from runbook.errors import ActionError, ConfigError
from runbook.facts import FactError
from runbook.facts.gather import gather_command, new_nonce, parse_gathered
from runbook.facts.processes import ProcessInfo
from runbook.services.status import read_status, with_probes
from runbook.services.hung import HungProcess, detect, parse_rules
from runbook.services.model import host_services
from runbook.task import HostTask
from runbook.services.proc import (
    ProcessIdentity,
    Sample,
    identity_script,
    parse_identities,
    parse_sample,
    sample_script,
    signal_script,
    wait_gone_script,
)

KILL_WAIT = 5.0


@dataclass(frozen=True)
class Survey:
    """One look at a host's processes: the table, what is protected (pid -> why), who we are."""

    processes: tuple[ProcessInfo, ...]
    protected: dict[int, str]
    own_pid: int | None


def survey(task: HostTask) -> Survey:
    """The process table plus the protection list, in one command on the host."""
    nonce = new_nonce()
    result = task.run("echo \"@self $$\"; echo \"@boot $(cat /proc/sys/kernel/random/boot_id 2>/dev/null)\"; "
                      + gather_command(["processes"], nonce))
    procs = parse_gathered(result.stdout, ["processes"], nonce, stderr=result.stderr)["processes"]
    if isinstance(procs, FactError):
        raise ActionError(f"{task.host.name}: cannot read the process table: {procs.reason}")
    own = re.search(r"^@self (\d+)$", result.stdout, re.MULTILINE)
    boot = re.search(r"^@boot (\S+)$", result.stdout, re.MULTILINE)
    own_pid = int(own.group(1)) if own else None
    return Survey(tuple(procs), _protected(task, procs, own_pid, boot.group(1) if boot else None), own_pid)


def _protected(task: HostTask, procs: list[ProcessInfo], own_pid: int | None, boot: str | None) -> dict[int, str]:
    by_pid = {p.pid: p for p in procs}
    found: dict[int, str] = {1: "pid 1 (init)"}
    for p in procs:
        if p.pid == 2 or p.ppid == 2:
            found[p.pid] = "a kernel thread"
        elif p.name == "sshd" or p.command.startswith("sshd:") or (p.args and os.path.basename(p.args[0]) == "sshd"):
            found[p.pid] = "sshd, the way in to this host"
    if own_pid is not None:
        pid: int | None = own_pid
        while pid and pid in by_pid and pid not in (0, 1):
            found.setdefault(pid, "runbook's own session on this host")
            pid = by_pid[pid].ppid
        children = [own_pid]
        while children:
            kids = [p.pid for p in procs if p.ppid in children]
            for kid in kids:
                found.setdefault(kid, "runbook's own session on this host")
            children = kids
    if boot and boot == _local_boot_id():
        # The host is this very machine (the lab, or a local connection): protect runbook itself.
        me: psutil.Process | None = psutil.Process()
        while me is not None and me.pid > 1:
            found.setdefault(me.pid, "the runbook process itself (or its parents)")
            me = me.parent()
    for pattern, where in _patterns(task):
        for p in procs:
            if p.pid not in found and re.search(pattern, p.command):
                found[p.pid] = f"matches protected_processes {pattern!r} ({where})"
    return found


def _local_boot_id() -> str | None:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return None


def _patterns(task: HostTask) -> list[tuple[str, str]]:
    raw = task.vars.get("protected_processes") or []
    if isinstance(raw, str):
        raw = [raw]
    where = f"{task.host.file}:{task.host.line}"
    if not isinstance(raw, list):
        raise ConfigError("must be a list of regular expressions", file=task.host.file, line=task.host.line,
                          field="vars.protected_processes")
    for i, item in enumerate(raw):
        try:
            re.compile(str(item))
        except re.error as exc:
            raise ConfigError(f"not a regular expression: {exc}", file=task.host.file, line=task.host.line,
                              field=f"vars.protected_processes[{i}]") from None
    return [(str(item), where) for item in raw]


def find_hung(task: HostTask, procs: tuple[ProcessInfo, ...], max_sample: float) -> tuple[list[HungProcess], float]:
    """Apply the host's ``hung_rules``: sample CPU/states if a rule needs it, probe services."""
    rules = parse_rules(task.host, task.vars.get("hung_rules"))
    window = min(max((r.sample_seconds for r in rules), default=0.0), max_sample)
    sample: Sample | None = None
    if window > 0:
        result = task.run(sample_script(window), timeout=window + 60)
        sample = parse_sample(result.stdout, window)
    statuses = {}
    wanted = {r.service for r in rules if r.condition == "service"}
    if wanted:
        specs = host_services(task.host, task.vars)
        missing = sorted(str(w) for w in wanted if w not in specs)
        if missing:
            raise ConfigError(f"hung_rules name service(s) {', '.join(missing)} that vars.services does not declare",
                              file=task.host.file, line=task.host.line, field="vars.hung_rules")
        chosen = [specs[str(w)] for w in wanted]
        for status, spec in zip(read_status(task.run, chosen), chosen):
            statuses[spec.name] = with_probes(status, spec, task.run)
    return detect(procs, rules, sample=sample, window=window, services=statuses), window


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

    def plan(self, task: HostTask, params: HungParams) -> Plan:
        look = survey(task)
        hung, window = find_hung(task, look.processes, params.max_sample)
        hung = [h for h in hung if h.pid != look.own_pid]
        data = {"hung": [dict(h.to_json(), protected=look.protected.get(h.pid)) for h in hung],
                "sampled_seconds": window}
        if not hung:
            return Plan(Outcome.OK, data=data, message="no hung processes")
        message = f"{len(hung)} hung: " + "; ".join(f"pid {h.pid} {h.command[:40]} ({h.reason[:80]})" for h in hung)
        return Plan(Outcome.FAILED if params.fail_on_found else Outcome.OK, data=data, message=message[:500])


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
                apply=_ender(identity, proc.command, params.grace),
                details=target, message=ended_message(proc, hung=params.hung)))
        if not changes:
            note = f"; refused: {', '.join(map(str, refused))}" if refused else ""
            return Plan(Outcome.OK, data=data, message="nothing to end" + note)
        return Plan(Outcome.CHANGED, changes=tuple(changes), data=data)


def ended_message(proc: ProcessInfo, *, hung: bool) -> Message:
    """The report's message for ending ``proc``: "the hung process" only when the host's hung
    rules chose it."""
    # the pid as text: an identifier reads "PID 4242", never the number "4.242"
    return Message("process_killed" if hung else "process_ended", {"name": proc.name, "pid": str(proc.pid)})


def _ender(identity: ProcessIdentity, command: str, grace: float) -> Callable[[HostTask], str | Applied]:
    return lambda task: _end(task, identity, command, grace)


def _end(task: HostTask, identity: ProcessIdentity, command: str, grace: float) -> str | Applied:
    began = time.monotonic()
    first = _signal(task, identity, command, "TERM")
    if first != "sent":
        # Gone or someone else's pid by now: we ended nothing, the customer's report says nothing.
        return Applied(_not_sent(first), message_id=INTERNAL)
    if identity.state == "T":
        _signal(task, identity, command, "CONT")   # a stopped process handles TERM only once continued
    after = task.run(wait_gone_script(identity, grace), timeout=grace + 30).stdout.split()
    if after and after[0] != "alive":
        _note(task, identity, command, "TERM", f"ended after {time.monotonic() - began:.1f}s")
        return f"ended by TERM after {time.monotonic() - began:.1f}s"
    second = _signal(task, identity, command, "KILL")
    if second != "sent":
        return _not_sent(second)
    final = task.run(wait_gone_script(identity, KILL_WAIT), timeout=KILL_WAIT + 30).stdout.split()
    if final and final[0] == "alive":
        state = final[1] if len(final) > 1 else "?"
        _note(task, identity, command, "KILL", f"still alive in state {state}")
        raise ActionError(f"pid {identity.pid} survived KILL (state {state}"
                          + ("; uninterruptible I/O: only the I/O completing or a reboot ends it)" if state == "D" else ")"))
    _note(task, identity, command, "KILL", f"ended after {time.monotonic() - began:.1f}s")
    return f"did not end within {grace:g}s of TERM; ended by KILL"


def _signal(task: HostTask, identity: ProcessIdentity, command: str, signal: str) -> str:
    words = task.run(signal_script(identity, signal)).stdout.split()
    result = words[-1] if words else "gone"
    _note(task, identity, command, signal, result)
    return result


def _note(task: HostTask, identity: ProcessIdentity, command: str, signal: str, result: str) -> None:
    task.journal.write("signal", step=task.step, host=task.host.name, pid=identity.pid, command=command,
                       signal=signal, result=result, start_ticks=identity.start_ticks)


def _not_sent(result: str) -> str:
    return {"gone": "already gone before the signal",
            "reused": "not signalled: the pid now belongs to another process (start time differs)",
            "changed": "not signalled: the pid runs another command line now"}.get(result, result)
