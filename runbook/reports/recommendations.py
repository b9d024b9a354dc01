"""What the customer is advised to do, derived from the findings, failures and evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runbook.reports.model import HostReport, Recommendation

# Above this share of a mount in use after the clean-up, space will run out again soon.
DISK_CAPACITY_PERCENT = 80.0

_AREAS = (
    ("disk", ("disk", "inode", "filesystem", "mount", "space")),
    ("memory", ("memory", "mem", "swap", "oom")),
    ("load", ("load", "cpu")),
    ("service", ("service", "process", "http", "port", "systemd", "unit", "url", "tcp")),
)


def check_area(name: str, details: Any = None) -> str:
    """Which recommendation family a check belongs to: disk, memory, load, service or other."""
    lowered = name.lower()
    for area, words in _AREAS:
        if any(w in lowered for w in words):
            return area
    if isinstance(details, dict) and "mount" in details:
        return "disk"
    return "other"


def recommendations(hosts: Sequence[HostReport]) -> tuple[Recommendation, ...]:
    """Advice per host, derived from findings, failures, evidence and the current state."""
    out: dict[tuple[str, tuple[tuple[str, str], ...]], Recommendation] = {}

    def add(msgid: str, **args: Any) -> None:
        key = (msgid, tuple(sorted((k, str(v)) for k, v in args.items())))
        out.setdefault(key, Recommendation(msgid, args))

    for host in hosts:
        for change in (d for ev in host.evidence for d in ev.disks):
            if change.used_after is not None and change.used_after >= DISK_CAPACITY_PERCENT:
                add("rec.disk_capacity", host=host.name, mount=change.mount, used=change.used_after)
        for finding in host.findings:
            area = check_area(finding.check, finding.details)
            mount = finding.details.get("mount") if isinstance(finding.details, dict) else None
            if area == "disk":
                add("rec.disk", host=host.name, what=mount or finding.check)
            elif area in ("memory", "load", "service"):
                # a probe's name is "http:<url>"; the URL alone reads better
                kind, _, target = finding.check.partition(":")
                add(f"rec.{area}", host=host.name, check=target if kind in ("http", "tcp") and target
                    else finding.check)
            else:
                add("rec.other", host=host.name, check=finding.check)
        for failure in host.failures:
            if failure.outcome == "unreachable":
                add("rec.unreachable", host=host.name, layer=failure.layer or "")
            else:
                add("rec.failed", host=host.name)
        if host.current is not None and host.current.status != "OK":
            add("rec.still_open", host=host.name, status=host.current.status)
    return tuple(out.values())
