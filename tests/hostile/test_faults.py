"""Faults end in bounded time with a complete journal (``run.end``, every started host's
``host.end``), the verdict shown and the documented exit code: sshd killed under a command, a
full local disk under the journal or an archive, a journal deleted during the run, a command
printing hundreds of megabytes."""

from __future__ import annotations

import os
import signal
import tarfile
from pathlib import Path

import psutil
import pytest

from runbook.connection.base import BoundedOutput
from tests.lab import Lab
from tests.support.cli import (events_of, journal, lab_inventory, local_inventory, run_dirs, runbook_cli,
                               start_runbook, write_playbook, command_step, CLI_TIMEOUT)
from tests.support.loglab import log_root, run_steps, small_mount, write_inventory
from tests.support.processes import wait_until


def test_sshd_killed_under_a_command_is_a_lost_connection_not_exit_minus_1(lab: Lab, tmp_path: Path) -> None:
    marker = tmp_path / "sshd.pid"
    # The command names the sshd process serving it (walking up from itself), then waits.
    find_sshd = ("p=$$; while [ \"$(cat /proc/$p/comm)\" != sshd ]; do p=$(awk '{print $4}' /proc/$p/stat); done; "
                 f"echo $p > {marker}; sleep 120")
    playbook = write_playbook(tmp_path / "pb.yml", command_step(find_sshd, name="waits"),
                              command_step("echo after", name="after"))
    inventory = lab_inventory(lab, tmp_path / "inv.yml")
    runs = tmp_path / "runs"
    proc = start_runbook("run", playbook, "-i", inventory, "-l", "web1", runs_dir=runs)
    try:
        assert wait_until(lambda: marker.is_file() and marker.read_text().strip(), timeout=CLI_TIMEOUT)
        sshd = psutil.Process(int(marker.read_text()))
        assert sshd.name() == "sshd" and sshd.username() == psutil.Process().username()  # the lab's, ours
        sshd.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == 5, out + err  # unreachable, not failed
    assert "exit -1" not in out + err and "Traceback" not in err
    events = journal(runs)
    (cut,) = events_of(events, "command", host="web1")
    assert cut["cut_short"] == "connection lost" and cut["exit_code"] is None
    waits, after = events_of(events, "host.end", host="web1")
    assert waits["outcome"] == "unreachable" and "connection lost" in waits["message"]
    assert after["outcome"] == "unreachable", "the host is unreachable from then on: nothing more sent"
    assert events[-1]["event"] == "run.end"


def test_bounded_output_keeps_head_and_tail_and_counts_the_rest() -> None:
    out = BoundedOutput(head=10, tail=4)
    for chunk in (b"0123456789", b"a" * 1000, b"WXYZ"):
        out.write(chunk)

    assert out.total == 1014
    assert out.text() == "0123456789\n[... 1000 bytes of output not kept ...]\nWXYZ"


def test_a_command_printing_200_mb_keeps_its_head_and_tail_and_its_size(tmp_path: Path) -> None:
    playbook = write_playbook(tmp_path / "pb.yml", command_step(
        "echo first; head -c 209715200 /dev/zero | tr '\\000' y; echo; echo the reason is at the end"))
    runs = tmp_path / "runs"

    done = runbook_cli("run", playbook, "-i", local_inventory(tmp_path / "inv.yml", {"self1": {}}), runs_dir=runs)

    assert done.returncode == 0, done.stderr
    (command,) = events_of(journal(runs), "command")
    assert command["stdout_bytes"] == len("first\n") + 200 * 1024 * 1024 + len("\nthe reason is at the end\n") and command["truncated"] is True
    assert command["stdout"].startswith("first\nyyy") and command["stdout"].endswith("the reason is at the end\n")


