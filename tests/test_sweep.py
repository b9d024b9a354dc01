"""`runbook sweep` against the real lab: what the on-call engineer sees at 02:30.

Every sweep here is the real CLI in a subprocess (``python -m runbook sweep``) over the
loopback sshd lab. The output format and the exit code are checked the way a user and a cron
job read them. The facts parsers and the threshold arithmetic have their own unit tests in
tests/facts and tests/health.

The lab hosts are all this machine, so they share its one kernel: the same mounts, memory
and load. On a shared 2-core box a test controls neither the load (other tests run too) nor
the filesystems that other test sessions mount and fill. So the lab inventories here
(``SHARED_MACHINE``) set load thresholds that no CI load reaches, and judge only ``/`` (plus
any mount a test makes itself) by the default disk thresholds. Every other mount gets a
free-space threshold of 0 B, which is never crossed. Load thresholds are tested in
tests/health.
"""

from __future__ import annotations

import http.server
import json
import math
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab import Lab
from tests.support.cli import LAB_HOSTS, host_end, journal, lab_inventory, write_yaml
from tests.support.sweep import (
    CALM_LOAD,
    CONNECT_TIMEOUT,
    DEFAULT_DISK,
    SHARED_MACHINE,
    check,
    extra_vars,
    host,
    judge_only,
    sweep,
    table_row,
    used_percent,
)


# -- the whole lab --------------------------------------------------------------------------------

def test_sweep_reports_healthy_down_and_tarpit_hosts_within_the_connect_timeout(lab: Lab, tmp_path: Path) -> None:
    inventory = lab_inventory(lab, tmp_path / "inventory.yml", include_bad=True, extra_vars=SHARED_MACHINE)

    run = sweep("-i", inventory, runs_dir=tmp_path / "runs")

    assert run.code == 2, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    for name in LAB_HOSTS:
        assert any(re.match(rf"OK\s+{name}\s", line) for line in lines), f"{name} not OK:\n{run.stdout}"
    _, roles, status, problem = table_row(run.stdout, "down1")
    assert (roles, status) == ("spare", "CRITICAL")
    assert problem.startswith("CRITICAL tcp layer failed") and "refused" in problem
    _, _, status, problem = table_row(run.stdout, "tarpit1")
    assert status == "CRITICAL" and problem.startswith("CRITICAL ssh layer failed")
    assert lines[-1].startswith("CRITICAL: 6 host(s), 4 OK -- run ")
    # The journal keeps the failed layer for reports: tcp refused for down1, no SSH from the tarpit.
    events = journal(tmp_path / "runs")
    for name, layer in (("down1", "tcp"), ("tarpit1", "ssh")):
        end = host_end(events, name)
        assert (end["outcome"], end["data"]["status"], end["data"]["layer"]) == ("unreachable", "CRITICAL", layer)
    # The tarpit never answers; the sweep gave up on it at its connect timeout.
    assert f"within {CONNECT_TIMEOUT:g}s" in host_end(events, "tarpit1")["message"]


# -- a disk that is really full --------------------------------------------------------------------

@dataclass(frozen=True)
class FilledMount:
    path: Path
    used_percent: float
    free_bytes: int


@pytest.fixture
def filled_mount(lab: Lab, tmp_path: Path) -> Iterator[FilledMount]:
    """An 8 MiB ext2 filesystem mounted under web1's root and filled to about 93%.

    Not a tmpfs: the disk fact leaves tmpfs out as a pseudo filesystem (by design, see
    runbook/facts/disk.py), so this is a real block filesystem on a loop device. All lab hosts
    see it because they share this machine's kernel.
    """
    if os.geteuid() != 0:
        pytest.skip("mounting a filesystem needs root")
    if shutil.which("mkfs.ext2") is None:
        pytest.skip("mkfs.ext2 (e2fsprogs) is not installed")
    image = tmp_path / "uploads.img"
    with open(image, "wb") as fh:
        fh.truncate(8 * 1024 * 1024)
    subprocess.run(["mkfs.ext2", "-q", "-F", "-m", "0", str(image)], check=True, capture_output=True)
    mount = lab.hosts["web1"].root / "srv" / "uploads"
    mount.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True,
                             check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a loop device here: {mounted.stderr.strip()}")
    try:
        yield _fill(mount, 0.93)
    finally:
        # Every process on this machine sees the mount: never leave it behind, even when busy.
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], check=True, capture_output=True)


def _fill(mount: Path, fraction: float) -> FilledMount:
    """Write a file of real data until ``fraction`` of the filesystem is used, as df counts."""
    st = os.statvfs(mount)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    room = used + st.f_bavail * st.f_frsize
    with open(mount / "upload.bin", "wb") as fh:
        fh.write(os.urandom(int(room * fraction) - used))
        fh.flush()
        os.fsync(fh.fileno())
    filled = FilledMount(mount, *used_percent(mount))
    assert 90 <= filled.used_percent < 95, f"{mount} is not between crit 90% and 95% used: {filled}"
    return filled


def _bytes(number: str, unit: str) -> float:
    return float(number) * {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}[unit]


