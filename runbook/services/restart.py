"""A controlled restart while it happens: stop, start and health-gate changes that share one
record of which services are up, so a failed gate can say exactly what is up and what is down.

The changes are applied by ``runbook.run.ordered`` strictly in order, stopping at the first
one that raises. A failed start or health gate is recorded with why (the last lines of the
service's ``log``, of its systemd journal, or of its start command's output); every later
start whose dependencies are not all up is skipped, so what depends on the failed service
stays down, and what does not is brought back up. With ``on_gate_failure: stop`` (the
default) only what this run stopped is started after a failure; ``continue`` also tries the
services that were down before. A service that does not stop abandons the restart: nothing
more is stopped, and what this run had stopped is started again. Afterwards the step fails
on each host with a service that did not stop, did not come up or was left down
(``RestartState.host_failures``), naming why and what is up and down; a host whose services
all came back is not failed for another host's.

The customer's report reads one sentence per service, worded by its health gate ("Restarted
php-fpm on web1 at 02:41; https://shop.example/ answers again."); the stop and the start
before it are internal steps (``runbook.change.INTERNAL``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from runbook.change import INTERNAL, Applied, Change, Message
from runbook.connection.shell import quote
from runbook.errors import CommandFailed, CommandTimeout
from runbook.services.config_check import last_lines
from runbook.services.control import start_command, stop_command
from runbook.services.model import ServiceSpec, key_host
from runbook.services.status import ServiceStatus, read_status, with_probes
from runbook.task import HostTask

STOP_POLL = 0.2
#: A bound for reading why a start failed (a log's tail, a unit's journal).
EVIDENCE_TIMEOUT = 20.0
#: a log line's own time stamp and pid ("2026-12-03 02:41:07.747 UTC [7144] "): the report has its time
LOG_STAMP = re.compile(r"^\d{4}[-/]\d\d[-/]\d\d[ T][\d:.,]+(?: ?[A-Z]{2,5}| ?[+-]\d\d:?\d\d)?(?: \[\d+\])?:?\s+")


@dataclass
class RestartState:
    """Mutable on purpose: the one record the changes of one restart share while they run."""

    states: dict[str, str]                       # key -> "up" | "down"
    policy: str = "stop"
    failed: dict[str, str] = field(default_factory=dict)     # key -> why its start or gate failed
    skipped: dict[str, str] = field(default_factory=dict)    # key -> why it was not started
    stopped: set[str] = field(default_factory=set)           # keys this run stopped
    start_output: dict[str, str] = field(default_factory=dict)   # key -> its start command's last lines
    evidence: dict[str, str] = field(default_factory=dict)   # key -> the service's own words on a failed start
    stop_failed: dict[str, str] = field(default_factory=dict)  # key -> why it did not stop (the restart is abandoned)
    pids_before: dict[str, int | None] = field(default_factory=dict)
    pids_after: dict[str, int | None] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def up(self) -> list[str]:
        return [k for k, s in self.states.items() if s == "up"]

    def down(self) -> list[str]:
        return [k for k, s in self.states.items() if s != "up"]

    def summary(self) -> str:
        parts = [f"up: {', '.join(self.up()) or 'none'}", f"down: {', '.join(self.down()) or 'none'}"]
        if self.skipped:
            parts.append(f"not started: {', '.join(self.skipped)}")
        return "; ".join(parts)

    def abandoned(self) -> str | None:
        """Why the restart was abandoned (a service did not stop), if it was."""
        return next((f"{k} did not stop" for k in self.stop_failed), None)

    def first_failure(self) -> str | None:
        """The service whose start or gate failed first, if any."""
        return next(iter(self.failed), None)

    def host_failures(self) -> dict[str, str]:
        """Per host, why its part of the restart failed: its services that did not stop (the
        restart abandoned), did not come up, or were left down, then what is up and down."""
        said: dict[str, list[str]] = {}
        for key, why in self.stop_failed.items():
            said.setdefault(key_host(key), []).append(
                f"{key} did not stop ({why}): restart abandoned, what it had stopped was started again")
        for key, why in self.failed.items():
            said.setdefault(key_host(key), []).append(f"health gate failed for {key}: {why}")
        for key, why in self.skipped.items():
            said.setdefault(key_host(key), []).append(f"{key} left down: {why}")
        return {host: f"{'; '.join(parts)}. {self.summary()}" for host, parts in said.items()}


@dataclass(frozen=True)
class RestartSettings:
    """Per-restart knobs from the step's params."""

    gate_timeout: float | None = None
    gate_interval: float = 1.0


