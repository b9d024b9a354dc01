"""The archive stream layer without SSH: the remote program run here as a real subprocess, its
frames fed to FrameReader in chunks of every size; the shell mode's writer likewise."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import tarfile
from io import BytesIO
from pathlib import Path

import pytest

from runbook.errors import ActionError
from runbook.logs.archive.remote import BOOTSTRAP
from runbook.logs.archive.stream import (
    FrameReader,
    HeldOpen,
    Listed,
    TarGzWriter,
    parse_shell_sums,
    remote_stdin,
    shell_stream_script,
    shell_sums_script,
    verify_archive,
)


def listed(path: Path, size: int | None = None) -> Listed:
    st = path.stat()
    return Listed(str(path), st.st_size if size is None else size, st.st_mtime, st.st_dev, st.st_ino)


def feed(sink: object, data: bytes, seed: int) -> None:
    rng = random.Random(seed)
    at = 0
    while at < len(data):
        step = rng.choice((1, 2, 5, 4096, 70_000))
        sink.write(data[at:at + step])  # type: ignore[attr-defined]
        at += step


@pytest.fixture
def logs(tmp_path: Path) -> list[Path]:
    files = [tmp_path / "access.log", tmp_path / "new\nline $(x).log", tmp_path / "empty.log"]
    files[0].write_bytes(os.urandom(3000) + b"GET /\n" * 50_000)
    files[1].write_bytes(b"odd\n" * 1000)
    files[2].write_bytes(b"")
    return files


@pytest.mark.parametrize("seed", [1, 2])
def test_remote_program_frames_survive_any_chunking(logs: list[Path], tmp_path: Path, seed: int) -> None:
    jobs = [listed(logs[0], size=200_000), listed(logs[1]), listed(logs[2]), Listed("/nonexistent.log", 5, 0, 0, 0)]
    with open(logs[0], "ab") as fh:
        fh.write(b"appended after listing\n")
    run = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP], input=remote_stdin(jobs, level=1, chunk=7000),
                         capture_output=True, check=True)
    out = BytesIO()
    reader = FrameReader(out)
    feed(reader, run.stdout, seed)
    assert reader.complete and reader.end == {"files": 4, "bytes": 200_000 + 4000}
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(out.getvalue())
    assert hashlib.sha256(out.getvalue()).hexdigest() == reader.sha256.hexdigest()
    members = verify_archive(archive)
    entries = {e["path"]: e for e in reader.entries}
    assert entries["/nonexistent.log"]["status"] == "missing"
    first = logs[0].read_bytes()[:200_000]
    assert members[str(logs[0]).lstrip("/")] == (200_000, hashlib.sha256(first).hexdigest())
    assert entries[str(logs[0])]["sha256"] == hashlib.sha256(first).hexdigest()
    assert members[str(logs[1]).lstrip("/")][1] == entries[str(logs[1])]["sha256"]
    assert entries[str(logs[2])]["bytes"] == 0 and entries[str(logs[2])]["status"] == "ok"
    with tarfile.open(archive) as tar:  # also readable as a plain tar.gz (by tar, zcat, ...)
        assert tar.getnames() == [str(p).lstrip("/") for p in logs]


def test_only_a_proc_fd_link_is_followed_and_only_for_a_deleted_file(tmp_path: Path) -> None:
    """The remote program follows /proc/PID/fd/N for a deleted-but-open file; any other
    symlink stays refused (O_NOFOLLOW), even when the job claims it is such a file."""
    log = tmp_path / "access.log"
    log.write_bytes(b"GET /evidence\n" * 1000)
    st = log.stat()
    with open(log, "ab") as held_fh:
        holder = subprocess.Popen(["sleep", "60"], stdout=held_fh, stdin=subprocess.DEVNULL)
    try:
        log.unlink()
        (tmp_path / "link.log").symlink_to("/etc/hostname")
        held = HeldOpen(str(log), holder.pid, 1, "sleep")
        jobs = [Listed(held.fd_path, 7000, 0, st.st_dev, st.st_ino, held=held),
                Listed(str(tmp_path / "link.log"), 5, 0, 0, 0, held=HeldOpen("/x", 1, 1, "p"))]
        run = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP],
                             input=remote_stdin(jobs, level=1, chunk=4096), capture_output=True, check=True)
    finally:
        holder.kill()
        holder.wait()
    reader = FrameReader(BytesIO())
    reader.write(run.stdout)
    secured, symlink = reader.entries
    assert secured["status"] == "ok" and secured["bytes"] == 7000
    assert secured["member"] == f"deleted/{holder.pid}-1/access.log"
    assert secured["sha256"] == hashlib.sha256((b"GET /evidence\n" * 1000)[:7000]).hexdigest()
    assert symlink["status"] == "unreadable" and "bytes" not in symlink


def test_garbage_instead_of_frames_is_refused() -> None:
    with pytest.raises(ActionError, match="garbled"):
        FrameReader(BytesIO()).write(b"Traceback (most recent call last):\n")


@pytest.mark.parametrize("seed", [3, 4])
def test_shell_mode_writer_and_sums(logs: list[Path], tmp_path: Path, seed: int) -> None:
    jobs = [listed(logs[0], size=100_000), listed(logs[1]), listed(logs[2])]
    stream = subprocess.run(["sh", "-s"], input=shell_stream_script(jobs).encode(), capture_output=True, check=True)
    sums = subprocess.run(["sh", "-s"], input=shell_sums_script(jobs).encode(), capture_output=True, check=True)
    out = BytesIO()
    writer = TarGzWriter(out, jobs, level=1)
    feed(writer, stream.stdout, seed)
    writer.close()
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(out.getvalue())
    members = verify_archive(archive)
    entries = parse_shell_sums(sums.stdout.decode(), jobs)
    assert [e["status"] for e in entries] == ["ok", "ok", "ok"]
    for job, entry, sum_here in zip(jobs, entries, writer.sums):
        assert members[entry["member"]] == (job.size, entry["sha256"]) and sum_here == entry["sha256"]
    assert writer.sha256 == hashlib.sha256(out.getvalue()).hexdigest()


def test_shell_mode_writer_refuses_a_stream_of_the_wrong_length(logs: list[Path]) -> None:
    writer = TarGzWriter(BytesIO(), [listed(logs[1])], level=1)
    with pytest.raises(ActionError, match="more than listed"):
        writer.write(b"x" * 5000)
    short = TarGzWriter(BytesIO(), [listed(logs[1])], level=1)
    short.write(b"x" * 10)
    with pytest.raises(ActionError, match="ended early"):
        short.close()
