"""The ``health.check`` action: all facts of a host in one round trip, judged against thresholds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from runbook.actions.base import HostAction
from runbook.change import Outcome, Plan
from runbook.errors import ConnectError
from runbook.facts import FactError
from runbook.facts.gather import collect_local, gather_command, new_nonce, parse_gathered
from runbook.facts.reachability import ProbeResult, probe_inventory
from runbook.health import Check, Status, evaluate, worst
from runbook.health.checks import REQUIRED_FACTS
from runbook.health.thresholds import THRESHOLD_VARS, Thresholds
from runbook.task import HostTask

#: layers at which the host itself does not answer (the hosting provider's business), as
#: opposed to hostkey/auth, where the host is up and our access is what is broken.
NETWORK_LAYERS = ("dns", "tcp", "ssh")


@dataclass(frozen=True)
class HealthParams:
    """facts: which facts to gather; probes: also probe the inventory's service ports and URLs;
    evidence: record the disk/memory facts as "before"/"after" evidence; fail_on: make the
    step fail at this status or worse."""

    facts: list[str] = ("memory", "load", "disk")  # type: ignore[assignment]
    include_pseudo: bool = False
    probes: bool = True
    evidence: Literal["none", "before", "after"] = "none"
    fail_on: Literal["never", "warning", "critical"] = "never"


def _json(value: Any) -> Any:
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value.to_json() if hasattr(value, "to_json") else value


def unreachable_check(exc: ConnectError, probes: list[ProbeResult]) -> Check:
    """How bad "cannot reach over SSH" is: CRITICAL when the host itself does not answer,
    UNKNOWN when its services still answer or only our access (key, auth) is broken."""
    answering = [p for p in probes if p.ok]
    if exc.layer in NETWORK_LAYERS and not answering:
        status = Status.CRITICAL
        note = "; no service answers" if probes else ""
    else:
        status = Status.UNKNOWN
        note = f"; but {', '.join(p.target for p in answering)} answer" if answering else ""
    return Check(name="reachability", status=status, message=f"{exc.layer} layer failed: {exc.message}{note}",
                 details={"layer": exc.layer}, msg="unreachable",
                 args={"layer": exc.layer, "answering": [p.target for p in answering]})


def probe_check(probe: ProbeResult) -> Check:
    """A service port or URL from the inventory as a check: CRITICAL when it does not answer."""
    return Check(name=f"{probe.kind}:{probe.target}", status=Status.OK if probe.ok else Status.CRITICAL,
                 message=f"{probe.target} {probe.detail}", details={"latency_ms": probe.latency_ms},
                 msg="probe", args={"kind": probe.kind, "target": probe.target, "reason": probe.reason,
                                    "http_status": probe.http_status, "expected": probe.expected})


class HealthCheckAction(HostAction):
    """Gather disk, memory and load (one batched command over SSH, psutil locally) and judge them.

    Thresholds come from host vars (see runbook.health); ``data`` carries status, checks,
    facts and probe results.
    """

    name = "health.check"
    Params = HealthParams
    host_vars = THRESHOLD_VARS

    def plan(self, task: HostTask, params: HealthParams) -> Plan:
        probes = self._probes(task) if params.probes else []
        started = time.monotonic()
        try:
            conn = task.conn
            conn.open()
            latency = round((time.monotonic() - started) * 1000, 1)
            if conn.local:
                facts = collect_local(list(params.facts), include_pseudo=params.include_pseudo)
            else:
                nonce = new_nonce()
                result = task.run(gather_command(list(params.facts), nonce))
                facts = parse_gathered(result.stdout, list(params.facts), nonce, stderr=result.stderr,
                                       include_pseudo=params.include_pseudo)
        except ConnectError as exc:
            check = unreachable_check(exc, probes)
            data = {"status": check.status.name, "checks": [check.to_json()], "layer": exc.layer,
                    "probes": [p.to_json() for p in probes], "facts": {}}
            return Plan(Outcome.UNREACHABLE, data=data, message=check.message, error=exc)
        checks = list(evaluate(facts, task.vars, required=[f for f in params.facts if f in REQUIRED_FACTS]))
        checks += [probe_check(p) for p in probes]
        status = worst(checks)
        facts_json = {name: _json(value) for name, value in facts.items()}
        if params.evidence != "none":
            judged = Thresholds.from_vars(task.vars).judges
            for kind in ("disk", "memory"):
                if kind in facts and not isinstance(facts[kind], FactError):
                    data = facts_json[kind]
                    if kind == "disk":  # a mount that is not the host's concern is no evidence either
                        data = [m for m in data if judged(m.get("mount", ""))]
                    task.evidence(params.evidence, kind, _evidence(kind, data))
        bad = [c for c in checks if c.status != Status.OK]
        message = status.name + (": " + "; ".join(c.message for c in bad) if bad else "")
        data = {"status": status.name, "checks": [c.to_json() for c in checks], "facts": facts_json,
                "probes": [p.to_json() for p in probes], "latency_ms": latency}
        limit = {"never": None, "warning": Status.WARNING, "critical": Status.CRITICAL}[params.fail_on]
        failed = limit is not None and status != Status.UNKNOWN and status.severity >= limit.severity
        return Plan(Outcome.FAILED if failed else Outcome.OK, data=data, message=message[:400], verdict=failed)

    @staticmethod
    def _probes(task: HostTask) -> list[ProbeResult]:
        host = task.host
        return probe_inventory(host.address, host.service_ports, host.http_checks,
                               min(host.connect_timeout, 10.0))


def _evidence(kind: str, data: Any) -> Any:
    if kind == "disk":
        return {"mounts": [{k: m.get(k) for k in ("mount", "used_percent", "free_bytes", "size_bytes",
                                                   "used_bytes", "inodes_used_percent")} for m in data]}
    return data
