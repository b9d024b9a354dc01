"""What monitoring reads of a sweep: the ``--json`` document (``sweep.schema.json`` beside this
module) and the monitoring-plugins line of ``--nagios``.
"""

from __future__ import annotations

from typing import Any

from runbook.health.status import Status
from runbook.health.verdict import Sweep

SCHEMA_VERSION = 1


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
