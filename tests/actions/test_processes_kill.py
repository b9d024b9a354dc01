"""processes.kill against real processes over the real SSH lab: TERM/KILL, reused pids, protection."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from runbook.connection import ConnectOptions, connect
from runbook.inventory import load_inventory
from runbook.processes.identity import (
    ProcessIdentity,
    identity_script,
    parse_identities,
    signal_script,
)
from tests.lab import Lab
from tests.lab.services import run_playbook

KILL = """
name: kill
steps:
  - name: kill
    action: processes.kill
    params: {params}
"""


@pytest.fixture
def spawn() -> Iterator:
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)


def _sleeper(spawn, marker: str) -> subprocess.Popen[bytes]:
    return spawn(sys.executable, "-c", "import time; time.sleep(600)", marker)


def _start_ticks(pid: int) -> int:
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks after boot."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[19])


def _wait_cmdline(pid: int, marker: str) -> None:
    deadline = time.monotonic() + 5
    while marker not in " ".join(psutil.Process(pid).cmdline()):
        assert time.monotonic() < deadline, "the process never showed its command line"
        time.sleep(0.02)


def test_pattern_kill_ends_the_job_by_term_and_journals_each_signal(lab: Lab, tmp_path: Path, spawn) -> None:
    marker = f"lab-job-{uuid.uuid4().hex[:8]}"
    job = _sleeper(spawn, marker)
    _wait_cmdline(job.pid, marker)
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    result, events = run_playbook(inventory, KILL.format(params=f"{{pattern: {marker}, grace: 3s}}"),
                                  tmp_path / "runs", limit="spare1")
    outcome = result.last_for("spare1")
    assert outcome.outcome == "changed", outcome.message
    assert job.wait(timeout=5) == -signal.SIGTERM
    assert "ended by TERM" in outcome.message
    signals = [(e["pid"], e["signal"], e["result"]) for e in events if e["event"] == "signal"]
    assert signals[0] == (job.pid, "TERM", "sent") and signals[-1][2].startswith("ended after")


def test_a_pid_that_runs_another_command_by_the_time_of_the_signal_is_left_alone(lab: Lab, tmp_path: Path,
                                                                               spawn) -> None:
    marker = f"lab-exec-{uuid.uuid4().hex[:8]}"
    code = ("import os, signal, time\n"
            "signal.signal(signal.SIGUSR1, lambda *a: os.execv('/bin/sleep', ['sleep', '600']))\n"
            "time.sleep(600)\n")
    proc = spawn(sys.executable, "-c", code, marker)
    _wait_cmdline(proc.pid, marker)

    def meanwhile(step, items) -> bool:
        # Between planning and the signal the process becomes something else (same pid, same start).
        os.kill(proc.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while psutil.Process(proc.pid).cmdline() != ["sleep", "600"]:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        return True

    inventory = lab.write_inventory(tmp_path / "inv.yml")
    result, events = run_playbook(inventory, KILL.format(params=f"{{pattern: {marker}, grace: 1s}}"),
                                  tmp_path / "runs", limit="spare1", yes=False, confirm=meanwhile)
    assert "not signalled: the pid runs another command line now" in result.last_for("spare1").message
    assert proc.poll() is None
    assert [e["result"] for e in events if e["event"] == "signal"] == ["changed"]


def test_a_reused_pid_is_not_signalled(lab: Lab, tmp_path: Path, spawn) -> None:
    inventory = load_inventory([lab.write_inventory(tmp_path / "inv.yml")])
    conn = connect(inventory.hosts["web1"], ConnectOptions())
    try:
        first = _sleeper(spawn, "lab-first")
        _wait_cmdline(first.pid, "lab-first")
        # A later process: its start time (in clock ticks) must differ from the first's, or the
        # two are one process as far as the kernel's records go; start another until it does.
        second = _sleeper(spawn, "lab-second")
        while _start_ticks(second.pid) == _start_ticks(first.pid):
            second.kill()
            second = _sleeper(spawn, "lab-second")
        _wait_cmdline(second.pid, "lab-second")
        ids, _, _ = parse_identities(conn.run(identity_script([first.pid, second.pid])).stdout)
        first.kill()
        first.wait(timeout=5)
        # The first process is gone; suppose its pid now belonged to the second one: same pid
        # number as reported, but another start time and command line.
        old = ids[first.pid]
        reused = ProcessIdentity(second.pid, old.start_ticks, old.cmdline_sum, old.state, old.ppid, old.session)
        assert reused.start_ticks < ids[second.pid].start_ticks
        assert conn.run(signal_script(reused, "KILL")).stdout.split() == ["reused"]
        assert second.poll() is None
        assert conn.run(signal_script(ids[first.pid], "KILL")).stdout.split() == ["gone"]
        assert conn.run(signal_script(ids[second.pid], "TERM")).stdout.split() == ["sent"]
        assert second.wait(timeout=5) == -signal.SIGTERM
    finally:
        conn.close()


@pytest.mark.parametrize("who", ["init", "sshd", "runbook"])
def test_protected_processes_are_refused(lab: Lab, tmp_path: Path, who: str) -> None:
    pid = {"init": 1, "sshd": lab.hosts["web1"].pid, "runbook": os.getpid()}[who]
    why = {"init": "pid 1 (init)", "sshd": "sshd, the way in", "runbook": "runbook"}[who]
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    result, events = run_playbook(inventory, KILL.format(params=f"{{pids: [{pid}]}}"), tmp_path / "runs",
                                  limit="web1")
    outcome = result.last_for("web1")
    assert outcome.outcome == "failed" and outcome.message.startswith("refused, nothing was ended")
    assert why in outcome.message
    assert not [e for e in events if e["event"] == "signal"]
    assert psutil.pid_exists(pid)


def test_inventory_protected_pattern_is_never_matched(lab: Lab, tmp_path: Path, spawn) -> None:
    marker = f"lab-precious-{uuid.uuid4().hex[:8]}"
    job = _sleeper(spawn, marker)
    _wait_cmdline(job.pid, marker)
    inventory = lab.write_inventory(tmp_path / "inv.yml", extra_vars={"protected_processes": ["lab-precious-"]})
    result, _ = run_playbook(inventory, KILL.format(params=f"{{pattern: {marker}}}"), tmp_path / "runs",
                             limit="spare1")
    outcome = result.last_for("spare1")
    assert outcome.outcome == "ok" and "refused" in outcome.message
    assert outcome.data["refused"][0]["pid"] == job.pid
    assert "protected_processes" in outcome.data["refused"][0]["why"]
    assert job.poll() is None


def test_check_mode_ends_nothing(lab: Lab, tmp_path: Path, spawn) -> None:
    marker = f"lab-check-{uuid.uuid4().hex[:8]}"
    job = _sleeper(spawn, marker)
    _wait_cmdline(job.pid, marker)
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    result, events = run_playbook(inventory, KILL.format(params=f"{{pattern: {marker}}}"), tmp_path / "runs",
                                  limit="spare1", check=True)
    outcome = result.last_for("spare1")
    assert outcome.outcome == "changed" and outcome.message.startswith(f"would: end pid {job.pid}")
    assert job.poll() is None and not [e for e in events if e["event"] == "signal"]
