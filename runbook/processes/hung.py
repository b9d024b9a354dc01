"""Hung-process rules: what counts as hung on a host, and the reason a human reads for it.

Host var ``hung_rules`` (a list; without it: stopped processes and zombies of the host's
declared services are reported)::

    hung_rules:
      - {name: backup overrun, pattern: "backup-job", max_age: 6h, action: kill,
         reason: "the nightly backup is still running"}
      - {state: T, action: kill}            # a declared service's process stopped (SIGSTOP)
      - {state: Z}                          # zombies: reported with their parent
      - {state: D, longer_than: 60s}        # uninterruptible I/O wait: reported, never killed
      - {pattern: java, cpu_above: 95, window: 10s}
      - {service: gunicorn, action: kill}   # alive, but its probe times out: end its workers
      - {state: T, scope: host}             # any stopped process on the host: reported

Each rule has exactly one condition (max_age, state, cpu_above or service), may narrow it
with ``pattern`` (a regular expression searched in the command line) and ``user``, and says
``action: kill`` or ``report`` (the default). Zombies and D-state processes are always only
reported: no signal can end them.

Whose processes a rule looks at: a rule with ``pattern`` or ``user`` looks at the processes
they name; a ``service`` rule at that service's; any other rule only at the processes of the
host's declared ``services`` (their main processes and everything they started) -- an
administrator's editor suspended with Ctrl-Z is none of the on-call run's business. A rule
that means every process of the host says ``scope: host``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook.facts.processes import ProcessInfo
from runbook.hostvars import HostVar, HostVars, Located
from runbook.inventory.model import Host
from runbook.processes.sampling import Sample
from runbook.services.model import SERVICES
from runbook.services.status import ServiceStatus

RULE_KEYS = {"name", "reason", "action", "pattern", "user", "max_age", "state", "longer_than",
             "cpu_above", "window", "service", "scope"}
SCOPES = ("services", "host")
CONDITIONS = ("max_age", "state", "cpu_above", "service")
DEFAULT_RULES = ({"state": "T"}, {"state": "Z"})
DEFAULT_WINDOW = 10.0


@dataclass(frozen=True)
class HungRule:
    """One rule; ``condition`` names which of max_age/state/cpu_above/service applies."""

    name: str
    condition: str
    action: str = "report"
    reason: str | None = None
    pattern: str | None = None
    user: str | None = None
    max_age: float | None = None
    state: str | None = None
    longer_than: float = 0.0
    cpu_above: float | None = None
    window: float = DEFAULT_WINDOW
    service: str | None = None
    scope: str = "services"

    @property
    def host_wide(self) -> bool:
        """Whether the rule looks beyond the declared services' processes: it says so, or
        names the processes it means by pattern or user."""
        return self.scope == "host" or self.pattern is not None or self.user is not None

    @property
    def sample_seconds(self) -> float:
        """How long the host must be watched to judge this rule (0: one look is enough)."""
        if self.condition == "cpu_above":
            return self.window
        if self.condition == "state" and self.state == "D":
            return max(self.longer_than, 1.0)
        return 0.0

    def matches(self, proc: ProcessInfo) -> bool:
        if self.pattern and not re.search(self.pattern, proc.command):
            return False
        return not self.user or proc.user == self.user


@dataclass(frozen=True)
class HungProcess:
    """A process a rule found, with the sentence for the report and what would help."""

    pid: int
    ppid: int | None
    user: str | None
    state: str
    command: str
    elapsed_seconds: int | None
    rule: str
    reason: str
    action: str
    advice: str | None = None
    service: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("pid", "ppid", "user", "state", "command", "elapsed_seconds",
                                              "rule", "reason", "action", "advice", "service")}


def parse_rules(host: Host, value: Any) -> tuple[HungRule, ...]:
    """Rules from a ``hung_rules`` value of ``host`` (None: the defaults); ConfigError names
    the file, line and field."""
    return HostVars.of(host, {**host.vars, "hung_rules": value}).read(HUNG_RULES)


def _rules(at: Located, vars: HostVars) -> tuple[HungRule, ...]:
    rules = tuple(_rule(item) for item in at.items("a list of rules"))
    named = [(r, item) for r, item in zip(rules, at.items()) if r.condition == "service"]
    if named:
        # A service rule judges the service by its probes: the service must be declared.
        declared = vars.read(SERVICES)
        for rule, item in named:
            if rule.service not in declared:
                host = vars.host.name if vars.host is not None else "the host"
                raise item.error(f"{host} declares no service {rule.service!r} in vars.services "
                                 f"(declared: {', '.join(declared) or 'none'})", "service")
    return rules


def _rule(at: Located) -> HungRule:
    spec = at.value
    error = at.error
    if not isinstance(spec, Mapping):
        raise error("must be a mapping like {pattern: backup, max_age: 6h}")
    at.keys_among(RULE_KEYS)
    conditions = [c for c in CONDITIONS if c in spec]
    if len(conditions) != 1:
        raise error(f"needs exactly one of {', '.join(CONDITIONS)}")
    condition = conditions[0]
    action = spec.get("action", "report")
    if action not in ("kill", "report"):
        raise error("must be kill or report", "action")
    pattern = spec.get("pattern")
    if pattern is not None:
        at.member("pattern").pattern()
    state = spec.get("state")
    if condition == "state" and state not in ("T", "Z", "D"):
        raise error("must be T (stopped), Z (zombie) or D (uninterruptible)", "state")
    scope = spec.get("scope", "services")
    if scope not in SCOPES:
        raise error("must be services (the declared services' processes, the default) or host "
                    "(every process of the host)", "scope")
    cpu = spec.get("cpu_above")
    if cpu is not None and (isinstance(cpu, bool) or not isinstance(cpu, (int, float)) or cpu <= 0):
        raise error("must be a percentage of one CPU, like 95", "cpu_above")

    def seconds(key: str, default: float | None) -> float | None:
        return at.member(key).duration(zero=True) if key in spec else default

    name = str(spec.get("name") or (f"{condition}={spec[condition]}"))
    return HungRule(name=name, condition=condition, action=action,
                    reason=None if spec.get("reason") is None else str(spec["reason"]),
                    pattern=None if pattern is None else str(pattern),
                    user=None if spec.get("user") is None else str(spec["user"]),
                    max_age=seconds("max_age", None), state=state,
                    longer_than=seconds("longer_than", 30.0) or 0.0,
                    cpu_above=None if cpu is None else float(cpu),
                    window=seconds("window", DEFAULT_WINDOW) or DEFAULT_WINDOW,
                    service=None if spec.get("service") is None else str(spec["service"]),
                    scope=str(scope))


HUNG_RULES: HostVar[tuple[HungRule, ...]] = HostVar(
    "hung_rules", "a list of rules like {state: T, action: kill} or {pattern: backup, max_age: 6h}",
    list(DEFAULT_RULES), __name__, _rules)


def detect(processes: Sequence[ProcessInfo], rules: Sequence[HungRule], *, sample: Sample | None = None,
           window: float = 0.0, services: Mapping[str, ServiceStatus] | None = None) -> list[HungProcess]:
    """Every process some rule finds hung (the first rule that finds a process wins).

    ``services``: the host's declared services as found (their main pids): a rule that is not
    host-wide looks only at their processes."""
    by_pid = {p.pid: p for p in processes}
    children: dict[int, list[ProcessInfo]] = {}
    for p in processes:
        if p.ppid is not None:
            children.setdefault(p.ppid, []).append(p)
    owner = service_processes(services or {}, by_pid, children)
    found: dict[int, HungProcess] = {}
    for rule in rules:
        candidates = processes if rule.host_wide or rule.condition == "service" else [
            p for p in processes if p.pid in owner]
        for proc, reason, advice, service in _hits(rule, candidates, by_pid, children, sample, window,
                                                   services or {}):
            service = service or owner.get(proc.pid)
            if proc.pid in found:
                continue
            killable = rule.action == "kill" and proc.state not in ("Z", "D")
            text = f"{rule.reason}: {reason}" if rule.reason else reason
            found[proc.pid] = HungProcess(proc.pid, proc.ppid, proc.user, proc.state, proc.command,
                                          proc.elapsed_seconds, rule.name, text, "kill" if killable else "report",
                                          advice, service)
    return list(found.values())


def service_processes(services: Mapping[str, ServiceStatus], by_pid: Mapping[int, ProcessInfo],
                      children: Mapping[int, list[ProcessInfo]]) -> dict[int, str]:
    """pid -> service name for every process of a declared service: its main process and
    everything below it."""
    owner: dict[int, str] = {}
    for name, status in services.items():
        todo = [status.main_pid] if status.main_pid in by_pid else []
        while todo:
            pid = todo.pop()
            if pid in owner:
                continue
            owner[pid] = name
            todo.extend(c.pid for c in children.get(pid, []))
    return owner


def _hits(rule: HungRule, processes: Sequence[ProcessInfo], by_pid: Mapping[int, ProcessInfo],
          children: Mapping[int, list[ProcessInfo]], sample: Sample | None, window: float,
          services: Mapping[str, ServiceStatus]) -> list[tuple[ProcessInfo, str, str | None, str | None]]:
    hits: list[tuple[ProcessInfo, str, str | None, str | None]] = []
    if rule.condition == "service":
        status = services.get(str(rule.service))
        if status is None or not status.hung or status.main_pid is None or status.main_pid not in by_pid:
            return hits
        main = by_pid[status.main_pid]
        late = "; ".join(f"{p.target} {p.detail}" for p in status.probes if not p.ok)
        targets = [c for c in children.get(main.pid, []) if c.state != "Z"] or [main]
        for proc in targets:
            if rule.matches(proc):
                role = "worker of" if proc is not main else "main process of"
                hits.append((proc, (f"{role} service {rule.service}, which is alive (pid {main.pid}) but does "
                                    f"not answer: {late}"),
                             "end its hung processes (processes.kill hung: true), then restart the service "
                             "(services.restart)", rule.service))
        return hits
    for proc in processes:
        if proc.pid in (1, 2) or proc.ppid == 2 or not rule.matches(proc):
            continue
        if rule.condition == "max_age":
            age = proc.elapsed_seconds
            if age is not None and rule.max_age is not None and age > rule.max_age:
                hits.append((proc, f"running for {_human(age)}, longer than the {_human(rule.max_age)} allowed",
                             None, None))
        elif rule.condition == "state" and rule.state == "T" and proc.state == "T":
            hits.append((proc, "stopped (state T): it does nothing until it is continued or ended", None, None))
        elif rule.condition == "state" and rule.state == "Z" and proc.state == "Z":
            parent = by_pid.get(proc.ppid or 0)
            who = f"{proc.ppid} ({parent.command[:80]})" if parent else str(proc.ppid)
            advice = (f"a zombie holds only its pid; the parent {who} must reap it: fix or restart the parent "
                      "(if the parent ends, init inherits and reaps it)")
            if proc.ppid == 1:
                advice = ("its parent is init, which should reap it at once: a PID 1 that does not (a container "
                          "started without an init such as tini or docker --init) leaves every orphan a zombie")
            hits.append((proc, f"zombie: it has exited, but its parent {who} has not collected it", advice, None))
        elif rule.condition == "state" and rule.state == "D" and sample is not None:
            if (sample.first_state.get(proc.pid) == "D" and sample.last_state.get(proc.pid) == "D"
                    and (proc.elapsed_seconds or 0) >= rule.longer_than):
                channel = sample.wchan.get(proc.pid)
                waits = f" in the kernel at {channel}" if channel else " in the kernel"
                hits.append((proc, f"in uninterruptible sleep (state D) for at least {_human(window)}, waiting{waits}",
                             ("no signal can end it (not even KILL): it waits for I/O. Check the storage or NFS "
                              "server it waits on and the kernel log (dmesg) for I/O errors; only the I/O "
                              "completing or a reboot frees it"), None))
        elif rule.condition == "cpu_above" and sample is not None and rule.cpu_above is not None:
            cpu = sample.cpu_percent.get(proc.pid)
            if cpu is not None and cpu >= rule.cpu_above:
                hits.append((proc, f"{cpu:g}% CPU over {_human(window)} (limit {rule.cpu_above:g}%)", None, None))
    return hits


def _human(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"

