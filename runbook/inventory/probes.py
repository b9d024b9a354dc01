"""The service probes an inventory declares for a host: ``service_ports`` and ``http_checks``.

Checked when the inventory is loaded (file, line and field), so that a probe never meets a
value it cannot use: an URL that is not http(s), a port out of range, a status that is no
number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runbook.inventory.addresses import AddressError, check_address
from runbook.yamlsource import SourceMap

HTTP_CHECK_KEYS = {"url", "status", "timeout", "contains", "verify_tls"}


def http_checks(spec: SourceMap, host: str) -> list[dict[str, Any]]:
    """The host's ``http_checks``: each an http(s) URL (or {url, status, timeout, contains,
    verify_tls}), checked here so that a probe never meets a value it cannot use."""
    http_checks = spec.get("http_checks", [])
    if not isinstance(http_checks, list):
        raise spec.error("must be a list of {url, status, timeout}", key="http_checks",
                         field=f"hosts.{host}.http_checks")
    checks = []
    for i, check in enumerate(http_checks):
        field = f"hosts.{host}.http_checks[{i}]"
        where = check if isinstance(check, SourceMap) else spec
        line_key = None if isinstance(check, SourceMap) else "http_checks"
        if isinstance(check, str):
            check = {"url": check}
        if not isinstance(check, Mapping) or not isinstance(check.get("url"), str):
            raise where.error(f"entry {i} needs a url", key=line_key, field=field)
        unknown = sorted(str(k) for k in check if k not in HTTP_CHECK_KEYS)
        if unknown:
            raise where.error(f"unknown key {unknown[0]!r} (expected: {', '.join(sorted(HTTP_CHECK_KEYS))})",
                              key=line_key, field=field)
        problem = _http_check_problem(check)
        if problem:
            raise where.error(problem, key=line_key, field=field)
        checks.append(dict(check))
    return checks


def _http_check_problem(check: Mapping[str, Any]) -> str | None:
    url = check["url"]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"url {url!r}: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"url {url!r} is not an http:// or https:// URL with a host"
    try:
        check_address(parts.hostname)
    except AddressError as exc:
        return f"url {url!r}: {exc}"
    if port == 0:
        return f"url {url!r}: port 0"
    status = check.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return f"status {status!r} is not an HTTP status (100-599)"
    timeout = check.get("timeout", 1)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        return f"timeout {timeout!r} is not a number of seconds > 0"
    if "verify_tls" in check and not isinstance(check["verify_tls"], bool):
        return f"verify_tls {check['verify_tls']!r} is not true or false"
    if "contains" in check and not isinstance(check["contains"], str):
        return f"contains {check['contains']!r} is not a string"
    return None
