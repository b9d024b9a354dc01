"""A declared service's status: its state, main pid, since when, and probe results.

Read like a fact (a command and a pure parser), but it lives with the services because it asks
what ``services.model`` declares with the commands ``services.control`` builds. One command per
host asks every service's status (with its manager) and reads the main
pid's start time from /proc; ``parse_status`` turns its output into ``ServiceStatus`` values.
TCP and HTTP probes run from where runbook runs (``runbook.facts.reachability``), command
probes on the host.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from runbook.connection.base import CommandResult
from runbook.errors import CommandTimeout
from runbook.facts.batch import new_nonce
from runbook.facts.reachability import ProbeResult, probe_http, probe_tcp
from runbook.services.control import probe_status_script
from runbook.services.model import Probe, ServiceSpec

RunCommand = Callable[..., CommandResult]


@dataclass(frozen=True)
class ServiceStatus:
    """One service on one host, as found.

    state:    "running" (status command exit 0), "stopped" (non-zero), "unknown" (the status
              command timed out or could not run)
    main_pid: the main process (from systemd, the pid file or pidof), if it lives
    since:    when that process started (UTC), if known
    probes:   each probe's result; ``healthy`` = running and every probe ok
    """

    key: str
    name: str
    state: str
    main_pid: int | None = None
    since: datetime | None = None
    status_exit: int | None = None
    probes: tuple[ProbeResult, ...] = ()

    @property
    def healthy(self) -> bool:
        return self.state == "running" and all(p.ok for p in self.probes)

    @property
    def hung(self) -> bool:
        """Alive, but a probe timed out: the process accepts work and never answers."""
        return self.main_pid is not None and any(not p.ok and "timed out" in p.detail for p in self.probes)

    def to_json(self) -> dict[str, Any]:
        return {"service": self.key, "state": self.state, "healthy": self.healthy, "main_pid": self.main_pid,
                "since": self.since.isoformat().replace("+00:00", "Z") if self.since else None,
                "status_exit": self.status_exit, "probes": [p.to_json() for p in self.probes]}


def parse_status(text: str, specs: Sequence[ServiceSpec], marker: str) -> list[ServiceStatus]:
    """The statuses of ``specs`` from the output of ``probe_status_script(specs, marker)``."""
    blocks = re.split(rf"^{re.escape(marker)} (\d+)\n", text, flags=re.MULTILINE)
    found: dict[int, dict[str, str]] = {}
    for i in range(1, len(blocks) - 1, 2):
        found[int(blocks[i])] = dict(line.split("=", 1) for line in blocks[i + 1].splitlines() if "=" in line)
    result = []
    for i, spec in enumerate(specs):
        values = found.get(i)
        if values is None or not values.get("rc", "").isdigit():
            result.append(ServiceStatus(spec.key, spec.name, "unknown"))
            continue
        rc = int(values["rc"])
        alive = values.get("alive") == "1" and values.get("pid", "").isdigit()
        start = values.get("start", "")
        state = "running" if rc == 0 else "unknown" if rc in (124, 126, 127) else "stopped"
        result.append(ServiceStatus(
            spec.key, spec.name, state, main_pid=int(values["pid"]) if alive else None,
            since=datetime.fromtimestamp(int(start), timezone.utc) if alive and start.isdigit() else None,
            status_exit=rc))
    return result


def read_status(run: RunCommand, specs: Sequence[ServiceSpec], *, timeout: float = 30.0,
                sudo: bool | None = None) -> list[ServiceStatus]:
    """Ask the host (through ``run``, e.g. ``HostTask.run``) for the status of ``specs``."""
    if not specs:
        return []
    marker = f"@@service-{new_nonce()}"
    result = run(probe_status_script(list(specs), marker), timeout=timeout, sudo=sudo)
    return parse_status(result.stdout, specs, marker)


def run_probe(probe: Probe, run: RunCommand | None) -> ProbeResult:
    """One probe; command probes need ``run`` (the host's), TCP and HTTP go out from here."""
    if probe.kind == "tcp":
        address, _, port = probe.target.rpartition(":")
        return probe_tcp(address, int(port), probe.timeout)
    if probe.kind == "http":
        spec = {"url": probe.target, "status": probe.status, "timeout": probe.timeout,
                "contains": probe.contains, "verify_tls": probe.verify_tls}
        return probe_http(spec, probe.timeout)
    if run is None:
        return ProbeResult("command", probe.target, False, "not run: the host cannot be reached", reason="not_run")
    try:
        result = run(probe.target, timeout=probe.timeout)
    except CommandTimeout:
        return ProbeResult("command", probe.target, False, f"timed out after {probe.timeout:g}s", reason="timeout")
    if result.exit_code == 0:
        return ProbeResult("command", probe.target, True, "exit 0", round(result.duration * 1000, 1))
    tail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
    return ProbeResult("command", probe.target, False, f"exit {result.exit_code}: {tail[0][:120]}", reason="exit")


def with_probes(status: ServiceStatus, spec: ServiceSpec, run: RunCommand | None) -> ServiceStatus:
    """``status`` with every probe of ``spec`` run once."""
    return replace(status, probes=tuple(run_probe(p, run) for p in spec.probes))
