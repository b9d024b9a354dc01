"""Reachability from where runbook runs: TCP ports and HTTP(S) URLs of a host, with latency.

These probes need no SSH: they tell what still works when SSH does not ("HTTP answers, SSH
is down"), and the layer that fails when nothing does. Each probe is bounded by its timeout.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from runbook.connection.tcp import TcpError, open_tcp


@dataclass(frozen=True)
class ProbeResult:
    """One probe: kind ("tcp" | "http" | "command"), target, ok, a one-line detail, latency in ms.

    ``reason`` says why a probe failed in a word a report can put in the customer's language:
    timeout, dns (the name does not resolve), connect (no connection), status (``http_status`` instead of ``expected``), body
    (the expected text is missing), exit (a command probe's exit status), not_run, error.
    """

    kind: str
    target: str
    ok: bool
    detail: str
    latency_ms: float | None = None
    reason: str | None = None
    http_status: int | None = None
    expected: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "target": self.target, "ok": self.ok, "detail": self.detail,
                "latency_ms": self.latency_ms, "reason": self.reason, "http_status": self.http_status,
                "expected": self.expected}


def probe_tcp(address: str, port: int, timeout: float) -> ProbeResult:
    """Can a TCP connection to address:port be opened within ``timeout``?"""
    target = f"{address}:{port}"
    started = time.monotonic()
    try:
        open_tcp(address, port, timeout).close()
    except TcpError as exc:
        return ProbeResult("tcp", target, False, exc.reason,
                           reason="dns" if exc.layer == "dns" else "timeout" if "timed out" in exc.reason else "connect")
    return ProbeResult("tcp", target, True, "open", round((time.monotonic() - started) * 1000, 1))


def probe_http(spec: Mapping[str, Any], default_timeout: float) -> ProbeResult:
    """GET a URL; ok when the status is the expected one (``status``, default 200) in time.

    ``spec``: url, status (int, default 200), timeout (seconds), contains (a body substring),
    verify_tls (default true).
    """
    import http.client  # with ssl, 10 ms of every start: imported by the sweeps that probe URLs
    import ssl

    url = str(spec["url"])
    expected = int(spec.get("status", 200))
    timeout = float(spec.get("timeout", default_timeout))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ProbeResult("http", url, False, "not an http(s) URL", reason="error")
    started = time.monotonic()
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if spec.get("verify_tls", True) is False:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("GET", path, headers={"User-Agent": "runbook-probe", "Connection": "close"})
        response = conn.getresponse()
        body = response.read(256 * 1024)
    except (OSError, http.client.HTTPException) as exc:
        reason = "timed out" if isinstance(exc, (socket.timeout, TimeoutError)) else str(exc) or type(exc).__name__
        why = ("timeout" if reason == "timed out" else "dns" if isinstance(exc, socket.gaierror)
               else "connect" if isinstance(exc, OSError) else "error")
        return ProbeResult("http", url, False, reason, reason=why)
    finally:
        conn.close()
    latency = round((time.monotonic() - started) * 1000, 1)
    if response.status != expected:
        return ProbeResult("http", url, False, f"status {response.status}, expected {expected}", latency,
                           reason="status", http_status=response.status, expected=expected)
    needle = spec.get("contains")
    if needle and str(needle).encode() not in body:
        return ProbeResult("http", url, False, f"status {response.status} but body lacks {needle!r}", latency,
                           reason="body", http_status=response.status)
    return ProbeResult("http", url, True, f"status {response.status}", latency, http_status=response.status)


def probe_inventory(address: str, ports: Sequence[int], http_checks: Sequence[Mapping[str, Any]],
                    timeout: float) -> list[ProbeResult]:
    """The probes a host's inventory entry declares: its ``service_ports`` and ``http_checks``."""
    return ([probe_tcp(address, port, timeout) for port in ports]
            + [probe_http(spec, timeout) for spec in http_checks])
