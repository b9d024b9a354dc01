"""A health sweep's verdict, read back from its journal: per host status and checks.

This is what ``runbook sweep`` prints (table, ``--json``, ``--nagios``) and what the reports
call "the current state". Built from the journal, like every report, so the same sweep can
be rendered again later.

Statuses: a host reached over SSH gets the worst of its checks (OK < UNKNOWN < WARNING <
CRITICAL, as monitoring-plugins' max_state_alt). A host that cannot be reached is CRITICAL
when it does not answer at the network level (dns, tcp or the SSH banner) and none of its
service probes answers; it is UNKNOWN when its services still answer, or when only our
access is refused (host key, authentication). The sweep's status is the worst host's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.health import Status, worst
from runbook.errors import RunbookError
from runbook.journal import iter_events

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HostHealth:
    """One host's state in a sweep."""

    name: str
    address: str
    roles: tuple[str, ...]
    customer: str
    status: Status
    checks: tuple[dict[str, Any], ...]
    outcome: str
    layer: str | None
    message: str

    @property
    def problems(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c.get("status") != "OK"]


@dataclass(frozen=True)
class Sweep:
    """All hosts of one sweep run."""

    run_id: str
    started: str
    ended: str | None
    run_status: str
    hosts: tuple[HostHealth, ...]

    @property
    def status(self) -> Status:
        return worst(h.status for h in self.hosts) if self.hosts else Status.UNKNOWN


def _host_status(event: dict[str, Any]) -> tuple[Status, tuple[dict[str, Any], ...], str | None]:
    data = event.get("data") or {}
    error = event.get("error") or {}
    checks = tuple(data.get("checks") or ())
    layer = data.get("layer") or error.get("layer")
    if "status" in data:
        return Status[data["status"]], checks, layer
    if event["outcome"] == "unreachable":
        status = Status.CRITICAL if layer in ("dns", "tcp", "ssh") else Status.UNKNOWN
        check = {"name": "reachability", "status": status.name, "code": int(status),
                 "message": f"{layer} layer failed: {error.get('message', '')}", "layer": layer}
        return status, (check,), layer
    check = {"name": "health", "status": "UNKNOWN", "code": 3,
             "message": event.get("message") or "no health data", "value": None}
    return Status.UNKNOWN, (check,), layer


def load_sweep(run_dir: Path) -> Sweep:
    """The sweep recorded in ``run_dir``'s journal (the last health step of each host wins)."""
    start: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    last: dict[str, dict[str, Any]] = {}
    for e in iter_events(run_dir / "journal.jsonl"):  # streamed: only each host's last result stays
        if e["event"] == "run.start" and start is None:
            start = e
        elif e["event"] == "run.end":
            end = e
        elif e["event"] == "host.end" and ("status" in (e.get("data") or {}) or e["outcome"] != "skipped"):
            e.get("data", {}).pop("facts", None)  # the raw facts: the checks say what the sweep needs
            last[e["host"]] = e
    if start is None:
        raise RunbookError(f"{run_dir}: the journal has no run.start")
    info = start.get("host_info", {})
    hosts = []
    for name in start.get("hosts", []):
        meta = info.get(name, {})
        event = last.get(name, {"outcome": "skipped", "message": "not checked", "data": {}, "error": None})
        status, checks, layer = _host_status(event)
        hosts.append(HostHealth(name=name, address=meta.get("address", ""), roles=tuple(meta.get("roles", ())),
                                customer=meta.get("customer", ""), status=status, checks=checks,
                                outcome=event["outcome"], layer=layer, message=event.get("message", "")))
    return Sweep(run_id=start["run_id"], started=start["ts"], ended=end["ts"] if end else None,
                 run_status=end["status"] if end else "incomplete", hosts=tuple(hosts))


def to_json(sweep: Sweep) -> dict[str, Any]:
    """The documented ``runbook sweep --json`` document (runbook/health/sweep.schema.json)."""
    return {
        "schema": SCHEMA_VERSION,
        "status": sweep.status.name,
        "exit_code": int(sweep.status),
        "run_id": sweep.run_id,
        "started": sweep.started,
        "ended": sweep.ended,
        "run_status": sweep.run_status,
        "hosts": [{
            "name": h.name, "address": h.address, "roles": list(h.roles), "customer": h.customer,
            "status": h.status.name, "reachable": h.outcome != "unreachable", "layer": h.layer,
            "message": h.message, "checks": list(h.checks),
        } for h in sweep.hosts],
    }


def _label(text: str) -> str:
    """A perfdata label: quoted, "'" doubled; "=" is not allowed at all (monitoring-plugins
    guidelines), so a mount path with one gets "_" there."""
    return "'" + text.replace("=", "_").replace("'", "''") + "'"


def _perf_number(value: Any) -> str:
    return "" if value is None else f"{float(value):g}"


def to_nagios(sweep: Sweep) -> str:
    """One monitoring-plugins line: ``RUNBOOK STATUS: summary | perfdata``."""
    counts = {s: [h.name for h in sweep.hosts if h.status == s] for s in Status}
    parts = []
    for status in (Status.CRITICAL, Status.WARNING, Status.UNKNOWN):
        if counts[status]:
            parts.append(f"{len(counts[status])} {status.name.lower()} ({', '.join(counts[status])})")
    parts.append(f"{len(counts[Status.OK])} ok")
    perf = []
    for h in sweep.hosts:
        for c in h.checks:
            if c.get("value") is None:
                continue
            name = c["name"]
            if name.startswith("disk:") or name.startswith("inodes:"):
                kind, _, mount = name.partition(":")
                label = f"{h.name}:{mount}" if kind == "disk" else f"{h.name}:inodes:{mount}"
                perf.append(f"{_label(label)}={_perf_number(c['value'])}%;{_perf_number(c.get('warn'))};"
                            f"{_perf_number(c.get('crit'))};0;100")
            elif c.get("unit") == "%" and c.get("direction") == "below":
                perf.append(f"{_label(h.name + ':' + name)}={_perf_number(c['value'])}%;"
                            f"{_perf_number(c.get('warn'))}:;{_perf_number(c.get('crit'))}:;0;100")
            elif c.get("unit") == "%":
                perf.append(f"{_label(h.name + ':' + name)}={_perf_number(c['value'])}%;"
                            f"{_perf_number(c.get('warn'))};{_perf_number(c.get('crit'))};0;100")
            else:
                perf.append(f"{_label(h.name + ':' + name)}={_perf_number(c['value'])};"
                            f"{_perf_number(c.get('warn'))};{_perf_number(c.get('crit'))};0;")
    line = f"RUNBOOK {sweep.status.name}: {', '.join(parts)}"
    return line + (" | " + " ".join(perf) if perf else "")
