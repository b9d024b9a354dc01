"""The runs under a runs directory, found by their first journal line: newest first, filtered
by kind, customer, incident and time, without reading whole journals (a month of 5-minute
sweeps is 8,640 of them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from runbook.journal import iter_runs, parse_ts

#: what ``--kind`` takes: run (playbooks), sweep, exec (ad-hoc commands), shell (interactive)
KINDS = ("run", "sweep", "exec", "shell")


@dataclass(frozen=True)
class RunStart:
    """What a run's ``run.start`` says about it."""

    run_id: str
    kind: str
    started: datetime | None
    playbook: str
    incident: str | None
    customers: tuple[str, ...]
    hosts: int
    path: Path


def read_start(run_dir: Path) -> RunStart:
    """The run's ``run.start`` (an unreadable first line gives an empty record, never an error:
    one damaged journal must not hide the others)."""
    try:
        with open(run_dir / "journal.jsonl", encoding="utf-8") as fh:
            start = json.loads(fh.readline())
    except (OSError, ValueError):
        start = {}
    if not isinstance(start, dict) or start.get("event") != "run.start":
        start = {}
    try:
        started = parse_ts(start["ts"]) if start.get("ts") else None
    except ValueError:
        started = None
    return RunStart(run_id=run_dir.name, kind=str(start.get("kind") or "run"), started=started,
                    playbook=str((start.get("playbook") or {}).get("name") or ""), incident=start.get("incident"),
                    customers=tuple(sorted(start.get("customers") or {})), hosts=len(start.get("hosts") or []),
                    path=run_dir)


def find_runs(runs_dir: Path, *, kind: str | None = None, customer: str | None = None,
              incident: str | None = None, since: datetime | None = None) -> list[RunStart]:
    """The runs that match every filter given, newest first. ``customer`` is a slug."""
    found = []
    for run_dir in iter_runs(runs_dir):
        start = read_start(run_dir)
        if kind is not None and start.kind != kind:
            continue
        if customer is not None and customer not in start.customers:
            continue
        if incident is not None and start.incident != incident:
            continue
        if since is not None and (start.started is None or start.started < since):
            continue
        found.append(start)
    found.reverse()
    return found


def runs_with_prefix(runs_dir: Path, prefix: str) -> list[RunStart]:
    """Every run whose id is ``prefix`` or starts with it, newest first (an exact id alone)."""
    matches = [read_start(p) for p in iter_runs(runs_dir) if p.name.startswith(prefix)]
    exact = [m for m in matches if m.run_id == prefix]
    return exact or list(reversed(matches))
