"""Reading compressed logs: the forked decompressor, broken .gz/.bz2/.xz files, and that both
ways of reading give the same chunks and the same analysis."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runbook.analysis import analyze_paths
from runbook.analysis.remote import bundle, remote_command
from runbook.analysis.sidecar import MIN_BYTES, UnreadableLog, chunks_aside, usable
from runbook.analysis.sources import head_lines, log_chunks

from .conftest import FIXTURES

# bzip2 at level 1 has 100 kB blocks; at 9 the test logs would fit in one, which a cut
# would make unreadable as a whole.
COMPRESS = {"gz": gzip.compress, "bz2": lambda data: bz2.compress(data, 1), "xz": lzma.compress}


def access_log(lines: int, seed: int = 3) -> bytes:
    """A combined-format log with varied clients, paths and statuses (compresses only ~4x)."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        status = rng.choice((200, 200, 200, 304, 404, 500, 502))
        out.append('10.%d.%d.%d - - [25/Nov/2026:02:%02d:%02d +0100] "GET /api/orders/%d HTTP/1.1" '
                   '%d %d "-" "agent/%d"\n' % (rng.randrange(256), rng.randrange(256), rng.randrange(256),
                                              i // 6000 % 60, i // 100 % 60, rng.randrange(10**9), status,
                                              rng.randrange(10**6), rng.randrange(10**4)))
    return "".join(out).encode()


def read_all(path: Path, size: int, aside: bool) -> tuple[list[bytes], str | None]:
    """Every chunk, and the UnreadableLog message at the end if there was one."""
    chunks: list[bytes] = []
    try:
        for chunk in log_chunks(str(path), size, aside=aside):
            chunks.append(chunk)
    except UnreadableLog as error:
        return chunks, error.strerror
    return chunks, None


@pytest.mark.parametrize("kind", sorted(COMPRESS))
def test_forked_and_in_process_reading_give_the_same_chunks(tmp_path, kind):
    text = access_log(3000)
    path = tmp_path / ("access.log.1." + kind)
    path.write_bytes(COMPRESS[kind](text))
    aside, problem = read_all(path, 4096, aside=True)  # small chunks: the two slots are reused often
    inline, inline_problem = read_all(path, 4096, aside=False)
    assert problem is None and inline_problem is None
    assert aside == inline
    assert b"".join(aside) == text
    assert len(aside) > 20 and all(c.endswith(b"\n") and len(c) <= 2 * 4096 + 1 for c in aside)


@pytest.mark.parametrize("kind", sorted(COMPRESS))
@pytest.mark.parametrize("ending", [b"\n", b""], ids=["newline", "no-final-newline"])
def test_a_compressed_log_is_read_in_the_same_chunks_as_the_plain_one(tmp_path, kind, ending):
    """The chunks, and so the analysis, must not change when logrotate compresses a file."""
    rng = random.Random(5)
    lines = [b"x" * rng.choice((1, 40, 300, 1023, 1024, 1025, 2047, 2048, 2049, 5000))
             for _ in range(400)]
    text = b"\n".join(lines) + ending  # lines around, at and far beyond the chunk size
    (tmp_path / "odd.log").write_bytes(text)
    (tmp_path / ("odd.log.1." + kind)).write_bytes(COMPRESS[kind](text))
    plain = list(log_chunks(str(tmp_path / "odd.log"), 1024))
    assert any(len(c) == 2 * 1024 + 1 for c in plain)  # a split long line is in there
    for aside in (True, False):
        assert read_all(tmp_path / ("odd.log.1." + kind), 1024, aside) == (plain, None)


def test_a_log_and_its_gzipped_copy_give_the_same_analysis(tmp_path):
    text = access_log(100000)  # 3 chunks, and more error paths than the tables keep
    (tmp_path / "access.log").write_bytes(text)
    (tmp_path / "copy").mkdir()
    (tmp_path / "copy" / "access.log.gz").write_bytes(gzip.compress(text))

    def sets(path: Path) -> list:
        data = json.loads(analyze_paths([str(path)], top=3).to_json())["sets"]
        return [{k: v for k, v in s.items() if k not in ("name", "files")} for s in data]

    assert sets(tmp_path / "access.log") == sets(tmp_path / "copy" / "access.log.gz")


def test_the_chunks_are_made_in_another_process():
    def produce():
        for _ in range(5):
            yield b"%d\n" % os.getpid()

    pids = {int(chunk) for chunk in chunks_aside(produce, 64)}
    assert len(pids) == 1 and pids != {os.getpid()}


def test_a_consumer_that_stops_early_leaves_no_process_behind():
    def produce():
        while True:
            yield b"%d\n" % os.getpid()

    chunks = chunks_aside(produce, 64)
    child = int(next(chunks))
    assert os.path.exists("/proc/%d" % child)
    chunks.close()
    assert not os.path.exists("/proc/%d" % child)  # killed and reaped, not a zombie


