"""What earlier runs say, read from their journals (the journal, not memory, is the truth).

- restart-loop protection: when a service was (re)started by earlier runs (``service`` events
  with ``op: start`` that succeeded);
- outages: since when a host has been unreachable at the network level (its ``host.end``
  events with a dns/tcp/ssh error, back to the last command that ran on it);
- notifications already sent to the hosting provider: a small JSON state file under the
  reports root, so a second run does not notify twice for the same outage.

Run directories are named by their start time (``20261125T023014Z-3f9a``), so old ones are
skipped without being opened.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from runbook.journal import iso, iter_runs, parse_ts, read_events

#: layers at which the host itself does not answer; hostkey/auth mean our access is broken
NETWORK_LAYERS = ("dns", "tcp", "ssh")
OUTAGE_LOOKBACK = timedelta(days=14)
_state_lock = threading.Lock()


def _run_started(run_dir: Path) -> datetime | None:
    try:
        return datetime.strptime(run_dir.name[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _events_since(runs_dir: Path, since: datetime, *, newest_first: bool = False) -> Iterator[dict[str, Any]]:
    runs = list(iter_runs(runs_dir))
    if newest_first:
        runs.reverse()
    for run_dir in runs:
        started = _run_started(run_dir)
        # A run lasts at most hours; a day of slack keeps long runs that began before ``since``.
        if started is not None and started < since - timedelta(days=1):
            if newest_first:
                return
            continue
        events = read_events(run_dir / "journal.jsonl")
        yield from (reversed(events) if newest_first else events)


def earlier_starts(runs_dir: Path, key: str, *, now: datetime, window: float,
                   exclude_run: str | None = None) -> list[datetime]:
    """When ``key`` ("web1:nginx") was started by runbook within ``window`` seconds before now."""
    since = now - timedelta(seconds=window)
    found = []
    for event in _events_since(runs_dir, since):
        if (event.get("event") == "service" and event.get("service") == key and event.get("op") == "start"
                and event.get("ok") and (exclude_run is None or event.get("run_id") != exclude_run)):
            ts = parse_ts(event["ts"])
            if since <= ts <= now:
                found.append(ts)
    return sorted(found)


@dataclass(frozen=True)
class Outage:
    """Since when a host has failed at the network level, and at which layers (oldest first)."""

    host: str
    since: datetime | None
    layers: tuple[str, ...]
    last_reached: datetime | None


def outage(runs_dir: Path, host: str, *, now: datetime) -> Outage:
    """Walk back through journals until a command last ran on ``host``."""
    since: datetime | None = None
    layers: list[str] = []
    for event in _events_since(runs_dir, now - OUTAGE_LOOKBACK, newest_first=True):
        if event.get("host") != host:
            continue
        if event.get("event") == "command" and event.get("exit_code") is not None:
            return Outage(host, since, tuple(reversed(layers)), parse_ts(event["ts"]))
        error = event.get("error") or {}
        if (event.get("event") == "host.end" and event.get("outcome") == "unreachable"
                and error.get("layer") in NETWORK_LAYERS):
            since = parse_ts(event["ts"])
            if error["layer"] not in layers:
                layers.append(error["layer"])
    return Outage(host, since, tuple(reversed(layers)), None)


def reached_since(runs_dir: Path, host: str, moment: datetime) -> bool:
    """Did any command run on ``host`` after ``moment`` (the outage ended in between)?"""
    for event in _events_since(runs_dir, moment, newest_first=True):
        if (event.get("host") == host and event.get("event") == "command" and event.get("exit_code") is not None
                and parse_ts(event["ts"]) > moment):
            return True
    return False


class NotificationLog:
    """Sent provider notifications, in ``<reports>/state/hoster-notifications.json``, one
    entry per host told (``hosts`` names every host of the same message).

    Written under a file lock: hosts of one run notify in parallel, and two runs may overlap.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            return []  # a damaged state file must not stop a notification; it is rewritten below
        return list(data.get("sent", [])) if isinstance(data, dict) else []

    def last_for(self, host: str) -> dict[str, Any] | None:
        found = [e for e in self.entries() if e.get("host") == host]
        return max(found, key=lambda e: e.get("sent_at", "")) if found else None

    def add(self, *entries: dict[str, Any], keep: timedelta = timedelta(days=90)) -> None:
        """Record sent notifications, one entry per host (a notice about several hosts is one
        entry for each, so each host's outage is told once); entries older than ``keep`` go."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _state_lock, open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cutoff = iso(datetime.now(timezone.utc) - keep)
            sent = [e for e in self.entries() if e.get("sent_at", "") >= cutoff] + list(entries)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"version": 1, "sent": sent}, indent=2, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, self.path)
