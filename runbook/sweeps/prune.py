"""Retention: which old run directories (journals and their archives) may go, and removing them.

``runbook runs prune --older-than 30d`` removes runs that started before the cut-off, except:

- runs of an open incident: one whose next-day report is due today or later (incidents have no
  "closed" state; after the report's due day its runs are old runs like others);
- with ``--keep-incidents``, runs of every incident;
- runs of the last ``MIN_AGE`` (2 days) whatever ``--older-than`` says: yesterday's next-day
  and daily reports are made from them.

Only directories directly under the runs directory, named like a run id, holding a journal,
and not symlinks are ever removed; ``shutil.rmtree`` does not follow symlinks inside them.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from runbook.sweeps.history import run_started
from runbook.journal import iter_events

MIN_AGE = timedelta(days=2)
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]+")


@dataclass(frozen=True)
class RunOnDisk:
    """One run directory: its id, kind, incident, start and size on disk."""

    path: Path
    run_id: str
    kind: str
    incident: str | None
    started: datetime
    bytes: int


@dataclass(frozen=True)
class PrunePlan:
    """What a prune removes, and what it keeps among the old runs and why."""

    cutoff: datetime
    remove: tuple[RunOnDisk, ...]
    kept: tuple[tuple[RunOnDisk, str], ...]

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.remove)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in self.remove:
            found[r.kind] = found.get(r.kind, 0) + 1
        return found


def disk_usage(path: Path) -> int:
    """Bytes of the files under ``path`` (symlinks counted as themselves, never followed)."""
    total = 0
    for root, _, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass  # gone meanwhile
    return total


def _describe(run_dir: Path, started: datetime) -> RunOnDisk:
    kind, incident = "run", None
    for event in iter_events(run_dir / "journal.jsonl"):
        kind, incident = str(event.get("kind", "run")), event.get("incident")
        break
    return RunOnDisk(run_dir, run_dir.name, kind, incident, started, disk_usage(run_dir))


def plan_prune(runs_dir: Path, *, older_than: timedelta, now: datetime, open_incidents: set[str],
               all_incidents: set[str], keep_incidents: bool) -> PrunePlan:
    """The runs started before ``now - max(older_than, MIN_AGE)`` that may be removed."""
    cutoff = now - max(older_than, MIN_AGE)
    remove, kept = [], []
    if runs_dir.is_dir():
        for path in sorted(runs_dir.iterdir(), key=lambda p: p.name):
            started = run_started(path)
            if (started is None or started >= cutoff or not RUN_ID.fullmatch(path.name) or path.is_symlink()
                    or not path.is_dir() or not (path / "journal.jsonl").is_file()):
                continue
            run = _describe(path, started)
            if run.incident in open_incidents:
                kept.append((run, f"incident {run.incident} is open"))
            elif keep_incidents and run.incident in all_incidents:
                kept.append((run, f"incident {run.incident} (--keep-incidents)"))
            else:
                remove.append(run)
    return PrunePlan(cutoff, tuple(remove), tuple(kept))


def apply_prune(plan: PrunePlan, runs_dir: Path) -> int:
    """Remove the plan's runs; return how many were removed. Re-checks each path first."""
    root = runs_dir.resolve()
    removed = 0
    for run in plan.remove:
        path = run.path
        if path.is_symlink() or path.resolve().parent != root or not (path / "journal.jsonl").is_file():
            continue  # changed since the plan was made: leave it
        shutil.rmtree(path)
        removed += 1
    return removed