def _event(task: HostTask, spec: ServiceSpec, op: str, ok: bool, detail: str, **extra: object) -> None:
    task.journal.write("service", step=task.step, host=task.host.name, run_id=task.journal.run_id,
                       service=spec.key, op=op, ok=ok, detail=detail, **extra)


def _status(task: HostTask, spec: ServiceSpec, *, probes: bool) -> ServiceStatus:
    status = read_status(task.run, [spec], sudo=spec.sudo)[0]
    return with_probes(status, spec, task.run) if probes else status


def restarted_message(spec: ServiceSpec, *, restarted: bool) -> Message:
    """The report's message once ``spec`` passed its gate: restarted (we stopped it) or
    started (it was down), and what answers again, if a probe says so: the HTTP probe's URL
    (``check``), else the TCP probe's address (``port``)."""
    verb = "service_restarted" if restarted else "service_started"
    http = next((p.target for p in spec.probes if p.kind == "http"), None)
    if http is not None:
        return Message(f"{verb}_healthy", {"service": spec.name, "check": http})
    tcp = next((p.target for p in spec.probes if p.kind == "tcp"), None)
    if tcp is not None:
        return Message(f"{verb}_port", {"service": spec.name, "port": tcp})
    return Message(verb, {"service": spec.name})


def not_restarted_wording(spec: ServiceSpec, state: RestartState, *, restarted: bool) -> Applied:
    """What the report says when ``spec`` was not started again or did not pass its gate
    (``on_gate_failure: continue``); nothing if it was down before and is still down.
    ``needs`` lists the services it waits for as "host:service" keys."""
    if spec.key in state.skipped:
        if not restarted:
            return Applied("no gate: not started", message_id=INTERNAL)
        missing = [d for d in spec.depends_on if state.states.get(d, "up") != "up"]
        return Applied("no gate: not started", message_id="service_left_stopped", args={"needs": missing},
                       failure=True)
    why = state.failed.get(spec.key, "")
    said = state.evidence.get(spec.key)
    message_id = "service_restart_failed" if restarted else "service_start_failed"
    return Applied(f"FAILED: {why}" if why else None, message_id=f"{message_id}_why" if said else message_id,
                   args={"why": said} if said else {}, failure=True)


def stop_change(spec: ServiceSpec, state: RestartState, *, restarting: bool = True) -> Change:
    """Stop ``spec``; ``restarting``: it is started again later in the plan, so its gate
    words the restart and the stop is an internal step of it."""
    def apply(task: HostTask) -> str | Applied:
        if state.stop_failed:
            return Applied(f"not stopped: the restart was abandoned ({state.abandoned()})", message_id=INTERNAL)
        before = _status(task, spec, probes=False)
        state.pids_before.setdefault(spec.key, before.main_pid)
        began = time.monotonic()
        try:
            task.run(stop_command(spec), sudo=spec.sudo, timeout=spec.stop_timeout, check=True)
        except (CommandFailed, CommandTimeout) as exc:
            return _stop_failed(task, spec, state, "stop command failed: " + " | ".join(last_lines(str(exc), 3)))
        while True:
            now = _status(task, spec, probes=False)
            if now.state != "running":
                break
            if time.monotonic() - began > spec.stop_timeout:
                return _stop_failed(task, spec, state, f"still running {spec.stop_timeout:g}s after its stop command")
            time.sleep(STOP_POLL)
        with state.lock:
            state.states[spec.key] = "down"
            state.stopped.add(spec.key)
        took = time.monotonic() - began
        _event(task, spec, "stop", True, f"stopped after {took:.1f}s", pid=before.main_pid)
        return f"down after {took:.1f}s" + (f", was pid {before.main_pid}" if before.main_pid else "")

    message = Message(INTERNAL) if restarting else Message("service_stopped", {"service": spec.name})
    return Change(sentence=f"stop {spec.key}", apply=apply, details={"service": spec.key, "op": "stop"},
                  message=message)


