"""What a journal event says about a host's health, as observations with catalogue messages.

Part of reading the journal (with ``build`` and ``sections``): the only place that knows the
JSON of runbook.health's checks, of ``services.status`` and ``processes.hung``. Checks carry
their message id and typed args (``msg``/``args``); journals written before they did are read
from the check's fields the same way, so an old night still reads in German.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from runbook.reports.model import Message, Observation

#: layers at which the host itself does not answer; hostkey and auth are our access's problem.
NETWORK_LAYERS = ("dns", "tcp", "ssh")
_AREA = {"disk": "disk", "inodes": "disk", "memory": "memory", "swap": "memory", "load": "load",
         "http": "probe", "tcp": "probe", "reachability": "reach"}
_STATUS = re.compile(r"status (\d{3}), expected (\d{3})")


def reach(host: str, ts: datetime, run_id: str, layer: str | None, detail: str,
          answering: list[str] | None = None) -> Observation:
    """A host we could not reach: down at the network level, or our own access refused."""
    layer = layer or "tcp"
    args: dict[str, Any] = {"layer": layer, "answering": list(answering or [])}
    if layer not in NETWORK_LAYERS:
        return Observation(host, "reachability", ts, run_id, "UNKNOWN", Message("check.access", args), "access",
                           detail=detail)
    status = "UNKNOWN" if answering else "UNREACHABLE"
    return Observation(host, "reachability", ts, run_id, status, Message("check.unreachable", args), "reach",
                       detail=detail)


def reached(host: str, ts: datetime, run_id: str) -> Observation:
    """A step did its work on the host: it answers, and our access works."""
    return Observation(host, "reachability", ts, run_id, "OK", Message("check.reached"), "reach")


def from_check(check: Mapping[str, Any], host: str, ts: datetime, run_id: str) -> Observation:
    """One runbook.health check (as ``Check.to_json`` wrote it) as an observation."""
    name = str(check.get("name") or "?")
    kind, _, target = name.partition(":")
    status = str(check.get("status") or "UNKNOWN")
    if name == "reachability":
        return reach(host, ts, run_id, check.get("layer"), str(check.get("message") or ""),
                     (check.get("args") or {}).get("answering") if isinstance(check.get("args"), Mapping) else None)
    msg = check.get("msg")
    if isinstance(msg, str) and msg:
        message = Message(f"check.{msg}", dict(check.get("args") or {}))
    else:
        message = _legacy(check, kind, target)
    area = "unknown" if message.id == "check.unknown" else _AREA.get(kind, "other")
    return Observation(host, name, ts, run_id, status, message, area, value=_num(check.get("value")),
                       warn=_num(check.get("warn")), crit=_num(check.get("crit")), unit=str(check.get("unit") or ""),
                       direction=str(check.get("direction") or "above"), detail=str(check.get("message") or ""))


def _legacy(check: Mapping[str, Any], kind: str, target: str) -> Message:
    """The message of a check journalled before checks named their message id."""
    value = check.get("value")
    if check.get("status") == "UNKNOWN" and check.get("reason"):
        return Message("check.unknown", {"aspect": check.get("name")})
    if kind in ("http", "tcp") and target:
        detail = str(check.get("message") or "").removeprefix(target).strip()
        status = _STATUS.search(detail)
        reason = "status" if status else "timeout" if "timed out" in detail else "ok" if check.get(
            "status") == "OK" else "error"
        return Message("check.probe", {"kind": kind, "target": target, "reason": reason,
                                       "http_status": int(status[1]) if status else None,
                                       "expected": int(status[2]) if status else None})
    if value is None:
        return Message("check.other", {"name": check.get("name")})
    if kind == "disk" and target and check.get("free_bytes") is not None:
        return Message("check.disk", {"mount": target, "used_percent": value, "free_bytes": check["free_bytes"]})
    if kind == "inodes" and target:
        return Message("check.inodes", {"mount": target, "used_percent": value})
    if kind == "memory" and check.get("total_bytes") is not None:
        return Message("check.memory", {"available_percent": value, "available_bytes": check.get("available_bytes"),
                                        "total_bytes": check["total_bytes"]})
    if kind == "swap" and check.get("swap_total_bytes"):
        return Message("check.swap", {"used_percent": value, "used_bytes": check.get("swap_used_bytes"),
                                      "total_bytes": check["swap_total_bytes"]})
    if kind == "swap":
        return Message("check.swap_none")
    if kind == "load" and check.get("cpu_count"):
        return Message("check.load", {"load_per_cpu": value, "cpus": check["cpu_count"]})
    return Message("check.other", {"name": check.get("name")})


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def probe_message(probe: Mapping[str, Any], service: str) -> Message:
    """A failed service probe (runbook.facts ProbeResult JSON); a command probe is named by its
    service, because its target is a shell command line the customer must not read."""
    reason = probe.get("reason")
    if reason is None:  # a journal from before probes said why
        detail = str(probe.get("detail") or "")
        status = _STATUS.search(detail)
        reason = "status" if status else "timeout" if "timed out" in detail else "error"
        http_status, expected = (int(status[1]), int(status[2])) if status else (None, None)
    else:
        http_status, expected = probe.get("http_status"), probe.get("expected")
    kind = str(probe.get("kind") or "")
    target = service if kind == "command" else str(probe.get("target") or "")
    return Message("check.probe", {"kind": kind, "target": target, "reason": reason,
                                   "http_status": http_status, "expected": expected})


def from_services(data: Mapping[str, Any], host: str, ts: datetime, run_id: str) -> Iterator[Observation]:
    """``services.status`` results: one observation per service."""
    for entry in data.get("services") or ():
        if not isinstance(entry, Mapping):
            continue
        name = str(entry.get("service") or "?").partition(":")[2] or str(entry.get("service"))
        key = f"service:{name}"
        if entry.get("healthy"):
            yield Observation(host, key, ts, run_id, "OK", Message("check.service_ok", {"service": name}), "service")
            continue
        failed = [p for p in entry.get("probes") or () if isinstance(p, Mapping) and not p.get("ok")]
        if entry.get("state") != "running":
            message = Message("check.service_down", {"service": name})
        elif failed:
            message = Message("check.service_unhealthy", {"service": name, "probe": probe_message(failed[0], name)})
        else:
            message = Message("check.service_unhealthy_plain", {"service": name})
        detail = "; ".join(f"{p.get('target')} {p.get('detail')}" for p in failed) or str(entry.get("state"))
        yield Observation(host, key, ts, run_id, "CRITICAL", message, "service", detail=detail)


def from_gate(ev: Mapping[str, Any], host: str, ts: datetime, run_id: str) -> Observation | None:
    """A controlled restart's health gate (a ``service`` event with op "gate")."""
    if ev.get("op") != "gate":
        return None
    name = str(ev.get("service") or "?").partition(":")[2] or str(ev.get("service"))
    if ev.get("ok"):
        return Observation(host, f"service:{name}", ts, run_id, "OK", Message("check.service_ok", {"service": name}),
                           "service")
    return Observation(host, f"service:{name}", ts, run_id, "CRITICAL",
                       Message("check.service_unhealthy_plain", {"service": name}), "service",
                       detail=str(ev.get("detail") or ""))


