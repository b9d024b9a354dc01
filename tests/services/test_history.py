"""What earlier journals say: restart counts, outages and their end, sent notices."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from runbook.journal import Journal
from runbook.services.history import (
    NotificationLog,
    earlier_starts,
    outage,
    reached_since,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)


def _run(runs: Path, at: datetime, *events: tuple[str, dict]) -> None:
    journal = Journal(runs / at.strftime("%Y%m%dT%H%M%SZ-0000"), clock=lambda: at)
    for name, fields in events:
        journal.write(name, **fields)
    journal.close()


def test_restart_counts_only_successful_starts_within_the_window(tmp_path: Path) -> None:
    start = ("service", {"service": "db1:postgresql", "op": "start", "ok": True})
    _run(tmp_path, NOW - timedelta(hours=3), start)                                   # outside 1h
    _run(tmp_path, NOW - timedelta(minutes=40), start, ("service", {"service": "web1:nginx", "op": "start", "ok": True}))
    _run(tmp_path, NOW - timedelta(minutes=20), ("service", {"service": "db1:postgresql", "op": "start", "ok": False}))
    _run(tmp_path, NOW - timedelta(minutes=10), start)
    found = earlier_starts(tmp_path, "db1:postgresql", now=NOW, window=3600)
    assert found == [NOW - timedelta(minutes=40), NOW - timedelta(minutes=10)]


def test_outage_reaches_back_to_the_last_command_and_ends_with_the_next(tmp_path: Path) -> None:
    reached = ("command", {"host": "web1", "command": "true", "exit_code": 0})
    down = ("host.end", {"host": "web1", "outcome": "unreachable", "error": {"layer": "tcp"}})
    auth = ("host.end", {"host": "web1", "outcome": "unreachable", "error": {"layer": "auth"}})
    _run(tmp_path, NOW - timedelta(hours=2), reached)
    _run(tmp_path, NOW - timedelta(hours=1), down)
    _run(tmp_path, NOW - timedelta(minutes=30), auth, down)
    found = outage(tmp_path, "web1", now=NOW)
    assert found.since == NOW - timedelta(hours=1) and found.layers == ("tcp",)
    assert found.last_reached == NOW - timedelta(hours=2)
    assert not reached_since(tmp_path, "web1", NOW - timedelta(minutes=50))
    _run(tmp_path, NOW - timedelta(minutes=5), reached)
    assert reached_since(tmp_path, "web1", NOW - timedelta(minutes=50))


def test_notification_log_keeps_the_latest_per_host(tmp_path: Path) -> None:
    log = NotificationLog(tmp_path / "state" / "n.json")
    assert log.last_for("web1") is None
    log.add({"host": "web1", "sent_at": "2099-01-01T00:00:00.000Z"})
    log.add({"host": "web1", "sent_at": "2099-01-02T00:00:00.000Z"})
    log.add({"host": "db1", "sent_at": "2099-01-03T00:00:00.000Z"})
    assert log.last_for("web1")["sent_at"] == "2099-01-02T00:00:00.000Z"
    (tmp_path / "state" / "n.json").write_text("{garbage")
    assert log.last_for("web1") is None       # a damaged file never blocks a notice
