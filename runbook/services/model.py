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
        config_check: /srv/shop/bin/check-config   # exit 0 = the next start will accept it
        log: /srv/shop/log/gunicorn.log   # its last lines say why a start failed

Keys: kind, manager, unit (systemd), name (sysv script), start, stop, status, pid_file,
probes, depends_on, start_timeout, stop_timeout, sudo, config_check, log. Mistakes raise
ConfigError naming the var, the file and the line.

``config_check`` is a command line run on the host before a controlled restart stops
anything (``runbook.services.config_check``); ``false`` or null switches it off. The shipped
kinds bring their checker (``nginx -t``, ``apache2ctl configtest``, ...; see
``runbook.services.defaults``) unless the entry starts the service with commands of its own
(manager ``command``): then the checker, too, is the inventory's to name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runbook.hostvars import HostVar, HostVars, Located
from runbook.inventory.model import Host
from runbook.services.defaults import KINDS, OS_FAMILIES, defaults_for, kind_of

MANAGERS = ("systemd", "sysv", "command")
SERVICE_KEYS = {"kind", "manager", "unit", "name", "start", "stop", "status", "pid_file", "probes",
                "depends_on", "start_timeout", "stop_timeout", "sudo", "config_check", "log"}
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
    config_check: str | None = None
    log: str | None = None

    @property
    def key(self) -> str:
        return f"{self.host}:{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "name": self.name, "manager": self.manager, "kind": self.kind,
                "unit": self.unit, "pid_file": self.pid_file, "depends_on": list(self.depends_on),
                "probes": [p.describe() for p in self.probes], "config_check": self.config_check}


def key_host(key: str) -> str:
    """The host of a service key ("web1:nginx" -> "web1", as ``ServiceSpec.key`` makes it)."""
    return key.partition(":")[0]


def host_services(host: Host, vars: Mapping[str, Any] | None = None) -> dict[str, ServiceSpec]:
    """The services declared for ``host`` (its ``services`` var), by name, validated."""
    return HostVars.of(host, vars).read(SERVICES)


def _os_family(at: Located, vars: HostVars) -> str:
    if at.value not in OS_FAMILIES:
        raise at.error(f"must be one of {', '.join(OS_FAMILIES)}, not {at.value!r}")
    return str(at.value)


OS_FAMILY: HostVar[str] = HostVar("os_family", " or ".join(OS_FAMILIES), "debian",
                                  "runbook.services.defaults", _os_family)


def _services(at: Located, vars: HostVars) -> dict[str, ServiceSpec]:
    host = vars.host
    if host is None:
        raise TypeError("services are read for an inventory host")
    at.mapping("a mapping of service name to settings")
    family = vars.read(OS_FAMILY)
    return {str(name): _service(host, str(name), entry, family) for name, entry in at.members()}


def _service(host: Host, name: str, at: Located, family: str) -> ServiceSpec:
    entry = {} if at.value is None else at.mapping("a mapping of settings")
    if entry:
        at.keys_among(SERVICE_KEYS)
    kind = entry.get("kind")
    if kind is not None and kind_of(str(kind)) is None:
        raise at.error(f"unknown kind {kind!r} (shipped: {', '.join(KINDS)})", "kind")
    kind = kind_of(str(kind)) if kind is not None else kind_of(name)
    merged: dict[str, Any] = defaults_for(kind, family) if kind else {}
    merged.update(entry)

    def setting(key: str) -> Located:
        """A key of the entry at its line; a shipped default's at the entry's."""
        return at.member(key) if key in entry else Located(merged.get(key), at.file, at.line, f"{at.field}.{key}")

    manager = merged.get("manager") or ("command" if merged.get("start") else None)
    if manager not in MANAGERS:
        raise at.error(f"must be one of {', '.join(MANAGERS)}" + (f", not {manager!r}" if manager else
                       " (or give start/stop commands)"), "manager" if "manager" in entry else None)
    text = {k: None if merged.get(k) is None else setting(k).text()
            for k in ("unit", "name", "start", "stop", "status", "pid_file")}
    if manager == "systemd" and not text["unit"]:
        text["unit"] = name
    if manager == "sysv" and not text["name"]:
        text["name"] = name
    if manager == "command":
        for key in ("start", "stop"):
            if not text[key]:
                raise at.error("required for manager 'command'", key if key in entry else None)
        if not text["status"] and not text["pid_file"]:
            raise at.error("manager 'command' needs a status command or a pid_file")
    sudo = None if merged.get("sudo") is None else setting("sudo").flag()
    # A kind's checker tests the packaged service; one the inventory starts itself may run
    # another binary on another file, so only a check the entry names is trusted then.
    check = setting("config_check") if manager != "command" or "config_check" in entry else None
    return ServiceSpec(
        host=host.name, name=name, manager=manager, kind=kind, unit=text["unit"], script=text["name"],
        start=text["start"], stop=text["stop"], status=text["status"], pid_file=text["pid_file"],
        probes=_probes(setting("probes"), host.address),
        depends_on=_depends(setting("depends_on"), host.name),
        start_timeout=setting("start_timeout").duration() if "start_timeout" in merged else DEFAULT_START_TIMEOUT,
        stop_timeout=setting("stop_timeout").duration() if "stop_timeout" in merged else DEFAULT_STOP_TIMEOUT,
        sudo=sudo, config_check=None if check is None else _config_check(check),
        log=None if merged.get("log") is None else setting("log").text())


