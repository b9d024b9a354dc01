"""One look at a host's processes: the process table, what must never be signalled (and why),
and which processes the host's ``hung_rules`` call hung.

Never signalled: pid 1, kernel threads, sshd (our way in), the processes of runbook's own
session on the host (the command doing the looking, its ancestors -- on the same machine that
includes runbook itself), and anything matching the host var ``protected_processes`` (regexes).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]

from runbook.errors import ActionError
from runbook.facts import FactError
from runbook.facts.gather import gather_command, new_nonce, parse_gathered
from runbook.facts.processes import ProcessInfo
from runbook.hostvars import HostVar
from runbook.processes.hung import HUNG_RULES, HungProcess, detect
from runbook.processes.sampling import Sample, parse_sample, sample_script
from runbook.services.model import host_services
from runbook.services.status import read_status, with_probes
from runbook.task import HostTask


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
    at = task.vars.located(PROTECTED_PROCESSES.name)
    where = f"{at.file}:{at.line}" if at.file and at.line else f"{task.host.file}:{task.host.line}"
    return [(pattern, where) for pattern in task.vars.read(PROTECTED_PROCESSES)]


PROTECTED_PROCESSES: HostVar[list[str]] = HostVar(
    "protected_processes", "a list of regular expressions (searched in the command line)", [], __name__,
    lambda at, vars: at.patterns())


def find_hung(task: HostTask, procs: tuple[ProcessInfo, ...], max_sample: float) -> tuple[list[HungProcess], float]:
    """Apply the host's ``hung_rules``: sample CPU/states if a rule needs it, probe services."""
    rules = task.vars.read(HUNG_RULES)
    window = min(max((r.sample_seconds for r in rules), default=0.0), max_sample)
    sample: Sample | None = None
    if window > 0:
        result = task.run(sample_script(window), timeout=window + 60)
        sample = parse_sample(result.stdout, window)
    statuses = {}
    probed = {r.service for r in rules if r.condition == "service"}
    scoped = any(r.condition != "service" and not r.host_wide for r in rules)
    if probed or scoped:
        specs = host_services(task.host, task.vars)  # reading hung_rules made sure each is declared
        # Rules scoped to the services look at every declared service's processes; only the
        # services a rule judges by its probe are probed.
        chosen = list(specs.values()) if scoped else [specs[str(w)] for w in probed]
        for status, spec in zip(read_status(task.run, chosen), chosen):
            statuses[spec.name] = with_probes(status, spec, task.run) if spec.name in probed else status
    return detect(procs, rules, sample=sample, window=window, services=statuses), window
