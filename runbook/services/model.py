"""Services as the inventory declares them: how each is managed, probed, and what it needs.

Host var ``services`` maps a service name to its entry::

    services:
      nginx:                              # a shipped kind: systemd unit and probe come along
        depends_on: ["app1:gunicorn"]     # host:service, or a service on the same host
      gunicorn:
        manager: command                  # systemd | sysv | command
        start: /srv/shop/bin/start
        stop: /srv/shop/bin/stop
        status: /srv/shop/bin/status      # exit 0 = running (default: the pid file's process lives)
        pid_file: /run/shop/gunicorn.pid
        probes:
          - {http: "http://10.0.0.2:8000/health", status: 200, contains: ok, timeout: 3s}
          - {tcp: 8000}
          - {command: "test -S /run/shop/app.sock"}
        start_timeout: 60s                # the health gate's limit after a start
        stop_timeout: 30s
        depends_on: [postgresql]

Keys: kind, manager, unit (systemd), name (sysv script), start, stop, status, pid_file,
probes, depends_on, start_timeout, stop_timeout, sudo. Mistakes raise ConfigError naming the
var, the file and the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook.errors import ConfigError
from runbook.inventory.model import Host
from runbook.services.defaults import KINDS, OS_FAMILIES, defaults_for, kind_of
from runbook.units import parse_duration
from runbook.yamlsource import SourceMap

MANAGERS = ("systemd", "sysv", "command")
SERVICE_KEYS = {"kind", "manager", "unit", "name", "start", "stop", "status", "pid_file", "probes",
                "depends_on", "start_timeout", "stop_timeout", "sudo"}
PROBE_KINDS = ("tcp", "http", "command")
PROBE_KEYS = {"tcp", "http", "command", "status", "contains", "timeout", "verify_tls"}
DEFAULT_PROBE_TIMEOUT = 5.0
DEFAULT_START_TIMEOUT = 60.0
DEFAULT_STOP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Probe:
    """One health probe of a service.

    kind: "tcp" (target "address:port"), "http" (target the URL; ``status`` expected,
    ``contains`` a body substring) or "command" (run on the host; exit 0 = healthy).
    timeout: seconds; a probe that takes longer has failed ("timed out").
    """

    kind: str
    target: str
    timeout: float = DEFAULT_PROBE_TIMEOUT
    status: int = 200
    contains: str | None = None
    verify_tls: bool = True

    def describe(self) -> str:
        return f"{self.kind} {self.target}"


@dataclass(frozen=True)
class ServiceSpec:
    """One service on one host, resolved from the host vars and the shipped defaults.

    ``key`` ("web1:nginx") names it across hosts; ``depends_on`` holds such keys.
    """

    host: str
    name: str
    manager: str
    kind: str | None = None
    unit: str | None = None
    script: str | None = None
    start: str | None = None
    stop: str | None = None
    status: str | None = None
    pid_file: str | None = None
    probes: tuple[Probe, ...] = ()
    depends_on: tuple[str, ...] = ()
    start_timeout: float = DEFAULT_START_TIMEOUT
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    sudo: bool | None = None

    @property
    def key(self) -> str:
        return f"{self.host}:{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "name": self.name, "manager": self.manager, "kind": self.kind,
                "unit": self.unit, "pid_file": self.pid_file, "depends_on": list(self.depends_on),
                "probes": [p.describe() for p in self.probes]}


class _Where:
    """File/line of a value for error messages; plain dicts (from ``-e``) fall back to the host."""

    def __init__(self, host: Host, value: Any, field: str) -> None:
        self.host = host
        self.value = value
        self.field = field

    def error(self, message: str, key: str | None = None) -> ConfigError:
        field = f"{self.field}.{key}" if key is not None else self.field
        if isinstance(self.value, SourceMap):
            line = self.value.line_of(key) if key is not None else self.value.line
            return ConfigError(message, file=self.value.file, line=line, field=field)
        return ConfigError(message, file=self.host.file, line=self.host.line, field=field)


def host_services(host: Host, vars: Mapping[str, Any] | None = None) -> dict[str, ServiceSpec]:
    """The services declared for ``host`` (its ``services`` var), by name, validated."""
    vars = host.vars if vars is None else vars
    raw = vars.get("services")
    if raw is None:
        return {}
    where = _Where(host, raw, "vars.services")
    if not isinstance(raw, Mapping):
        raise where.error(f"must be a mapping of service name to settings, not {type(raw).__name__}")
    family = vars.get("os_family", "debian")
    if family not in OS_FAMILIES:
        raise _Where(host, vars, "vars").error(f"must be one of {', '.join(OS_FAMILIES)}, not {family!r}",
                                              "os_family")
    return {str(name): _service(host, str(name), entry, raw, family) for name, entry in raw.items()}


def _service(host: Host, name: str, entry: Any, parent: Any, family: str) -> ServiceSpec:
    field = f"vars.services.{name}"
    if entry is None:
        entry = {}
    if not isinstance(entry, Mapping):
        raise _Where(host, parent, "vars.services").error("must be a mapping of settings", name)
    where = _Where(host, entry, field)
    for key in entry:
        if key not in SERVICE_KEYS:
            raise where.error(f"unknown key (expected one of: {', '.join(sorted(SERVICE_KEYS))})", str(key))
    kind = entry.get("kind")
    if kind is not None and kind_of(str(kind)) is None:
        raise where.error(f"unknown kind {kind!r} (shipped: {', '.join(KINDS)})", "kind")
    kind = kind_of(str(kind)) if kind is not None else kind_of(name)
    merged: dict[str, Any] = defaults_for(kind, family) if kind else {}
    merged.update(entry)
    manager = merged.get("manager") or ("command" if merged.get("start") else None)
    if manager not in MANAGERS:
        raise where.error(f"must be one of {', '.join(MANAGERS)}" + (f", not {manager!r}" if manager else
                          " (or give start/stop commands)"), "manager" if "manager" in entry else None)
    text = {k: _text(where, merged, k) for k in ("unit", "name", "start", "stop", "status", "pid_file")}
    if manager == "systemd" and not text["unit"]:
        text["unit"] = name
    if manager == "sysv" and not text["name"]:
        text["name"] = name
    if manager == "command":
        for key in ("start", "stop"):
            if not text[key]:
                raise where.error("required for manager 'command'", key if key in entry else None)
        if not text["status"] and not text["pid_file"]:
            raise where.error("manager 'command' needs a status command or a pid_file", None)
    sudo = merged.get("sudo")
    if sudo is not None and not isinstance(sudo, bool):
        raise where.error("must be true or false", "sudo")
    return ServiceSpec(
        host=host.name, name=name, manager=manager, kind=kind, unit=text["unit"], script=text["name"],
        start=text["start"], stop=text["stop"], status=text["status"], pid_file=text["pid_file"],
        probes=_probes(host, where, merged.get("probes", []), entry),
        depends_on=_depends(host, where, merged.get("depends_on", [])),
        start_timeout=_duration(where, merged, "start_timeout", DEFAULT_START_TIMEOUT),
        stop_timeout=_duration(where, merged, "stop_timeout", DEFAULT_STOP_TIMEOUT), sudo=sudo)


def _text(where: _Where, merged: Mapping[str, Any], key: str) -> str | None:
    value = merged.get(key)
    if value is None:
        return None
    if isinstance(value, (Mapping, list, bool)):
        raise where.error(f"must be a string, not {type(value).__name__}", key)
    return str(value)


def _duration(where: _Where, merged: Mapping[str, Any], key: str, default: float) -> float:
    if key not in merged:
        return default
    try:
        seconds = parse_duration(merged[key])
    except ValueError as exc:
        raise where.error(str(exc), key) from None
    if seconds <= 0:
        raise where.error("must be more than 0", key)
    return seconds


def _depends(host: Host, where: _Where, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise where.error('must be a list like ["app1:gunicorn", "postgresql"]', "depends_on")
    return tuple(v if ":" in v else f"{host.name}:{v}" for v in (s.strip() for s in value))


def _probes(host: Host, where: _Where, value: Any, entry: Mapping[str, Any]) -> tuple[Probe, ...]:
    if not isinstance(value, list):
        raise where.error("must be a list of {tcp: port} | {http: url} | {command: cmd}", "probes")
    probes = []
    for i, spec in enumerate(value):
        at = _Where(host, spec if isinstance(spec, SourceMap) else entry, f"{where.field}.probes[{i}]")
        if not isinstance(spec, Mapping):
            raise at.error("must be a mapping like {tcp: 8080}")
        unknown = [k for k in spec if k not in PROBE_KEYS]
        kinds = [k for k in PROBE_KINDS if k in spec]
        if unknown:
            raise at.error(f"unknown key (expected one of: {', '.join(sorted(PROBE_KEYS))})", str(unknown[0]))
        if len(kinds) != 1:
            raise at.error("needs exactly one of tcp, http, command")
        kind = kinds[0]
        target = spec[kind]
        if kind == "tcp":
            target = _tcp_target(at, target, host.address)
        elif not isinstance(target, str) or not target.strip():
            raise at.error("must be a non-empty string", kind)
        elif kind == "http" and not target.startswith(("http://", "https://")):
            raise at.error("must be an http:// or https:// URL", kind)
        timeout = _duration(at, spec, "timeout", DEFAULT_PROBE_TIMEOUT)
        status = spec.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int):
            raise at.error("must be an HTTP status number", "status")
        contains = spec.get("contains")
        probes.append(Probe(kind, str(target), timeout, status, None if contains is None else str(contains),
                            spec.get("verify_tls", True) is not False))
    return tuple(probes)


def _tcp_target(at: _Where, value: Any, address: str) -> str:
    """``8080`` is a port on the host's own address; ``"10.0.0.5:8080"`` names another."""
    if isinstance(value, int) and not isinstance(value, bool):
        port, host = value, address
    elif isinstance(value, str) and value.rpartition(":")[2].isdigit():
        host, _, port_text = value.rpartition(":")
        port, host = int(port_text), host.strip("[]") or address
    else:
        raise at.error("must be a port number or address:port", "tcp")
    if not 0 < port < 65536:
        raise at.error("must be a port number 1-65535", "tcp")
    return f"{host}:{port}"