def test_a_filled_filesystem_is_critical_and_named_then_warning_with_a_higher_crit(
        lab: Lab, filled_mount: FilledMount, tmp_path: Path) -> None:
    # The default thresholds on every mount: whatever else is mounted, the worst is CRITICAL.
    inventory = lab_inventory(lab, tmp_path / "inventory.yml", extra_vars=CALM_LOAD)
    mount = str(filled_mount.path)

    run = sweep("-i", inventory, "--json", runs_dir=tmp_path / "runs")

    assert run.code == 2, run.stdout + run.stderr
    doc = run.document()
    web1 = host(doc, "web1")
    assert web1["status"] == "CRITICAL"
    disk = check(web1, f"disk:{mount}")
    assert (disk["status"], disk["mount"], disk["crit"]) == ("CRITICAL", mount, 90)
    assert disk["used_percent"] == pytest.approx(filled_mount.used_percent, abs=0.5)
    m = re.fullmatch(rf"{re.escape(mount)} (\d+)% used \(([\d.]+) (B|KiB|MiB) free\) >= 90%", disk["message"])
    assert m, disk["message"]
    assert int(m[1]) == round(filled_mount.used_percent)
    assert _bytes(m[2], m[3]) == pytest.approx(filled_mount.free_bytes, abs=1024)
    assert disk["message"] in web1["message"]

    # crit 95% on this mount, / as by default, and no other mount judged (another session's
    # full disk must not turn this into a CRITICAL).
    limits = {"/": DEFAULT_DISK, mount: {**DEFAULT_DISK, "crit": 95}}
    run = sweep("-i", inventory, "--json", *extra_vars({**CALM_LOAD, **judge_only(limits)}),
                runs_dir=tmp_path / "runs")

    assert run.code == 1, run.stdout + run.stderr
    disk = check(host(run.document(), "web1"), f"disk:{mount}")
    assert (disk["status"], disk["crit"]) == ("WARNING", 95)
    assert disk["message"].endswith(">= 80%"), disk


def test_thresholds_around_the_real_root_filesystem_give_warning_or_ok(lab: Lab, tmp_path: Path) -> None:
    inventory = lab_inventory(lab, tmp_path / "inventory.yml", extra_vars=SHARED_MACHINE)
    root, _ = used_percent("/")
    if root >= 90:
        pytest.skip(f"/ is {root:.0f}% used: no room for an OK threshold above it")
    warn, crit = max(1, math.floor(root) - 5), math.ceil(root) + 5

    run = sweep("-i", inventory, *extra_vars(judge_only({"/": {"warn": warn, "crit": crit}})),
                runs_dir=tmp_path / "runs")

    assert run.code == 1, run.stdout + run.stderr
    for name in LAB_HOSTS:
        _, _, status, problem = table_row(run.stdout, name)
        m = re.fullmatch(rf"WARNING / (\d+)% used \([\d.]+ \w+ free\) >= {warn}%", problem)
        assert status == "WARNING" and m, problem
        assert abs(int(m[1]) - root) <= 1
    assert run.stdout.splitlines()[-1].startswith("WARNING: 4 host(s), 0 OK")

    ok_warn = math.ceil(root) + 5
    run = sweep("-i", inventory, *extra_vars(judge_only({"/": {"warn": ok_warn, "crit": min(100, ok_warn + 5)}})),
                runs_dir=tmp_path / "runs")

    assert run.code == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("OK: 4 host(s), 4 OK")


# -- unreachable over SSH, but the shop answers --------------------------------------------------

class _Shop(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # http.server's name
        body = b"shop ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_host_with_ssh_down_but_http_answering_is_unknown_and_critical_once_http_stops(
        lab: Lab, tmp_path: Path) -> None:
    # An address of the lab's subnet where nothing listens on the SSH port: sshd is "down".
    address = f"{lab.subnet}.240"
    server = http.server.ThreadingHTTPServer((address, 0), _Shop)
    port = server.server_address[1]
    url = f"http://{address}:{port}/"
    inventory = lab_inventory(lab, tmp_path / "inventory.yml", extra_vars=SHARED_MACHINE)
    document = yaml.safe_load(inventory.read_text())
    document["hosts"]["shop1"] = {"address": address, "roles": ["web"], "service_ports": [port],
                                  "http_checks": [{"url": url, "status": 200}]}
    write_yaml(inventory, document)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run = sweep("-i", inventory, "-l", "shop1", "--json", runs_dir=tmp_path / "runs")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    assert run.code == 3, run.stdout + run.stderr
    shop = host(run.document(), "shop1")
    assert (shop["status"], shop["reachable"], shop["layer"]) == ("UNKNOWN", False, "tcp")
    # hosts[].message is the bare connect error (reports quote it); the check says why UNKNOWN.
    reachability = check(shop, "reachability")
    assert reachability["status"] == "UNKNOWN" and reachability["layer"] == "tcp"
    assert reachability["message"].startswith("tcp layer failed: ")
    assert reachability["message"].endswith(f"; but {address}:{port}, {url} answer")

    run = sweep("-i", inventory, "-l", "shop1", "--json", runs_dir=tmp_path / "runs")

    assert run.code == 2, run.stdout + run.stderr
    shop = host(run.document(), "shop1")
    assert (shop["status"], shop["reachable"], shop["layer"]) == ("CRITICAL", False, "tcp")
    reachability = check(shop, "reachability")
    assert reachability["status"] == "CRITICAL"
    assert reachability["message"].endswith("; no service answers") and url not in reachability["message"]


# -- a changed host key -----------------------------------------------------------------------------

def test_a_changed_host_key_is_unknown_at_the_hostkey_layer(lab: Lab, tmp_path: Path) -> None:
    inventory = lab_inventory(lab, tmp_path / "inventory.yml", extra_vars=SHARED_MACHINE)
    lab.replace_host_key("spare1")
    try:
        run = sweep("-i", inventory, "--json", runs_dir=tmp_path / "runs")
    finally:
        lab.restore_host_key("spare1")

    assert run.code == 3, run.stdout + run.stderr
    doc = run.document()
    spare1 = host(doc, "spare1")
    assert (spare1["status"], spare1["reachable"], spare1["layer"]) == ("UNKNOWN", False, "hostkey")
    assert "CHANGED" in spare1["message"]
    assert {h["name"]: h["status"] for h in doc["hosts"] if h["name"] != "spare1"} == {
        "web1": "OK", "app1": "OK", "db1": "OK"}