@pytest.fixture
def tiny_runs(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    with small_mount(tmp_path / "tiny", 512, fstype="tmpfs"):
        yield tmp_path / "tiny" / "runs"


def test_a_full_disk_under_the_journal_ends_the_run_with_run_end_and_exit_73(tiny_runs: Path, tmp_path: Path) -> None:
    # each step's output fills the journal by up to 64 KiB: the tiny disk is full after a few
    steps = [command_step("head -c 60000 /dev/urandom | base64 -w0", name=f"step{i}") for i in range(12)]
    playbook = write_playbook(tmp_path / "pb.yml", *steps)

    done = runbook_cli("run", playbook, "-i", local_inventory(tmp_path / "inv.yml", {"self1": {}}), runs_dir=tiny_runs)

    assert done.returncode == 73, done.stdout + done.stderr
    (run,) = run_dirs(tiny_runs)
    path = run / "journal.jsonl"
    assert done.stderr.strip().splitlines()[-1] == f"runbook: error: cannot write {path}: No space left on device"
    assert "aborted" in done.stdout and "step0" in done.stdout, "the verdict is still shown"
    assert path.read_bytes().endswith(b"\n"), "no half-written event"
    events = journal(tiny_runs)
    assert events[-1]["event"] == "run.end" and events[-1]["status"] == "aborted"
    started = {e["step"] for e in events_of(events, "host.start")}
    assert started == {e["step"] for e in events_of(events, "host.end")} and len(started) < 12
    assert not (run / ".journal-reserve").exists()
    listed = runbook_cli("runs", "list", runs_dir=tiny_runs)
    assert listed.returncode == 0 and "aborted" in listed.stdout and "damaged" not in listed.stderr


def test_a_sweep_whose_journal_disk_fills_midway_still_judges_every_host_and_exits_73(lab: Lab, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    inventory = lab_inventory(lab, tmp_path / "inv.yml")
    with small_mount(tmp_path / "tiny", 1024, fstype="tmpfs"):
        runs = tmp_path / "tiny" / "runs"
        runs.mkdir()
        # Room for the journal's 256 KiB reserve and its first events, not for a whole sweep's:
        # each host's facts and output are ~8 KiB of journal.
        free = os.statvfs(runs).f_bavail * os.statvfs(runs).f_frsize
        (tmp_path / "tiny" / "filler").write_bytes(b"x" * (free - 256 * 1024 - 12 * 1024))

        done = runbook_cli("sweep", "-i", inventory, runs_dir=runs)

        assert done.returncode == 73, done.stdout + done.stderr
        (run,) = run_dirs(runs)
        assert done.stderr.strip().splitlines()[-1] == (f"runbook: error: cannot write {run / 'journal.jsonl'}: "
                                                        "No space left on device")
        for name in ("web1", "app1", "db1", "spare1"):  # the verdict is still every host's
            assert any(line.split()[:2] == ["OK", name] for line in done.stdout.splitlines()), done.stdout
        assert "OK: 4 host(s), 4 OK" in done.stdout
        events = journal(runs)
        assert events[-1]["event"] == "run.end"
        assert {e["host"] for e in events_of(events, "host.end")} == {"web1", "app1", "db1", "spare1"}
        cut = ["characters cut ...]" in e["stdout"] for e in events_of(events, "command")]
        assert cut[0] is False and cut[-1] is True, "the events after the failure are kept in brief"


def test_a_journal_deleted_during_the_run_is_written_back_and_named(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    playbook = write_playbook(tmp_path / "pb.yml", command_step(f"rm {runs}/*/journal.jsonl", name="deletes"),
                              command_step("echo still here", name="after"))

    done = runbook_cli("run", playbook, "-i", local_inventory(tmp_path / "inv.yml", {"self1": {}}), runs_dir=runs)

    assert done.returncode == 73, done.stdout + done.stderr
    (run,) = run_dirs(runs)
    assert f"cannot write {run / 'journal.jsonl'}: the journal was deleted during the run" in done.stderr
    events = journal(runs)
    assert [e["event"] for e in events][0] == "run.start" and events[-1]["event"] == "run.end"
    assert events_of(events, "host.end", host="self1")[-1]["message"] == "still here"


def test_a_full_local_disk_during_logs_archive_leaves_no_partial_archive(lab: Lab, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    log = log_root(lab, "web1", tmp_path.name) / "var/log/nginx/access.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(os.urandom(6 * 1024 * 1024))  # does not compress: the archive needs 6 MiB
    with small_mount(tmp_path / "tiny", 2048, fstype="tmpfs"):
        runs = tmp_path / "tiny" / "runs"

        result, events = run_steps(inventory, [{"action": "logs.archive", "params": {}}], runs, limit="web1")

        (outcome,) = result.outcomes
        assert outcome.outcome == "failed" and "No space left on device" in outcome.message, outcome.message
        assert ".tar.gz.part" in outcome.message and "partial archive was removed" in outcome.message
        assert not list(runs.glob("*/artifacts/web1/*")), "no partial archive left filling the disk"
        assert [e["event"] for e in events][-1] == "run.end"
        assert events_of(events, "host.end", host="web1")[0]["error"]["type"] == "LocalWriteError"
    assert log.stat().st_size == 6 * 1024 * 1024, "the host's log is untouched"


def test_logs_analyze_refuses_an_archive_member_outside_the_archive(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    log = tmp_path / "error.log"
    log.write_text("2026/11/25 02:00:00 [error] 1#1: *1 boom, client: 10.0.0.1\n")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(log, arcname="var/log/nginx/error.log")
        tar.add(log, arcname="../../escaped.log")
    work = tmp_path / "cwd"
    work.mkdir()

    done = runbook_cli("logs", "analyze", archive, runs_dir=tmp_path / "runs")

    assert done.returncode == 78, done.stderr
    assert done.stderr.strip() == (f"runbook: error: {archive}: member '../../escaped.log' points outside the "
                                   "archive; nothing extracted")
    assert not list(tmp_path.parent.glob("escaped.log")) and not list(Path("/tmp").glob("escaped.log"))
