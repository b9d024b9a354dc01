"""Helpers for log and disk tests on the real-sshd lab: an inventory whose hosts use their own
tree as ``log_root``, one-shot playbook runs through the real engine, and file-tree snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook.inventory import load_inventory
from runbook.journal import read_events
from runbook.paths import Paths
from runbook.playbook import load_playbook
from runbook.run.options import RunOptions
from runbook.run.results import RunResult
from runbook.run.start import plan_hosts, start_run
from tests.lab import Lab


def write_inventory(lab: Lab, path: Path, subdir: str, *,
                    host_vars: Mapping[str, Mapping[str, Any]] | None = None, **extra_vars: Any) -> Path:
    """The lab inventory without the bad hosts. Each host's ``log_root`` is ``subdir`` of its
    own tree, so tests (ours and other suites') never share log files."""
    lab.write_inventory(path, include_bad=False, extra_vars=extra_vars)
    document = yaml.safe_load(path.read_text())
    for name, entry in document["hosts"].items():
        entry["vars"]["log_root"] = str(Path(entry["vars"]["lab_root"]) / subdir)
        entry["vars"].update((host_vars or {}).get(name, {}))
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def log_root(lab: Lab, host: str, subdir: str) -> Path:
    """Where ``write_inventory`` roots ``host``'s log sets."""
    return lab.hosts[host].root / subdir


def run_steps(inventory: Path, steps: list[dict[str, Any]], runs_dir: Path, *, limit: str | None = None,
              check: bool = False) -> tuple[RunResult, list[dict[str, Any]]]:
    """Run a playbook of ``steps`` with --yes; return the result and the journal's events."""
    text = yaml.safe_dump({"name": "test", "steps": steps}, sort_keys=False)
    book = load_playbook(runs_dir / "playbook.yml", text=text)
    inv = load_inventory([inventory])
    hosts = plan_hosts(inv, book, limit)
    engine = start_run(inv, hosts, book, Paths(runs_dir, runs_dir), RunOptions(check=check, assume_yes=True),
                       argv=["test"])
    result = engine.run()
    engine.journal.close()
    return result, read_events(engine.journal.path)


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry below root: relative name -> (size, mtime_ns), symlinks not followed."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            found[os.path.relpath(full, root)] = (st.st_size if not os.path.isdir(full) else 0, st.st_mtime_ns)
    return found


def write_log(path: Path, size: int, *, age_days: float = 0, seed: int = 0) -> Path:
    """A log file of ``size`` bytes of plausible lines, its mtime ``age_days`` ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (f'10.0.{seed % 250}.7 - - [25/Nov/2026:02:{seed % 60:02d}:00 +0100] "GET /shop/item/{seed} '
            'HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n').encode()
    data = (line * (size // len(line) + 1))[:size]
    path.write_bytes(data)
    if age_days:
        when = os.path.getmtime(path) - age_days * 86400
        os.utime(path, (when, when))
    return path


@contextmanager
def small_mount(where: Path, size_kib: int, *, fstype: str = "ext4") -> Iterator[str]:
    """A small filesystem mounted at ``where`` (ext4 on a loop device, or tmpfs), unmounted
    and removed afterwards whatever happens. Yields the filesystem type. Needs root."""
    where.mkdir(parents=True, exist_ok=True)
    image = where.parent / f".{where.name}.img"
    if fstype == "ext4":
        with open(image, "wb") as fh:
            fh.truncate(size_kib * 1024)
        steps = [["mkfs.ext4", "-q", "-F", "-m", "0", "-N", "256", str(image)],
                 ["mount", "-o", "loop", str(image), str(where)]]
    else:
        steps = [["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(where)]]
    for argv in steps:
        done = subprocess.run(argv, check=False, capture_output=True, text=True)
        if done.returncode != 0:
            image.unlink(missing_ok=True)
            pytest.skip(f"cannot make a small {fstype} filesystem here: {' '.join(argv[:3])}: {done.stderr.strip()}")
    try:
        yield fstype
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
        image.unlink(missing_ok=True)


def fill(mount: Path) -> None:
    """Fill a filesystem to the last byte (as root, so reserved blocks too)."""
    with open(mount / ".filler", "wb", buffering=0) as fh:
        chunk = b"\0" * 65536
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError:
            pass
    # A last partial chunk may still fit.
    with open(mount / ".filler2", "wb", buffering=0) as fh:
        try:
            for _ in range(65536):
                fh.write(b"\0" * 512)
                fh.flush()
        except OSError:
            pass


def events_of(events: list[dict[str, Any]], event: str, **match: Any) -> list[dict[str, Any]]:
    """The journal events of one type whose fields equal ``match``."""
    return [e for e in events if e["event"] == event and all(e.get(k) == v for k, v in match.items())]


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts to hold files open; killed when the test ends."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()


def hold_deleted(path: Path, size: int, holders: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """A real process holds ``path`` (``size`` bytes of log lines) open for writing, as its
    fd 1, after its name was deleted."""
    write_log(path, size)
    with open(path, "ab") as log:
        proc = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL, stdout=log)
    holders.append(proc)
    path.unlink()
    return proc


# Appends a numbered line every few milliseconds to the file it was given, as a busy nginx does.
_APPENDER = ("import sys, time\n"
             "log = open(sys.argv[1], 'ab', buffering=0)\n"
             "print('ready', flush=True)\n"
             "n = 0\n"
             "while True:\n"
             "    log.write(b'appended %d\\n' % n); n += 1; time.sleep(0.003)\n")


def append_deleted(path: Path, holders: list[subprocess.Popen[bytes]]) -> tuple[int, str]:
    """A real process keeps appending to ``path`` (an existing log) after its name was
    deleted; returns its pid and the fd link it writes through."""
    writer = subprocess.Popen([sys.executable, "-c", _APPENDER, str(path)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
    holders.append(writer)
    assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
    path.unlink()
    fds = f"/proc/{writer.pid}/fd"
    return writer.pid, next(f"{fds}/{n}" for n in os.listdir(fds)
                            if os.readlink(f"{fds}/{n}") == f"{path} (deleted)")
