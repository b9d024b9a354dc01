"""What earlier sweeps found, per host and check, read back from their journals.

``runbook history`` shows each check's status over time (newest first) so "since when is /var
at 91 %?" has an answer; ``runbook forecast`` and the alerting of ``runbook sweep --alert``
read the same points.

A sweep's journal holds every command's output and every fact; a check's point is a small part
of it. Once a sweep has ended its journal no longer changes, so its points are kept beside it
in ``sweep-points.json`` (rebuilt from the journal whenever it is missing or unreadable): a
week of 5-minute sweeps is then read in a fraction of the time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runbook.errors import RunbookError
from runbook.journal import parse_ts
from runbook.health.verdict import Sweep, load_sweep

POINTS_FILE = "sweep-points.json"
POINTS_VERSION = 1
REACHABILITY = "reachability"


@dataclass(frozen=True)
class CheckPoint:
    """One check of one host in one sweep.

    check: "disk:/var", "inodes:/var", "memory", "swap", "load", "reachability" (OK when the
    host was reached), ...; value: the measured value in the check's unit; used_bytes and
    size_bytes: a disk check's filesystem; crit: the critical threshold in the value's unit.
    """

    run_id: str
    at: datetime
    host: str
    customer: str
    check: str
    status: str
    value: float | None
    message: str
    used_bytes: int | None = None
    size_bytes: int | None = None
    crit: float | None = None

    def row(self) -> list[Any]:
        return [self.host, self.customer, self.check, self.status, self.value, self.message,
                self.used_bytes, self.size_bytes, self.crit]


@dataclass(frozen=True)
class SweepRecord:
    """The points of one finished sweep."""

    run_id: str
    started: datetime
    run_status: str
    points: tuple[CheckPoint, ...]


def points_of(sweep: Sweep) -> tuple[CheckPoint, ...]:
    """Every host's checks in ``sweep``, and a reachability point for every host."""
    at = parse_ts(sweep.started)
    points = []
    for h in sweep.hosts:
        if h.message == "not checked":
            continue  # never started (an interrupted sweep): nothing is known about it
        names = {c.get("name") for c in h.checks}
        if REACHABILITY not in names:
            points.append(CheckPoint(sweep.run_id, at, h.name, h.customer, REACHABILITY,
                                     "OK" if h.outcome != "unreachable" else h.status.name, None,
                                     "reached over SSH" if h.outcome != "unreachable" else h.message))
        for c in h.checks:
            size = c.get("size_bytes")
            free = c.get("free_bytes")
            used = size - free if isinstance(size, int) and isinstance(free, int) else None
            points.append(CheckPoint(sweep.run_id, at, h.name, h.customer, str(c.get("name")), str(c.get("status")),
                                     c.get("value"), str(c.get("message", "")), used, size, c.get("crit")))
    return tuple(points)


def load_record(run_dir: Path) -> SweepRecord | None:
    """The points of the sweep in ``run_dir`` (from its cache when it has one); None when the
    run is not a sweep."""
    cached = _read_cache(run_dir)
    if cached is not None:
        return cached
    sweep = load_sweep(run_dir)
    record = SweepRecord(sweep.run_id, parse_ts(sweep.started), sweep.run_status, points_of(sweep))
    if sweep.ended is not None:
        _write_cache(run_dir, record)
    return record


def _read_cache(run_dir: Path) -> SweepRecord | None:
    try:
        data = json.loads((run_dir / POINTS_FILE).read_text(encoding="utf-8"))
        if data.get("version") != POINTS_VERSION:
            return None
        at = parse_ts(data["started"])
        points = tuple(CheckPoint(data["run_id"], at, *row) for row in data["points"])
        return SweepRecord(data["run_id"], at, data["run_status"], points)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: the journal is the truth, read it again


