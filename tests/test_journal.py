"""The run journal: written as the run goes, complete, free of secrets, readable with `runbook runs`."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runbook.connection.local import LocalConnection
from runbook.errors import Interrupted
from runbook.inventory.model import Host
from runbook.journal import MAX_OUTPUT_CHARS, Journal, read_events
from runbook.task import HostTask
from tests.support.cli import (
    command_step,
    events_of,
    host_end,
    isolate,
    journal,
    local_inventory,
    no_traceback,
    run_dirs,
    run_main,
    runbook_cli,
    start_runbook,
    write_playbook,
)
from tests.support.processes import sleeps_with, unique_marker, wait_until


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def test_events_are_on_disk_while_the_run_is_still_going(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    marker = unique_marker()
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {}})
    book = write_playbook(tmp_path / "pb.yml", command_step("echo first-step-output", name="First"),
                          command_step(f"sleep 2.{marker}", name="Second"))
    proc = start_runbook("run", book, "-i", inventory, runs_dir=runs)
    try:
        def second_step_running() -> list[dict]:
            events = journal(runs) if run_dirs(runs) else []
            return events if events_of(events, "host.start", step=1) else []

        events = wait_until(second_step_running, timeout=30)
        still_running = proc.poll() is None
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert still_running, "the run ended before its journal could be read mid-way"
    assert events[0]["event"] == "run.start"
    (first,) = events_of(events, "command", step=0)
    assert first["stdout"] == "first-step-output\n" and first["exit_code"] == 0
    assert host_end(events, "self1", step=0)["outcome"] == "ok"
    assert not events_of(events, "run.end")
    assert proc.returncode == 0, err
    assert journal(runs)[-1]["event"] == "run.end"


def test_a_journal_records_the_run_from_start_to_end(tmp_path: Path, hermetic: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    probe = {"name": "Probe", "action": "command",
             "params": {"cmd": "echo out; echo err >&2; exit 3", "expect_exit": 3}, "check_mode": "run"}
    book = write_playbook(tmp_path / "pb.yml", probe, name="Journal test")

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--incident", "ACME-412")

    assert code == 0, err
    events = journal(hermetic)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    start = events[0]
    assert start["event"] == "run.start"
    assert start["incident"] == "ACME-412" and start["hosts"] == ["self1", "self2"]
    assert start["playbook"]["name"] == "Journal test" and len(start["playbook"]["sha256"]) == 64
    assert start["inventory"]["paths"] == [str(inventory)] and len(start["inventory"]["sha256"]) == 64
    assert start["user"] and start["argv"]
    for host in ("self1", "self2"):
        (command,) = events_of(events, "command", host=host)
        assert (command["exit_code"], command["stdout"], command["stderr"]) == (3, "out\n", "err\n")
        assert command["duration"] >= 0 and command["timed_out"] is False
        assert host_end(events, host)["outcome"] == "ok"
    assert [e["event"] for e in events[-2:]] == ["step.end", "run.end"]
    assert events[-1]["status"] == "completed" and events[-1]["counts"]["ok"] == 2


def test_secrets_never_reach_the_journal_or_the_output(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {"vars": {"api_token": "tok-9f8e7d6c"}}})
    # Local commands inherit runbook's environment: echoing RUNBOOK_SUDO_PASSWORD is the worst case.
    book = write_playbook(
        tmp_path / "pb.yml",
        command_step('echo "db={{ db_password }} token={{ api_token }} sudo=$RUNBOOK_SUDO_PASSWORD"', name="Leak"),
        command_step("echo {{ db_password }} >&2; exit 1", name="Leak on failure"))
    env = {"RUNBOOK_SUDO_PASSWORD": "sudo-pw-31337"}

    result = runbook_cli("run", book, "-i", inventory, "-e", "db_password=hunter2", runs_dir=runs, env=env)
    as_json = runbook_cli("run", book, "-i", inventory, "-e", "db_password=hunter2", "--json",
                          runs_dir=runs, env=env)

    assert result.returncode == 4 and as_json.returncode == 4, result.stderr
    journals = [(d / "journal.jsonl").read_text() for d in run_dirs(runs)]
    shown = runbook_cli("runs", "show", run_dirs(runs)[0].name, "--json", runs_dir=runs)
    for text in (*journals, result.stdout, result.stderr, as_json.stdout, as_json.stderr, shown.stdout):
        for secret in ("hunter2", "tok-9f8e7d6c", "sudo-pw-31337"):
            assert secret not in text
    command = events_of(read_events(run_dirs(runs)[0] / "journal.jsonl"), "command", step=0)[0]
    assert command["stdout"] == "db=*** token=*** sudo=***\n"
    assert "db_password=***" in journals[0]  # the -e in run.start's argv


def test_large_output_is_truncated_with_its_size_noted(tmp_path: Path, hermetic: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    size = 3 * MAX_OUTPUT_CHARS
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {}})
    book = write_playbook(tmp_path / "pb.yml",
                          command_step(f"echo BEGIN; head -c {size} /dev/zero | tr '\\0' x; echo; echo END"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 0, err
    (command,) = events_of(journal(hermetic), "command")
    full = len("BEGIN\n") + size + len("\nEND\n")
    assert command["stdout_bytes"] == full
    assert command["truncated"] is True
    assert len(command["stdout"]) < MAX_OUTPUT_CHARS + 200
    assert command["stdout"].startswith("BEGIN\n") and command["stdout"].endswith("END\n")
    assert f"[... {full - MAX_OUTPUT_CHARS} characters cut ...]" in command["stdout"]
    # the journal stays a few dozen KiB, not the full output
    assert (run_dirs(hermetic)[0] / "journal.jsonl").stat().st_size < 2 * MAX_OUTPUT_CHARS + 20_000


def test_runs_list_and_show(tmp_path: Path, hermetic: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    ok = write_playbook(tmp_path / "ok.yml", command_step("true"), name="All good")
    bad = write_playbook(tmp_path / "bad.yml", command_step("false"), name="All bad")
    assert run_main(capsys, "run", ok, "-i", inventory, "--incident", "INC-1")[0] == 0
    assert run_main(capsys, "run", bad, "-i", inventory)[0] == 4

    code, out, err = run_main(capsys, "runs", "list", "--json")
    assert code == 0, err
    runs = json.loads(out)
    # newest first
    assert [(r["playbook"], r["status"], r["incident"], r["hosts"]) for r in runs] == [
        ("All bad", "aborted", None, 2), ("All good", "completed", "INC-1", 2)]
    assert runs[0]["counts"] == {"failed": 2} and runs[1]["counts"] == {"ok": 2}
    assert [Path(r["path"]).parent for r in runs] == [hermetic, hermetic]

    code, out, err = run_main(capsys, "runs", "show", runs[1]["run_id"], "--json")
    assert code == 0, err
    events = json.loads(out)
    assert events == read_events(Path(runs[1]["path"]) / "journal.jsonl")
    assert events[0]["event"] == "run.start" and events[-1]["event"] == "run.end"

    code, out, err = run_main(capsys, "runs", "show", runs[1]["run_id"])
    assert code == 0, err
    assert "All good" in out and "completed" in out and "self1" in out and "self2" in out

    code, out, err = run_main(capsys, "runs", "list")
    assert code == 0 and runs[0]["run_id"] in out and runs[1]["run_id"] in out


def test_runs_show_of_an_unknown_run_is_one_line(tmp_path: Path) -> None:
    result = runbook_cli("runs", "show", "19990101T000000Z-dead", runs_dir=tmp_path / "runs")

    assert result.returncode != 0
    no_traceback(result.stdout, result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no run matches '19990101T000000Z-dead'" in result.stderr


def _task(tmp_path: Path, conn: LocalConnection) -> tuple[HostTask, Journal]:
    host = Host(name="self", customer="acme", connection="local", address="localhost", port=22, user=None,
                identity_files=(), known_hosts="", jump=None, sudo=False, connect_timeout=5.0,
                command_timeout=30.0, roles=(), vars={}, file="inv.yml", line=1)
    journal = Journal(tmp_path / "run")
    task = HostTask(host=host, connect=lambda: conn, journal=journal, step=0, vars={}, timeout=30.0,
                    check=False, clock=lambda: datetime.now(timezone.utc))
    return task, journal


def test_an_interrupted_command_is_journalled_as_cut_short_one_never_started_is_not(tmp_path: Path) -> None:
    conn = LocalConnection("self")
    task, journal = _task(tmp_path, conn)
    marker = unique_marker()

    def ctrl_c_once_it_runs() -> None:
        if wait_until(lambda: bool(sleeps_with(marker)), timeout=30):
            conn.cancel()

    stopper = threading.Thread(target=ctrl_c_once_it_runs, daemon=True)
    stopper.start()
    try:
        with pytest.raises(Interrupted):
            task.run(f"sleep 30.{marker}")
        with pytest.raises(Interrupted):
            task.run("echo never started")
    finally:
        stopper.join(timeout=30)
        journal.close()
    commands = [e for e in read_events(journal.path) if e["event"] == "command"]
    assert [(e["command"], e["cut_short"], e["exit_code"]) for e in commands] == [
        (f"sleep 30.{marker}", "interrupted", None)]


def test_a_run_for_an_open_incident_knows_when_the_fault_was_reported(
        tmp_path: Path, hermetic: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`incident` in templates: the on-call playbook analyses from 30 minutes before the report."""
    monkeypatch.setenv("RUNBOOK_REPORTS_DIR", str(tmp_path / "reports"))
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {}})
    opened = run_main(capsys, "incident", "open", "ACME-77", "-c", "1", "--received", "2026-11-25T02:14:00+01:00",
                      "-i", inventory)
    assert opened[0] == 0, opened
    book = write_playbook(tmp_path / "pb.yml", command_step(
        "echo {{ incident.id if incident else 'none' }} {{ incident.received ~ '-30m' if incident else '-2h' }}",
        name="Window"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--incident", "ACME-77")
    assert code == 0, out + err
    (command,) = events_of(journal(hermetic), "command")
    assert command["stdout"] == "ACME-77 2026-11-25T02:14:00+01:00-30m\n"

    monkeypatch.setenv("RUNBOOK_RUNS_DIR", str(tmp_path / "runs-2"))
    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--incident", "ACME-78")
    assert code == 0, out + err
    assert "incident ACME-78 is not open" in err
    (command,) = events_of(journal(tmp_path / "runs-2"), "command")
    assert command["stdout"] == "none -2h\n"
