"""logs.archive against the real-sshd lab: real files, real commands, archives read back."""

from __future__ import annotations

import gzip
import hashlib
import os
import tarfile
import threading
import time
from pathlib import Path

import pytest

from tests.lab import Lab
from tests.support.loglab import events_of, fill, log_root, run_steps, small_mount, write_inventory, write_log


HOSTILE = ("we ird name-access.log", "quo'te\"s-access.log", "$(touch CANARY)-access.log",
           "new\nline-access.log", "-rf-access.log")


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def the_artifact(events: list[dict], runs: Path) -> tuple[dict, Path]:
    (artifact,) = events_of(events, "artifact", kind="logs.archive")
    run_dir = runs / events[0]["run_id"]
    return artifact, run_dir / artifact["path"]


@pytest.mark.parametrize("remote", ["python", "shell"])
def test_every_member_matches_the_bytes_on_the_host(lab: Lab, tmp_path: Path, remote: str) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    write_log(nginx / "access.log", 300_000, seed=1)
    write_log(nginx / "access.log.1", 120_000, age_days=1, seed=2)
    (nginx / "access.log.2.gz").write_bytes(gzip.compress(b"old line\n" * 5000))
    write_log(nginx / "error.log", 0)
    for name in HOSTILE:
        write_log(nginx / name, 777, seed=3)

    result, events = run_steps(inventory, [{"action": "logs.archive", "params": {"remote": remote}}],
                               tmp_path / "runs", limit="web1")

    outcome = result.outcomes[-1]
    assert outcome.outcome == "changed", outcome.message
    artifact, archive = the_artifact(events, tmp_path / "runs")
    assert archive.is_file() and archive.parent.name == "web1"
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == artifact["sha256"]
    manifest = {e["path"]: e for e in artifact["manifest"]["files"]}
    expected = sorted(str(p) for p in nginx.iterdir())
    assert sorted(manifest) == expected
    got = members(archive)
    for path, entry in manifest.items():
        on_host = Path(path).read_bytes()
        assert entry["verified"] and entry["status"] == "ok", entry
        assert entry["bytes"] == len(on_host)
        assert entry["sha256"] == hashlib.sha256(on_host).hexdigest()
        assert got[path.lstrip("/")] == on_host
    assert artifact["manifest"]["mode"] == remote
    assert not (nginx / "CANARY").exists() and not Path("CANARY").exists()
    assert events_of(events, "evidence", phase="before") and events_of(events, "evidence", phase="after")


def test_a_file_written_during_the_archive_is_archived_as_listed(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    live = write_log(log_root(lab, "web1", tmp_path.name) / "var/log/nginx/access.log", 30_000_000, seed=4)
    stop = threading.Event()
    appended = []

    def writer() -> None:
        # Whole lines, one write() each, as nginx does (O_APPEND).
        with open(live, "ab", buffering=0) as fh:
            n = 0
            while not stop.is_set():
                n += 1
                fh.write(f"10.9.9.9 - - [25/Nov/2026:02:40:{n % 60:02d} +0100] \"GET /live/{n}\" 200 1\n".encode())
                appended.append(n)
                time.sleep(0.0005)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result, events = run_steps(inventory, [{"action": "logs.archive", "params": {}}], tmp_path / "runs",
                                   limit="web1")
    finally:
        stop.set()
        thread.join()
    outcome = result.outcomes[-1]
    assert outcome.outcome == "changed", outcome.message
    (planned,) = [f for f in outcome.data["files"] if f["path"] == str(live)]
    artifact, archive = the_artifact(events, tmp_path / "runs")
    (entry,) = artifact["manifest"]["files"]
    final = live.read_bytes()
    member = members(archive)[str(live).lstrip("/")]
    assert len(final) > planned["size"], "the writer appended nothing while the run was going"
    # Exactly the bytes present at listing time: the listed size, a prefix of the file.
    assert len(member) == entry["bytes"] == planned["size"]
    assert member == final[: planned["size"]]
    assert entry["verified"] and entry["sha256"] == hashlib.sha256(member).hexdigest()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs for a full disk needs root")
def test_archive_from_a_completely_full_log_mount(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    with small_mount(nginx, 2048, fstype="tmpfs"):
        write_log(nginx / "access.log", 600_000, seed=5)
        write_log(nginx / "access.log.1", 300_000, age_days=1, seed=6)
        fill(nginx)
        assert os.statvfs(nginx).f_bavail == 0
        result, events = run_steps(inventory, [{"action": "logs.archive", "params": {"sets": ["nginx-access"]}}],
                                   tmp_path / "runs", limit="web1")
        outcome = result.outcomes[-1]
        assert outcome.outcome == "changed", outcome.message
        artifact, archive = the_artifact(events, tmp_path / "runs")
        entries = {Path(e["path"]).name: e for e in artifact["manifest"]["files"]}
        assert {"access.log", "access.log.1"} <= set(entries)
        assert all(e["verified"] for e in entries.values())
        assert members(archive)[str(nginx / "access.log").lstrip("/")] == (nginx / "access.log").read_bytes()
        (before,) = events_of(events, "evidence", phase="before")
        assert before["data"]["mounts"][0]["free_bytes"] == 0


def test_check_mode_lists_the_files_and_archives_nothing(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    write_log(log_root(lab, "web1", tmp_path.name) / "var/log/nginx/access.log", 1000)
    result, events = run_steps(inventory, [{"action": "logs.archive", "params": {}}], tmp_path / "runs",
                               limit="web1", check=True)
    outcome = result.outcomes[-1]
    assert outcome.outcome == "changed" and outcome.data["check"] is True
    assert [f["bytes"] for f in outcome.data["planned"][0]["details"]["files"]] == [1000]
    assert not events_of(events, "artifact")
    assert not list((tmp_path / "runs").glob("*/artifacts/web1/*.tar.gz"))
