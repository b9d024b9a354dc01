"""A sweep of hundreds of real SSH hosts with a low open-files limit: the test-sized form of
issue 14's 1,000-host sweep (bench/scale.py runs the full one).

The hosts are a ``ManyHostsLab``: 300 loopback addresses served by 19 sshd processes. Its
addresses follow the suite's subnet (RUNBOOK_LAB_SUBNET=127.0.30 -> 127.30.0.1 on), so two
suites on one machine do not collide.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook.journal import read_events
from tests.lab import lab_unavailable_reason
from tests.lab.many import ManyHostsLab
from tests.support.cli import REPO, cli_env, run_dirs

pytestmark = pytest.mark.lab

HOSTS = 300
# Below what 300 connections held open to the end (plus a pipe pair per channel for select())
# needed before issue 14; enough for --forks 50 (runbook.limits.fds_needed: 264).
OPEN_FILES = 300
SWEEP_TIMEOUT = 240.0  # a bound against a hang on a loaded machine, not a performance target


#: OK, WARNING or CRITICAL: every host judged. Which one is this machine's business (its
#: mounts are every lab host's mounts; another program may just have filled one).
JUDGED = (0, 1, 2)


def judged(host: dict) -> bool:
    """Reached over SSH, its facts read and checked: no UNKNOWN, no internal error."""
    return (host["reachable"] and host["status"] != "UNKNOWN" and any(c["name"] == "memory" for c in host["checks"])
            and "internal error" not in host["message"])


def many_lab_first() -> str:
    """127.0.30 (the suite's subnet) -> 127.30.0.1."""
    third = os.environ.get("RUNBOOK_LAB_SUBNET", "127.0.10").split(".")[2]
    return f"127.{third}.0.1"


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManyHostsLab]:
    reason = lab_unavailable_reason()
    if reason:
        pytest.skip(reason)
    lab = ManyHostsLab(tmp_path_factory.mktemp("many"), HOSTS, first=many_lab_first())
    try:
        yield lab.start()
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def many_inventory(many: ManyHostsLab) -> Path:
    # Every lab host is this machine, whose load the sweep itself drives up past 2 per CPU.
    return many.write_inventory(many.base_dir / "inventory.yml",
                                extra_vars={"load_warn": 1000, "load_crit": 1000})


def sweep_with_open_files(inventory: Path, runs: Path, soft: int, hard: int,
                          *args: str) -> subprocess.CompletedProcess[str]:
    """``runbook sweep --json`` as a process whose RLIMIT_NOFILE is (soft, hard) from its start."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    return subprocess.run([sys.executable, "-m", "runbook", "sweep", "--json", "-i", str(inventory), *args],
                          cwd=REPO, env=cli_env(runs), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=SWEEP_TIMEOUT, preexec_fn=limit, check=False)


def test_300_hosts_with_300_open_files_all_come_back_ok(many: ManyHostsLab, many_inventory: Path,
                                                        tmp_path: Path) -> None:
    done = sweep_with_open_files(many_inventory, tmp_path / "runs", OPEN_FILES, OPEN_FILES)
    assert done.returncode in JUDGED, done.stderr[-2000:]
    document = json.loads(done.stdout)
    assert len(document["hosts"]) == HOSTS
    not_judged = [(h["name"], h["message"]) for h in document["hosts"] if not judged(h)]
    assert not_judged == []
    events = read_events(run_dirs(tmp_path / "runs")[0] / "journal.jsonl")
    assert [e for e in events if e["event"] == "error"] == []  # no internal error on any host
    ends = [e for e in events if e["event"] == "host.end"]
    assert sorted(e["host"] for e in ends) == sorted(many.hosts)  # no host lost
    assert {e["outcome"] for e in ends} == {"ok"}


def test_a_low_soft_limit_is_raised_to_the_hard_limit(many_inventory: Path, tmp_path: Path) -> None:
    # 59 hosts (h0001-h0059) at 50 in parallel need 264 files; the soft limit of 128 would refuse.
    done = sweep_with_open_files(many_inventory, tmp_path / "runs", 128, 4096, "-l", "h00[0-5]?")
    assert done.returncode in JUDGED, done.stderr[-2000:]
    hosts = json.loads(done.stdout)["hosts"]
    assert len(hosts) == 59 and all(judged(h) for h in hosts)


def test_a_hard_limit_too_low_for_the_forks_is_one_clear_line(many_inventory: Path, tmp_path: Path) -> None:
    done = sweep_with_open_files(many_inventory, tmp_path / "runs", 100, 100)
    assert done.returncode == 71
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "RLIMIT_NOFILE" in lines[0] and "--forks 9 or less" in lines[0]
    assert run_dirs(tmp_path / "runs") == []  # stopped before any host was contacted