def test_an_error_in_the_child_arrives_after_the_chunks_before_it():
    def produce():
        yield b"one\n"
        yield b"two\n"
        raise PermissionError(13, "Permission denied")

    got = []
    with pytest.raises(OSError) as raised:
        for chunk in chunks_aside(produce, 64):
            got.append(chunk)
    assert got == [b"one\n", b"two\n"]
    assert (raised.value.errno, raised.value.strerror) == (13, "Permission denied")


def test_no_fork_while_other_threads_run():
    assert usable() == (threading.active_count() == 1)
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(usable).result() is False


@pytest.mark.parametrize("kind", sorted(COMPRESS))
@pytest.mark.parametrize("aside", [True, False], ids=["forked", "in-process"])
def test_a_cut_off_file_yields_what_it_has_then_says_so(tmp_path, kind, aside):
    text = access_log(2000)
    data = COMPRESS[kind](text)
    path = tmp_path / ("access.log.2." + kind)
    path.write_bytes(data[:len(data) * 2 // 3])  # logrotate still compressing, or a full disk
    chunks, problem = read_all(path, 4096, aside)
    assert problem and "ends early" in problem
    got = b"".join(chunks)
    assert len(got) > len(text) // 3
    whole_lines = got[:got.rfind(b"\n", 0, len(got) - 1) + 1]  # the last one is cut off
    assert text.startswith(whole_lines)  # a prefix of the log, nothing made up


def test_corrupt_gzip_data_names_where(tmp_path):
    text = access_log(2000)
    data = bytearray(gzip.compress(text))
    data[len(data) // 2:len(data) // 2 + 64] = os.urandom(64)
    path = tmp_path / "access.log.3.gz"
    path.write_bytes(bytes(data))
    forked = read_all(path, 4096, True)
    assert forked == read_all(path, 4096, False)
    chunks, problem = forked
    assert problem and "gzip data" in problem
    # zlib detects the damage where it is, or at the latest by the member's CRC at the end
    assert text.startswith(b"".join(chunks)[:len(text) // 4])


def test_broken_rotated_file_is_a_note_and_the_rest_of_the_set_is_read(tmp_path):
    lines = (FIXTURES / "nginx-access-combined.log").read_bytes().splitlines(keepends=True)
    whole = gzip.compress(b"".join(lines[:12]))
    (tmp_path / "access.log.1.gz").write_bytes(whole[:len(whole) - 9])  # trailer gone
    (tmp_path / "access.log").write_bytes(b"".join(lines[12:]))
    result = analyze_paths([str(tmp_path / "access.log"), str(tmp_path / "access.log.1.gz")])
    broken, current = result.sets[0].files
    assert broken.error and "ends early" in broken.error and not broken.skipped
    assert broken.lines == 12  # the data was all there; only the end-of-member marker was lost
    assert current.error is None and current.lines == len(lines) - 12
    assert result.sets[0].access.requests == len(lines)
    assert any("access.log.1.gz: read 12 lines, then stopped" in note for note in result.notes)


def test_garbage_behind_a_gzip_header_is_a_note_not_a_crash(tmp_path):
    path = tmp_path / "error.log.1.gz"
    path.write_bytes(gzip.compress(b"x")[:10] + bytes(range(256)) * 8)
    assert head_lines(str(path)) == []
    result = analyze_paths([str(path)])
    assert result.sets[0].files[0].error.startswith("corrupt gzip data between bytes 0 and")
    assert result.sets[0].lines == 0


def test_big_gzip_is_analysed_the_same_on_the_server_and_here(tmp_path):
    """Above MIN_BYTES the remote analyzer (one thread) inflates in a forked child; here, in a
    worker thread, the same file is read in process. Both must give the same JSON."""
    text = access_log(60000)
    path = tmp_path / "access.log.1.gz"
    path.write_bytes(gzip.compress(text, 6))
    assert path.stat().st_size >= MIN_BYTES
    done = subprocess.run(["sh", "-c", remote_command([str(path)])], input=bundle(),
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    with ThreadPoolExecutor(1) as pool:
        threaded, local = pool.submit(
            lambda: (not usable(), analyze_paths([str(path)]))).result()
    assert threaded
    assert done.stdout.decode() == local.to_json() + "\n"
    data = json.loads(done.stdout)["sets"][0]
    assert data["lines"] == 60000 and data["garbage"] == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become a user without processes")
def test_when_fork_fails_the_chunks_are_made_in_process():
    """A server out of processes still gets its analysis: as another user whose process
    limit is reached, fork fails with EAGAIN and the chunks are made in process."""
    code = "\n".join([
        "import os, resource",
        "from runbook.analysis.sidecar import chunks_aside",
        "os.setgid(65534); os.setuid(65534)",
        "resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))",
        "try:",
        "    pid = os.fork()",
        "except BlockingIOError:",
        "    pass",
        "else:",
        "    os._exit(0) if pid == 0 else print('fork still works')",
        "chunks = chunks_aside(lambda: iter([b'%d\\n' % os.getpid(), b'two\\n']), 16)",
        "print(b''.join(chunks).decode().split()[0] == str(os.getpid()))",
    ])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]
