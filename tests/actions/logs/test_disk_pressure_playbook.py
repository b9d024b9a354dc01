"""The shipped disk-pressure playbook, end to end through the CLI, on a lab host whose log
mount (a small ext4 filesystem) is really over its critical threshold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runbook.journal import read_events
from tests.lab import Lab
from tests.support.loglab import events_of, log_root, small_mount, tree, write_inventory, write_log
from tests.support.sweep import DEFAULT_DISK, judge_only

PLAYBOOK = Path(__file__).resolve().parents[3] / "playbooks" / "disk-pressure.yml"


def runbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=PLAYBOOK.parents[1], check=False)


def old_gz(path: Path, size: int, age_days: float) -> None:
    path.write_bytes(os.urandom(size))  # compressed logs do not compress further
    when = os.path.getmtime(path) - age_days * 86400
    os.utime(path, (when, when))


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small ext4 filesystem needs root")
def test_disk_pressure_frees_space_and_the_journal_shows_it(lab: Lab, tmp_path: Path) -> None:
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    # The lab host is this machine: judge only / and the test's own log mount, never a mount
    # another test session filled meanwhile.
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name,
                                **judge_only({"/": DEFAULT_DISK, str(nginx): DEFAULT_DISK}))
    try:
        with small_mount(nginx, 16 * 1024):
            write_log(nginx / "access.log", 400_000)
            write_log(nginx / "access.log.1", 300_000, age_days=1)
            for i in range(2, 22):
                old_gz(nginx / f"access.log.{i}.gz", 600_000, age_days=i)
            with open(nginx / "error.log", "wb") as log:
                holder = subprocess.Popen(["sleep", "120"], stdout=log)
            write_log(Path(f"/proc/{holder.pid}/fd/1"), 1_200_000)
            (nginx / "error.log").unlink()
            st = os.statvfs(nginx)
            assert 1 - st.f_bavail / st.f_blocks > 0.9, "the log mount should start over 90%"

            before = tree(nginx)
            checked = runbook("run", str(PLAYBOOK), "-i", str(inventory), "-l", "web1", "--check", "--yes",
                              "--runs-dir", str(tmp_path / "runs"), "--json")
            assert tree(nginx) == before, checked.stdout[-2000:]
            assert os.stat(f"/proc/{holder.pid}/fd/1").st_size == 1_200_000

            done = runbook("run", str(PLAYBOOK), "-i", str(inventory), "-l", "web1", "--yes",
                           "--runs-dir", str(tmp_path / "runs"), "--json")
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
            # The run's own id: the --check run above may fall in the same second, and run ids
            # sort only by the second.
            run_dir = tmp_path / "runs" / json.loads(done.stdout)["run_id"]
            events = read_events(run_dir / "journal.jsonl")
            outcomes = {e["step"]: e for e in events_of(events, "host.end", host="web1")}
            assert [outcomes[i]["outcome"] for i in range(6)] == ["ok", "ok", "changed", "changed", "changed", "ok"], \
                [(o["message"], o["data"].get("restart")) for o in outcomes.values()]
            deleted = outcomes[3]["data"]["deleted"]
            assert sorted(deleted) == sorted(str(nginx / f"access.log.{i}.gz") for i in range(8, 22))
            assert not any(Path(p).exists() for p in deleted) and (nginx / "access.log.7.gz").exists()
            assert os.stat(f"/proc/{holder.pid}/fd/1").st_size == 0
            (artifact,) = events_of(events, "artifact", kind="logs.archive")
            # 22 files, and the deleted error.log the sleep holds open: secured before it was emptied
            assert artifact["manifest"]["verified"] == artifact["manifest"]["total"] == 23
            (held,) = [f for f in artifact["manifest"]["files"] if f.get("deleted")]
            assert held["path"] == str(nginx / "error.log") and held["pid"] == holder.pid
            assert held["bytes"] == 1_200_000 and held["member"] == f"deleted/{holder.pid}-1/error.log"
            first = events_of(events, "evidence", step=0, phase="before")[0]["data"]["mounts"]
            last = events_of(events, "evidence", step=5, phase="after")[0]["data"]["mounts"]
            used = {m["mount"]: m["used_percent"] for m in first}, {m["mount"]: m["used_percent"] for m in last}
            assert used[0][str(nginx)] > 90 and used[1][str(nginx)] < 60
            assert outcomes[3]["data"]["freed"].startswith("freed ")
            assert events_of(events, "evidence", step=3, phase="before")
    finally:
        if "holder" in locals():
            holder.kill()
            holder.wait()