def _stop_failed(task: HostTask, spec: ServiceSpec, state: RestartState, why: str) -> Applied:
    """``spec`` did not stop: nothing more is stopped, what this run stopped is started again
    by the rest of the chain, and the step fails on this host. If it is down after all
    (a stop command that failed half-way), it is started again too."""
    now = _status(task, spec, probes=False)
    with state.lock:
        state.stop_failed[spec.key] = why
        if now.state != "running":
            state.states[spec.key] = "down"
            state.stopped.add(spec.key)
    _event(task, spec, "stop", False, why[:300])
    return Applied(f"FAILED: {why}; nothing more is stopped, what was stopped is started again",
                   message_id=INTERNAL)


def start_change(spec: ServiceSpec, state: RestartState) -> Change:
    """Start ``spec``, unless a service it depends on is down (then it is left stopped and
    said so); a failed start command fails its gate."""
    def apply(task: HostTask) -> str:
        if state.stop_failed and spec.key not in state.stopped and state.states.get(spec.key) == "up":
            return f"not started: still running, the restart was abandoned ({state.abandoned()})"
        missing = [d for d in spec.depends_on if state.states.get(d, "up") != "up"]
        why = None
        if state.stop_failed and spec.key not in state.stopped:
            why = f"not tried: the restart was abandoned ({state.abandoned()})"
        elif missing:
            why = f"needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} down"
        elif state.policy == "stop" and state.failed and spec.key not in state.stopped:
            why = f"not tried after the failed start of {state.first_failure()} (on_gate_failure: stop)"
        if why is not None:
            with state.lock:
                state.skipped[spec.key] = why
            _event(task, spec, "start", False, f"not started: {why}")
            return f"not started: {why}"
        try:
            done = task.run(start_command(spec), sudo=spec.sudo, timeout=spec.start_timeout, check=True)
        except (CommandFailed, CommandTimeout) as exc:
            detail = " | ".join(last_lines(str(exc), 3))
            _event(task, spec, "start", False, detail[:300])
            with state.lock:
                state.evidence[spec.key] = detail[:300]
            return _gate_failed(state, spec, f"start command failed: {detail[:300]}")
        with state.lock:
            state.start_output[spec.key] = " | ".join(last_lines(done.stderr + "\n" + done.stdout, 3))
        _event(task, spec, "start", True, "start command succeeded")
        return "start command succeeded"

    return Change(sentence=f"start {spec.key}", apply=apply,
                  details={"service": spec.key, "op": "start"}, message=Message(INTERNAL))


def gate_change(spec: ServiceSpec, state: RestartState, settings: RestartSettings, *,
                restarted: bool = True) -> Change:
    """Wait until ``spec`` is healthy; ``restarted``: this run stopped it before (else it was down)."""
    limit = settings.gate_timeout or spec.start_timeout

    def apply(task: HostTask) -> str | Applied:
        if state.stop_failed and spec.key not in state.stopped and spec.key not in state.skipped:
            return Applied("no gate: not restarted", message_id=INTERNAL)
        if spec.key in state.skipped or spec.key in state.failed:
            return not_restarted_wording(spec, state, restarted=restarted)
        began = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            status = _status(task, spec, probes=True)
            if status.healthy:
                took = time.monotonic() - began
                with state.lock:
                    state.states[spec.key] = "up"
                    state.pids_after[spec.key] = status.main_pid
                _event(task, spec, "gate", True, f"healthy after {took:.1f}s ({attempts} attempt(s))",
                       pid=status.main_pid, probes=[p.to_json() for p in status.probes])
                return f"up after {took:.1f}s" + (f", pid {status.main_pid}" if status.main_pid else "")
            if time.monotonic() - began + settings.gate_interval > limit:
                why = _why_unhealthy(status)
                source, evidence = why_start_failed(task, spec, state)
                if evidence:
                    why += f"; {source} says: {evidence}"
                    with state.lock:
                        state.evidence[spec.key] = evidence
                _event(task, spec, "gate", False, f"not healthy within {limit:g}s: {why}",
                       probes=[p.to_json() for p in status.probes])
                _gate_failed(state, spec, f"not healthy within {limit:g}s ({attempts} attempts): {why}")
                return not_restarted_wording(spec, state, restarted=restarted)
            time.sleep(settings.gate_interval)

    return Change(sentence=f"health gate {spec.key}", apply=apply,
                  details={"service": spec.key, "op": "gate"}, message=restarted_message(spec, restarted=restarted))


