"""disk.usage and disk.release_deleted against the real-sshd lab, with real processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.lab import Lab
from tests.support.loglab import events_of, log_root, run_steps, small_mount, write_inventory, write_log
from tests.support.loglab import hold_deleted, holders  # noqa: F401  (holders: a fixture)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")


def test_release_truncates_deleted_logs_and_names_the_rest(lab: Lab, tmp_path: Path,
                                                           holders: list[subprocess.Popen]) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    root = log_root(lab, "web1", tmp_path.name)
    log_holder = hold_deleted(root / "var/log/nginx/access.log", 3_000_000, holders)
    data_holder = hold_deleted(root / "srv/data/cache.log", 2_000_000, holders)
    fd_of_log = f"/proc/{log_holder.pid}/fd/1"
    assert os.stat(fd_of_log).st_size == 3_000_000

    result, events = run_steps(inventory, [{"action": "disk.release_deleted", "params": {}}],
                               tmp_path / "runs", limit="web1")

    (outcome,) = result.outcomes
    assert outcome.outcome == "changed", outcome.message
    assert os.stat(fd_of_log).st_size == 0
    # Outside every log set's roots: never truncated, whatever its name; its holder is named.
    assert os.stat(f"/proc/{data_holder.pid}/fd/1").st_size == 2_000_000
    restart = [r for r in outcome.data["restart"] if r["pid"] == data_holder.pid]
    assert restart and restart[0]["process"] == "sleep"
    assert f"restart sleep (pid {data_holder.pid})" in outcome.data["advice"]
    truncated = [t for t in outcome.data["truncate"] if t["path"].endswith("/var/log/nginx/access.log")]
    assert truncated and truncated[0]["allocated"] >= 3_000_000 - 4096
    assert events_of(events, "evidence", phase="before") and events_of(events, "evidence", phase="after")
    assert "freed" in outcome.data["freed"] or "used" in outcome.data["freed"]


def test_release_in_check_mode_truncates_nothing(lab: Lab, tmp_path: Path, holders: list[subprocess.Popen]) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    proc = hold_deleted(log_root(lab, "web1", tmp_path.name) / "var/log/nginx/error.log", 2_000_000, holders)
    result, _ = run_steps(inventory, [{"action": "disk.release_deleted", "params": {}}], tmp_path / "runs",
                          limit="web1", check=True)
    (outcome,) = result.outcomes
    assert outcome.data["check"] and any("error.log" in c for c in outcome.changes)
    assert os.stat(f"/proc/{proc.pid}/fd/1").st_size == 2_000_000


@needs_root
def test_usage_shows_what_fills_the_mount(lab: Lab, tmp_path: Path, holders: list[subprocess.Popen]) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    logs = log_root(lab, "web1", tmp_path.name) / "var/log"
    with small_mount(logs, 12 * 1024):
        write_log(logs / "nginx/access.log", 4_000_000)
        write_log(logs / "nginx/access.log.1", 2_000_000)
        write_log(logs / "small/x.log", 1000)
        hold_deleted(logs / "nginx/gone.log", 1_500_000, holders)
        result, _ = run_steps(inventory, [{"action": "disk.usage", "params": {
            "mounts": [str(logs)], "min_file": "1M", "depth": 2, "seconds": "10s"}}], tmp_path / "runs",
            limit="web1")
        (outcome,) = result.outcomes
        assert outcome.outcome == "ok", outcome.message
        (report,) = outcome.data["mounts"]
        assert report["mount"] == str(logs) and not report["partial"]
        assert report["dirs"][0]["path"] == str(logs)
        assert report["dirs"][1]["path"] == str(logs / "nginx") and report["dirs"][1]["bytes"] >= 6_000_000
        assert [f["path"] for f in report["files"]] == [str(logs / "nginx/access.log"), str(logs / "nginx/access.log.1")]
        assert report["deleted_open_bytes"] >= 1_500_000 - 4096
        assert "largest file nginx/access.log 3.8 MiB" in outcome.message