def _write_cache(run_dir: Path, record: SweepRecord) -> None:
    data = {"version": POINTS_VERSION, "run_id": record.run_id, "started": record.started.isoformat(),
            "run_status": record.run_status, "points": [p.row() for p in record.points]}
    tmp = run_dir / (POINTS_FILE + ".tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, run_dir / POINTS_FILE)
    except OSError:
        pass  # a read-only archive of journals: the points are read from the journal each time


def run_started(run_dir: Path) -> datetime | None:
    """The start of a run from its directory name (20261125T023014Z-3f9a), without opening it."""
    try:
        return datetime.strptime(run_dir.name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def is_sweep(run_dir: Path) -> bool:
    """Whether the run's ``run.start`` says kind "sweep" (reads its first line only)."""
    try:
        with open(run_dir / "journal.jsonl", encoding="utf-8") as fh:
            return json.loads(fh.readline()).get("kind") == "sweep"
    except (OSError, ValueError, AttributeError):
        return False


def sweep_dirs(runs_dir: Path, *, since: datetime | None = None, until: datetime | None = None) -> list[Path]:
    """The sweep runs started in [since, until], oldest first."""
    if not runs_dir.is_dir():
        return []
    found = []
    # By the names alone first: a month of 5-minute sweeps is 8,640 directories.
    for run_dir in sorted(runs_dir.iterdir(), key=lambda p: p.name):
        started = run_started(run_dir)
        if started is None or (since is not None and started < since) or (until is not None and started > until):
            continue
        if is_sweep(run_dir):
            found.append(run_dir)
    return found


def spread(items: Sequence[Path], most: int) -> list[Path]:
    """At most ``most`` of ``items``, evenly spaced, the first and the last always among them:
    a trend over days needs 48 sweeps as well as it needs 2,000."""
    if len(items) <= most:
        return list(items)
    step = (len(items) - 1) / (most - 1)
    return [items[round(i * step)] for i in range(most)]


def records(run_dirs: Iterable[Path], hosts: set[str] | None = None) -> Iterator[SweepRecord]:
    """The sweep records of ``run_dirs``, their points narrowed to ``hosts`` when given."""
    for run_dir in run_dirs:
        try:
            record = load_record(run_dir)
        except (RunbookError, OSError):
            continue  # a journal without its run.start, or removed meanwhile: nothing to read
        if record is None:
            continue
        if hosts is not None:
            record = SweepRecord(record.run_id, record.started, record.run_status,
                                 tuple(p for p in record.points if p.host in hosts))
        yield record


@dataclass(frozen=True)
class StatusPeriod:
    """Consecutive sweeps in which a check had the same status."""

    host: str
    check: str
    status: str
    first_seen: datetime
    last_seen: datetime
    sweeps: int
    value: float | None        # the newest value of the period
    message: str               # the newest message of the period

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "check": self.check, "status": self.status,
                "first_seen": iso_seconds(self.first_seen), "last_seen": iso_seconds(self.last_seen),
                "sweeps": self.sweeps, "value": self.value, "message": self.message}


def status_periods(recs: Iterable[SweepRecord]) -> list[StatusPeriod]:
    """Per host and check, the periods of one status, newest first (hosts and checks sorted)."""
    series: dict[tuple[str, str], list[CheckPoint]] = {}
    for record in recs:
        for p in record.points:
            series.setdefault((p.host, p.check), []).append(p)
    periods: list[StatusPeriod] = []
    for (host, check) in sorted(series):
        points = sorted(series[(host, check)], key=lambda p: p.at, reverse=True)
        current: list[CheckPoint] = []
        for p in points + [None]:  # type: ignore[list-item]
            if p is not None and (not current or current[0].status == p.status):
                current.append(p)
                continue
            newest, oldest = current[0], current[-1]
            periods.append(StatusPeriod(host, check, newest.status, oldest.at, newest.at, len(current),
                                        newest.value, newest.message))
            current = [p] if p is not None else []
    return periods


def iso_seconds(when: datetime) -> str:
    """UTC to the second, as history and forecasts print times: 2026-12-03T04:05:06Z."""
    return when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
