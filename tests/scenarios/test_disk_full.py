"""Disk full on web1: nginx's log directory on a small filesystem, full of rotated logs and of
an access log nginx still writes to after it was deleted. The engineer runs the shipped
disk-pressure playbook, --check first, then for real."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.loglab import small_mount, tree, write_log
from tests.lab.services import LabStack, http_get
from tests.scenarios.breakage import judge_shop_mount
from tests.scenarios.conftest import Night, outcomes

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a small filesystem (loop mount) needs root")

MOUNT_KIB = 24 * 1024


def _nginx(stack: LabStack, *args: str) -> None:
    root = stack.web.root
    subprocess.run(["/usr/sbin/nginx", "-p", f"{root}/", "-c", str(root / "etc/nginx.conf"), *args],
                   check=True, capture_output=True, timeout=30)


def _nginx_pids(stack: LabStack) -> list[int]:
    import psutil
    master = psutil.Process(stack.main_pid("nginx"))
    return [master.pid, *(c.pid for c in master.children())]


def _held_deleted(pids: list[int], name: str) -> list[str]:
    """/proc/PID/fd/N links of nginx that point at the deleted ``name``."""
    found = []
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.endswith(f"/{name} (deleted)"):
                found.append(str(fd))
    return found


@pytest.fixture
def full_web_disk(night: Night) -> Iterator[dict]:
    """nginx's log directory on web1 on a small ext4, 90+ % full: the live access log deleted
    but held open by nginx (7 MiB), rotated logs of the last days (kept) and of weeks ago
    (beyond ``keep``). nginx writes into it until the test ends; then it is unmounted and
    nginx reopens its logs in the lab's own directory."""
    stack = night.stack
    logs = stack.web.root / "var/log/nginx"
    saved = stack.web.root / "var/log/nginx.before-scenario"
    shutil.copytree(logs, saved)
    try:
        with small_mount(logs, MOUNT_KIB):
            judge_shop_mount(night.inventory / "shop.yml", logs)   # a disk of web1's, not a foreign /tmp mount
            for rotated in range(1, 4):             # recent: kept
                write_log(logs / f"access.log.{rotated}", 1_000_000, age_days=rotated, seed=rotated)
            for rotated in range(8, 14):            # weeks old and beyond keep: cleaned
                write_log(logs / f"access.log.{rotated}", 2_000_000, age_days=7 * rotated, seed=rotated)
            held = write_log(logs / "access.log", 7_000_000, seed=99).read_bytes()
            (logs / "error.log").write_text("")
            _nginx(stack, "-s", "reopen")           # nginx now appends to this access.log ...
            assert http_get(stack.urls["web"], 3)[0] == 200
            pids = _nginx_pids(stack)
            (logs / "access.log").unlink()          # ... which a careless `rm` then deleted
            fds = _held_deleted(pids, "access.log")
            assert fds, "nginx does not hold the deleted access.log"
            yield {"logs": logs, "held": held, "fds": fds}
            _nginx(stack, "-s", "reopen")
    finally:
        if saved.exists():
            # the mount is gone: put the lab's own log directory back and let nginx use it
            for entry in saved.iterdir():
                shutil.copy2(entry, logs / entry.name)
            shutil.rmtree(saved)
            _nginx(stack, "-s", "reopen")


def test_disk_pressure_secures_a_deleted_open_log_before_it_frees_it(night: Night, full_web_disk: dict) -> None:
    logs: Path = full_web_disk["logs"]
    fd = full_web_disk["fds"][0]
    before = tree(logs)
    held_size = os.stat(fd).st_size
    assert held_size >= 7_000_000

    # --check: the plan, and nothing else
    done, document = night.run_json("playbooks/disk-pressure.yml", "-i", night.inventory, "-l", "web1", "--check")
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    assert document["status"] == "completed", document["status"]
    assert tree(logs) == before
    assert os.stat(fd).st_size >= held_size
    release = outcomes(document, "Release deleted-but-open logs")["web1"]
    assert release["outcome"] == "changed" and release["message"].startswith("would: "), release
    archive = outcomes(document, "Secure the logs on the full mounts")["web1"]
    assert "deleted" in archive["message"], archive    # the plan says it secures the deleted file too

    # for real
    done, document = night.run_json("playbooks/disk-pressure.yml", "-i", night.inventory, "-l", "web1", "--yes")
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    events = night.events(document)
    (artifact,) = [e for e in events if e["event"] == "artifact" and e["kind"] == "logs.archive"]
    run_dir = Path(document["journal"]).parent
    held_entries = [f for f in artifact["manifest"]["files"] if f.get("deleted")]
    assert len(held_entries) == 1 and held_entries[0]["verified"], artifact["manifest"]
    with tarfile.open(run_dir / artifact["path"]) as tar:
        member = tar.extractfile(held_entries[0]["member"])
        assert member is not None
        secured = member.read()
    # everything nginx had written to the deleted file when it was secured (nginx may append)
    assert secured.startswith(full_web_disk["held"])
    assert hashlib.sha256(secured).hexdigest() == held_entries[0]["sha256"]

    # secured first, then emptied -- and only what was secured
    seq_of = {e["event"] + (f":{e.get('step')}" if e["event"] == "host.end" else ""): e["seq"] for e in events}
    release_step = next(e["step"] for e in events if e["event"] == "step.start"
                        and e["action"] == "disk.release_deleted")
    assert artifact["seq"] < seq_of[f"host.end:{release_step}"]
    assert os.stat(fd).st_size < 100_000
    # old rotated logs went, recent ones stayed
    left = {p.name for p in logs.iterdir()}
    assert {"access.log.1", "access.log.2", "access.log.3"} <= left
    assert not any(f"access.log.{n}" in left for n in range(8, 14))
    after = outcomes(document, "Disks after")["web1"]
    assert after["outcome"] == "ok", after
    assert http_get(night.stack.urls["web"], 3)[0] == 200


def test_release_alone_secures_the_deleted_log_itself_before_emptying_it(night: Night,
                                                                       full_web_disk: dict) -> None:
    """disk.release_deleted without a logs.archive step before it: it secures the content
    itself (verified, into the run's artifacts), then empties the file."""
    fd = full_web_disk["fds"][0]
    book = night.reports / "release-only.yml"
    book.write_text("name: Release only\nsteps:\n  - name: Release\n    action: disk.release_deleted\n")
    done, document = night.run_json(book, "-i", night.inventory, "-l", "web1", "--yes")
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    events = night.events(document)
    (artifact,) = [e for e in events if e["event"] == "artifact"]
    (entry,) = [f for f in artifact["manifest"]["files"] if f.get("deleted")]
    assert entry["verified"] and entry["bytes"] >= len(full_web_disk["held"])
    assert artifact["seq"] < next(e["seq"] for e in events if e["event"] == "host.end")
    assert os.stat(fd).st_size < 100_000
    assert outcomes(document, "Release")["web1"]["outcome"] == "changed"
