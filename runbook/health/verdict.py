"""A health sweep's verdict, read back from its journal: per host status and checks.

This is what ``runbook sweep`` prints (its table; ``--json`` and ``--nagios`` are
``runbook.health.monitoring``) and what the reports call "the current state". Built from the journal, like every report, so the same sweep can
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

from runbook.errors import RunbookError
from runbook.health.status import Status, worst
from runbook.journal import iter_events


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
