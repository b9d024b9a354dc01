"""The usage facts: largest dirs/files (du/find vs the local os.scandir source on the same
tree), mounts by device number, deleted-but-open files (a real process holding one)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runbook.connection.local import LocalConnection
from runbook.facts.batch import new_nonce
from runbook.facts.usage import (
    MountPoint,
    collect_local_usage,
    deleted_command,
    mount_for,
    parse_deleted,
    parse_mountinfo,
    parse_usage,
    usage_command,
)

NONCE = "0123456789abcdef"


def part(label: str) -> str:
    return f"\n@@runbook {NONCE} part {label}\n"


def test_parse_usage_keeps_odd_names_and_ranks_by_size() -> None:
    out = (part("dirs") + "8\t/var/log/a\nb\0" + "2048\t/var/log/nginx\0" + "4096\t/var\0"
           + part("files") + "3000000 1700000000.5 /var/log/nginx/access.log\0"
           + "9000000 1700000001.0 /var/log/we ird\nname.log\0" + part("status") + "0 0\n")
    usage = parse_usage(out, "/var", NONCE, depth=2, top=2)
    assert [d.path for d in usage.dirs] == ["/var", "/var/log/nginx"]
    assert usage.dirs[0].bytes == 4096 * 1024
    assert [f.path for f in usage.files] == ["/var/log/we ird\nname.log", "/var/log/nginx/access.log"]
    assert not usage.partial


@pytest.mark.parametrize(("status", "dirs", "partial"), [
    ("124 0", "4\t/var\0", True),
    ("0 124", "4\t/var\0", True),
    ("1 1", "4\t/var\0", False),
    ("0 0", "4\t/var/log\0", True),   # du stopped before it printed the mount's total
])
def test_parse_usage_partial(status: str, dirs: str, partial: bool) -> None:
    out = part("dirs") + dirs + part("files") + part("status") + status + "\n"
    assert parse_usage(out, "/var", NONCE, depth=1).partial is partial


def test_usage_command_agrees_with_the_local_source(tmp_path: Path) -> None:
    (tmp_path / "a/b").mkdir(parents=True)
    (tmp_path / "a/b/big.log").write_bytes(os.urandom(300_000))
    (tmp_path / "a/small.log").write_bytes(b"x" * 10)
    (tmp_path / "c d").mkdir()
    (tmp_path / "c d/mid.log").write_bytes(os.urandom(150_000))
    nonce = new_nonce()
    result = LocalConnection().run(usage_command(str(tmp_path), nonce, depth=2, seconds=10, min_file_bytes=100_000))
    remote = parse_usage(result.stdout, str(tmp_path), nonce, depth=2, top=5)
    local = collect_local_usage(str(tmp_path), depth=2, top=5, min_file_bytes=100_000)
    assert [f.path for f in remote.files] == [f.path for f in local.files] == [
        str(tmp_path / "a/b/big.log"), str(tmp_path / "c d/mid.log")]
    assert [d.path for d in remote.dirs][:3] == [d.path for d in local.dirs][:3]
    for r, loc in zip(remote.dirs, local.dirs):
        assert abs(r.bytes - loc.bytes) <= 16 * 1024  # du counts the directories' own blocks too


def test_mountinfo_and_mount_for() -> None:
    text = ("22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
            "30 22 254:1 / /var rw - xfs /dev/vdb rw\n"
            "31 30 0:45 / /var/log\\040x rw - tmpfs tmpfs rw\n"
            "32 22 254:1 /www /srv/www rw - xfs /dev/vdb rw\n")
    points = parse_mountinfo(text)
    assert points[2] == MountPoint(os.makedev(0, 45), "/var/log x", "tmpfs")
    assert mount_for("/var/log x/a.log", os.makedev(0, 45), points) == "/var/log x"
    assert mount_for("/var/lib/mysql/ib", os.makedev(254, 1), points) == "/var"
    assert mount_for("/srv/www/site.log", os.makedev(254, 1), points) == "/srv/www"
    assert mount_for("/etc/x", None, points) == "/"


def test_parse_deleted_groups_fds_of_one_file_and_skips_shared_memory() -> None:
    def rec(fd: str, size: int, blocks: int, dev: int, ino: int, target: str, comm: str, unit: str) -> str:
        return f"{fd} {size} {blocks} {dev} {ino}\0{target}\n\0{comm}\n\0{unit}\0"

    dev = os.makedev(254, 1)
    out = (part("mounts") + "30 22 254:1 / /var rw - xfs /dev/vdb rw\n" + part("deleted")
           + rec("/proc/10/fd/4", 5000, 16, dev, 7, "/var/log/nginx/access.log (deleted)", "nginx", "nginx.service")
           + rec("/proc/11/fd/4", 5000, 16, dev, 7, "/var/log/nginx/access.log (deleted)", "nginx", "nginx.service")
           + rec("/proc/12/fd/9", 100, 8, 5, 99, "/memfd:shm (deleted)", "chrome", "")
           + rec("/proc/13/fd/3", 90000, 200, dev, 8, "/var/tmp/we ird\nname (deleted)", "java", ""))
    files = parse_deleted(out, NONCE)
    assert [f.path for f in files] == ["/var/tmp/we ird\nname", "/var/log/nginx/access.log"]  # largest first
    nginx = files[1]
    assert [h.pid for h in nginx.holders] == [10, 11] and nginx.holders[0].service == "nginx.service"
    assert nginx.allocated == 16 * 512 and nginx.mount == "/var" and nginx.holders[0].fd_path == "/proc/10/fd/4"
    assert files[0].holders[0].service is None


def test_deleted_command_finds_a_file_a_real_process_holds(tmp_path: Path) -> None:
    path = tmp_path / "gone.log"
    path.write_bytes(b"z" * 200_000)
    with open(path, "rb") as held:
        holder = subprocess.Popen(["sleep", "30"], stdin=held)
    try:
        path.unlink()
        nonce = new_nonce()
        files = parse_deleted(LocalConnection().run(deleted_command(nonce)).stdout, nonce)
    finally:
        holder.kill()
        holder.wait()
    (mine,) = [f for f in files if f.path == str(path)]
    assert mine.size == 200_000 and mine.holders[0].pid == holder.pid and mine.holders[0].fd == 0
    assert mine.holders[0].process == "sleep"