def _config_check(at: Located) -> str | None:
    """A command line, or false/null: no check."""
    if at.value is None or at.value is False:
        return None
    if not isinstance(at.value, str) or not at.value.strip():
        raise at.error("must be a command line (exit 0 = the configuration is good), or false to switch the "
                       f"check off, not {at.value!r}")
    return at.value


def _depends(at: Located, host: str) -> tuple[str, ...]:
    if at.value is None:
        return ()
    names = [item.value.strip() for item in at.strings('a list like ["app1:gunicorn", "postgresql"]')]
    if not all(names):
        raise at.error('must be a list like ["app1:gunicorn", "postgresql"]')
    return tuple(v if ":" in v else f"{host}:{v}" for v in names)


def _probes(at: Located, address: str) -> tuple[Probe, ...]:
    if at.value is None:
        return ()
    probes = []
    for probe in at.items("a list of {tcp: port} | {http: url} | {command: cmd}"):
        spec = probe.mapping("a mapping like {tcp: 8080}")
        probe.keys_among(PROBE_KEYS)
        kinds = [k for k in PROBE_KINDS if k in spec]
        if len(kinds) != 1:
            raise probe.error("needs exactly one of tcp, http, command")
        kind = kinds[0]
        target = spec[kind]
        if kind == "tcp":
            target = _tcp_target(probe.member("tcp"), address)
        elif not isinstance(target, str) or not target.strip():
            raise probe.error("must be a non-empty string", kind)
        elif kind == "http" and not target.startswith(("http://", "https://")):
            raise probe.error("must be an http:// or https:// URL", kind)
        timeout = probe.member("timeout").duration() if "timeout" in spec else DEFAULT_PROBE_TIMEOUT
        status = spec.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int):
            raise probe.error("must be an HTTP status number", "status")
        contains = spec.get("contains")
        probes.append(Probe(kind, str(target), timeout, status, None if contains is None else str(contains),
                            spec.get("verify_tls", True) is not False))
    return tuple(probes)


def _tcp_target(at: Located, address: str) -> str:
    """``8080`` is a port on the host's own address; ``"10.0.0.5:8080"`` names another."""
    value = at.value
    if isinstance(value, int) and not isinstance(value, bool):
        port, host = value, address
    elif isinstance(value, str) and value.rpartition(":")[2].isdigit():
        host, _, port_text = value.rpartition(":")
        port, host = int(port_text), host.strip("[]") or address
    else:
        raise at.error("must be a port number or address:port")
    if not 0 < port < 65536:
        raise at.error("must be a port number 1-65535")
    return f"{host}:{port}"


SERVICES: HostVar[dict[str, ServiceSpec]] = HostVar(
    "services", "a mapping of service name to {manager, unit, probes, depends_on, config_check, ...}", {}, __name__, _services)
#: what every action that reads a host's services reads
SERVICE_VARS: tuple[HostVar[Any], ...] = (OS_FAMILY, SERVICES)
