"""Deleted-but-open logs on the real-sshd lab, held by real processes: secured through
/proc/PID/fd/N before anything empties them, and never touched outside the log sets."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from runbook.inventory import load_inventory
from runbook.journal import read_events
from runbook.paths import Paths
from runbook.playbook import load_playbook
from runbook.run.options import RunOptions
from runbook.run.start import plan_hosts, start_run
from tests.lab import Lab
from tests.support.loglab import (append_deleted, events_of, fill, hold_deleted, holders, log_root,  # noqa: F401
                                  run_steps, small_mount, write_inventory, write_log)

def the_archive(run_dir: Path, events: list[dict[str, Any]]) -> tuple[dict[str, Any], tarfile.TarFile]:
    """The run's one ``logs.archive`` artifact event and its tar, opened."""
    (artifact,) = events_of(events, "artifact", kind="logs.archive")
    return artifact, tarfile.open(run_dir / artifact["path"])


@pytest.mark.parametrize("remote", ["python", "shell"])
def test_a_deleted_log_still_written_is_secured_as_the_prefix_it_had(
        lab: Lab, tmp_path: Path, holders: list[subprocess.Popen[bytes]], remote: str) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    log = log_root(lab, "web1", tmp_path.name) / "var/log/nginx/access.log"
    first = write_log(log, 2_000_000, seed=7).read_bytes()
    pid, fd = append_deleted(log, holders)

    result, events = run_steps(inventory, [{"action": "logs.archive", "params": {"remote": remote}}],
                               tmp_path / "runs", limit="web1")

    (outcome,) = result.outcomes
    assert outcome.outcome == "changed", outcome.message
    assert "deleted" in outcome.message and f"pid {pid})" in outcome.message
    artifact, tar = the_archive(tmp_path / "runs" / result.run_id, events)
    (entry,) = [f for f in artifact["manifest"]["files"] if f.get("deleted")]
    st = os.stat(fd)
    assert entry["verified"] and entry["path"] == str(log) and entry["pid"] == pid
    assert (entry["device"], entry["inode"]) == (st.st_dev, st.st_ino)
    assert entry["member"] == f"deleted/{pid}-{fd.rsplit('/', 1)[1]}/access.log"
    member = tar.extractfile(entry["member"])
    assert member is not None
    secured = member.read()
    # What was listed is what counts: a prefix of the file as it is now, the bytes recorded.
    time.sleep(0.05)
    with open(fd, "rb") as now:
        grown = now.read()
    assert len(grown) > entry["bytes"] == len(secured) >= len(first)
    assert secured.startswith(first) and grown.startswith(secured)
    assert hashlib.sha256(secured).hexdigest() == entry["sha256"]


def test_release_after_archive_frees_only_what_was_secured_of_a_growing_log(
        lab: Lab, tmp_path: Path, holders: list[subprocess.Popen[bytes]]) -> None:
    """Still appended to: release secures what it has now (the archive step's prefix is out
    of date), then frees exactly those bytes; the lines written after stay in the file."""
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    log = log_root(lab, "web1", tmp_path.name) / "var/log/nginx/error.log"
    write_log(log, 3_000_000)
    _, fd = append_deleted(log, holders)

    result, events = run_steps(inventory, [{"action": "logs.archive", "params": {}},
                                           {"action": "disk.release_deleted", "params": {}}],
                               tmp_path / "runs", limit="web1")

    archive, release = result.outcomes
    assert archive.outcome == release.outcome == "changed", (archive.message, release.message)
    secured = [f for e in events_of(events, "artifact", kind="logs.archive") for f in e["manifest"]["files"]
               if f.get("deleted")]
    assert all(f["verified"] for f in secured) and len(secured) == 2     # the step's, then release's own
    assert secured[1]["bytes"] > secured[0]["bytes"]
    st = os.stat(fd)
    # The secured bytes are gone from the disk: the file emptied, or (lines came in after the
    # securing) those bytes punched out and the newer lines kept behind them.
    assert st.st_blocks * 512 < 1_000_000
    if st.st_size:
        with open(fd, "rb") as now:
            assert now.read(secured[1]["bytes"]) == bytes(secured[1]["bytes"])
            assert b"appended" in now.read()
        assert any("punched out, the newer lines kept" in c for c in release.changes), release.changes
    else:
        assert not any("punched" in c for c in release.changes), release.changes


def test_a_deleted_file_outside_every_log_set_is_never_read_nor_truncated(
        lab: Lab, tmp_path: Path, holders: list[subprocess.Popen[bytes]]) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    root = log_root(lab, "web1", tmp_path.name)
    data_fd, beside_fd, log_fd = (f"/proc/{hold_deleted(root / path, 1_500_000, holders).pid}/fd/1" for path in (
        "srv/data/orders.log",               # a log's name, but no log set's
        "var/log/nginx-old/access.log",      # beside the nginx sets' roots
        "var/log/nginx/access.log"))

    result, events = run_steps(inventory, [{"action": "logs.archive", "params": {}},
                                           {"action": "disk.release_deleted", "params": {}}],
                               tmp_path / "runs", limit="web1")

    archive, release = result.outcomes
    assert archive.outcome == release.outcome == "changed", (archive.message, release.message)
    (artifact,) = events_of(events, "artifact", kind="logs.archive")
    held = [f for f in artifact["manifest"]["files"] if f.get("deleted")]
    assert [f["path"] for f in held] == [str(root / "var/log/nginx/access.log")]
    assert [f["path"] for f in archive.data["deleted"]] == [str(root / "var/log/nginx/access.log")]
    assert os.stat(log_fd).st_size == 0
    assert os.stat(data_fd).st_size == os.stat(beside_fd).st_size == 1_500_000
    # never read: no command of the run names their fd links
    commands = " ".join(str(e.get("command", "")) for e in events)
    assert data_fd not in commands and beside_fd not in commands
    assert {r["path"] for r in release.data["restart"]} >= {str(root / "srv/data/orders.log"),
                                                           str(root / "var/log/nginx-old/access.log")}


@pytest.mark.skipif(os.geteuid() != 0, reason="a full local filesystem (tmpfs) needs root")
def test_release_refuses_to_truncate_what_it_could_not_secure(
        lab: Lab, tmp_path: Path, holders: list[subprocess.Popen[bytes]]) -> None:
    """The run's artifacts directory is full: the archive cannot be written, so the deleted
    log stays as it is and the host fails, saying why."""
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    holder = hold_deleted(log_root(lab, "web1", tmp_path.name) / "var/log/nginx/access.log", 2_000_000, holders)
    fd = f"/proc/{holder.pid}/fd/1"
    book = load_playbook(tmp_path / "book.yml", text="name: t\nsteps:\n  - action: disk.release_deleted\n")
    inv = load_inventory([inventory])
    runs = tmp_path / "runs"
    engine = start_run(inv, plan_hosts(inv, book, "web1"), book, Paths(runs, runs),
                       RunOptions(check=False, assume_yes=True), argv=["test"])
    artifacts = engine.journal.artifacts_dir / "web1"
    with small_mount(artifacts, 256, fstype="tmpfs"):
        fill(artifacts)
        result = engine.run()
        engine.journal.close()
    events = read_events(engine.journal.path)

    (outcome,) = result.outcomes
    assert outcome.outcome == "failed", outcome.message
    assert "not truncating the deleted" in outcome.message and "No space left" in outcome.message, outcome.message
    assert os.stat(fd).st_size == 2_000_000
    assert not events_of(events, "artifact")
    assert not list(artifacts.glob("*.part"))