def why_start_failed(task: HostTask, spec: ServiceSpec, state: RestartState) -> tuple[str, str]:
    """Why ``spec`` did not come up, in its own words, and where they come from: the last
    lines of its ``log``, else of its systemd journal (or ``systemctl status``), else of its
    start command's output. ("", "") when nothing says."""
    if spec.log:
        lines = _tail(task, spec, f"tail -n 50 {quote(spec.log)}")
        if lines:
            return f"its log {spec.log}", " | ".join(LOG_STAMP.sub("", line) for line in lines)
    if spec.manager == "systemd":
        unit = quote(spec.unit)
        lines = _tail(task, spec, f"journalctl -u {unit} -n 30 --no-pager -o cat 2>/dev/null | grep . || "
                                  f"systemctl status {unit} --no-pager -n 30 2>&1")
        if lines:
            return f"the journal of {spec.unit}", " | ".join(lines)
    said = state.start_output.get(spec.key)
    return ("its start command", said) if said else ("", "")


def _tail(task: HostTask, spec: ServiceSpec, command: str) -> tuple[str, ...]:
    try:
        return last_lines(task.run(command, sudo=spec.sudo, timeout=EVIDENCE_TIMEOUT, check=False).stdout, 3)
    except CommandTimeout:
        return ()


def _gate_failed(state: RestartState, spec: ServiceSpec, why: str) -> str:
    """Record that ``spec`` did not come up; what depends on it is then skipped, and the
    step fails on its host."""
    with state.lock:
        state.states[spec.key] = "down"
        state.failed[spec.key] = why
    return f"FAILED: {why}"


def _why_unhealthy(status: ServiceStatus) -> str:
    if status.state != "running":
        return f"status says {status.state} (exit {status.status_exit})"
    bad = [f"{p.kind} {p.target}: {p.detail}" for p in status.probes if not p.ok]
    return "; ".join(bad) or "unhealthy"


def build_changes(stop: Iterable[ServiceSpec], start: Iterable[ServiceSpec], state: RestartState,
                  settings: RestartSettings, running: Mapping[str, bool], *,
                  checked: Mapping[str, str] | None = None) -> list[tuple[str, Change]]:
    """The ordered (host, change) list: stops of running services, then start + gate each. ``checked``: key -> the configuration check it passed, said
    in the sentence of the service's first change."""
    changes: list[tuple[str, Change]] = []
    starts = list(start)
    stopped = [spec for spec in stop if running.get(spec.key, True)]
    started = {spec.key for spec in starts}
    said: set[str] = set()

    def add(spec: ServiceSpec, change: Change) -> None:
        if checked and spec.key in checked and spec.key not in said:
            said.add(spec.key)
            change = replace(change, sentence=f"{change.sentence} (configuration checked: {checked[spec.key]})")
        changes.append((spec.host, change))

    for spec in stopped:
        add(spec, stop_change(spec, state, restarting=spec.key in started))
    for spec in starts:
        add(spec, start_change(spec, state))
        add(spec, gate_change(spec, state, settings, restarted=spec.key in {s.key for s in stopped}))
    return changes