def from_hung(data: Mapping[str, Any], host: str, ts: datetime, run_id: str) -> Observation:
    """``processes.hung``: hung processes found (by service where a rule names one), or none.
    A one-off find, not a state: ending them is a measure, and the re-checks say the rest."""
    hung = [h for h in data.get("hung") or () if isinstance(h, Mapping)]
    if not hung:
        return Observation(host, "hung", ts, run_id, "OK", Message("check.hung_none"), "process", state=False)
    services = sorted({str(h["service"]) for h in hung if h.get("service")})
    names = sorted({str(h.get("command") or "?").split()[0].rsplit("/", 1)[-1] for h in hung if not h.get("service")})
    message = Message("check.hung" if services else "check.hung_named",
                      {"count": len(hung), "services": services, "names": names})
    detail = "; ".join(f"pid {h.get('pid')}: {h.get('reason')}" for h in hung)
    return Observation(host, "hung", ts, run_id, "CRITICAL", message, "process", state=False, detail=detail)


def hung_services(data: Mapping[str, Any]) -> dict[str, str]:
    """pid -> the service a hung process belongs to, from ``processes.hung`` data."""
    return {str(h.get("pid")): str(h["service"]) for h in data.get("hung") or ()
            if isinstance(h, Mapping) and h.get("service")}
