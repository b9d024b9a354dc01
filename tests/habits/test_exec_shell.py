"""`runbook exec` and `runbook shell HOST` against the real sshd lab, as an engineer uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.journal import read_events
from tests.lab import Lab
from tests.support.cli import events_of, journal, lab_inventory, no_traceback, run_dirs, runbook_cli
from tests.support.terminal import Terminal


@pytest.fixture
def inventory(lab: Lab, tmp_path: Path) -> Path:
    return lab_inventory(lab, tmp_path / "inventory.yml", include_bad=True)


def test_exec_runs_one_command_on_the_limited_hosts_and_shows_every_line(inventory: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    done = runbook_cli("exec", "-i", inventory, "-l", "web1,db1", "printf 'one\\ntwo {{ host }}\\n'", runs_dir=runs)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for host in ("web1", "db1"):
        at = lines.index(f"{host} | ok | exit 0")
        assert lines[at + 1:at + 3] == ["  one", f"  two {host}"]
    assert "app1" not in done.stdout
    events = journal(runs)
    start = events_of(events, "run.start")[0]
    assert start["kind"] == "exec" and start["hosts"] == ["web1", "db1"]
    assert {e["host"] for e in events_of(events, "command")} == {"web1", "db1"}
    # a read: no change, nothing a report would count as a measure
    assert all(e["outcome"] == "ok" and not e["changes"] for e in events_of(events, "host.end"))


def test_exec_reports_unreachable_and_failing_hosts_with_the_run_exit_codes(inventory: Path, tmp_path: Path) -> None:
    done = runbook_cli("exec", "-i", inventory, "-l", "web1,down1", "true", runs_dir=tmp_path / "r1")
    assert done.returncode == 5
    assert "down1 | unreachable | down1: tcp:" in done.stdout
    done = runbook_cli("exec", "-i", inventory, "-l", "web1", "echo broken >&2; exit 3", runs_dir=tmp_path / "r2")
    assert done.returncode == 4
    assert "web1 | failed | exit 3 | exit 3: broken" in done.stdout
    assert "  stderr: broken" in done.stdout


def test_exec_change_is_planned_confirmed_and_journaled(lab: Lab, inventory: Path, tmp_path: Path) -> None:
    target = lab.hosts["web1"].root / "tmp" / "flushed"
    target.unlink(missing_ok=True)
    cmd = f"touch {target} && echo flushed"

    checked = runbook_cli("exec", "-i", inventory, "-l", "web1", "--change", "--check", cmd, runs_dir=tmp_path / "c")
    assert checked.returncode == 0, checked.stderr
    assert f"web1 | changed | would: run {cmd!r}" in checked.stdout and not target.exists()

    unasked = runbook_cli("exec", "-i", inventory, "-l", "web1", "--change", cmd, runs_dir=tmp_path / "n")
    assert "not a terminal: nothing applied" in unasked.stderr and not target.exists()

    done = runbook_cli("exec", "-i", inventory, "-l", "web1", "--change", "--yes", "--why", "Cache geleert", cmd,
                       runs_dir=tmp_path / "y")
    assert done.returncode == 0, done.stderr
    assert target.exists() and "web1 | changed | exit 0\n  flushed" in done.stdout
    (end,) = events_of(journal(tmp_path / "y"), "host.end")
    assert end["changes"] == [{"sentence": f"run {cmd!r} (exit 0)", "msg": "text", "args": {"text": "Cache geleert"}}]


def test_exec_change_asks_in_a_terminal_and_applies_on_y(lab: Lab, inventory: Path, tmp_path: Path) -> None:
    target = lab.hosts["app1"].root / "tmp" / "asked"
    target.unlink(missing_ok=True)
    term = Terminal("exec", "-i", inventory, "-l", "app1", "--change", f"touch {target}",
                    env={"RUNBOOK_RUNS_DIR": str(tmp_path / "runs")})
    screen = term.wait_for(r"Apply\? \[y/N\]")
    assert f"app1: run 'touch {target}'" in screen
    term.type("y\n")
    assert term.finish() == 0
    assert target.exists()


def test_shell_opens_an_interactive_session_and_journals_open_and_close(inventory: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    term = Terminal("shell", "web1", "-i", inventory, env={"RUNBOOK_RUNS_DIR": str(runs)}, columns=91, lines=27)
    term.wait_for(r"shell on web1 \(")
    term.wait_for(r"[#$] ?$")  # the remote shell's prompt: what is typed before it may be lost
    term.type("echo hello-$((40+2)); stty size; tty\n")
    screen = term.wait_for(r"hello-42")
    term.wait_for(r"/dev/pts/")
    assert "27 91" in term.wait_for(r"27 91")  # the remote pty has our terminal's size
    term.type("exit 3\n")
    assert term.finish() == 3
    assert "shell on web1 closed (exit 3)" in term.text
    no_traceback(screen)
    (run,) = run_dirs(runs)
    events = read_events(run / "journal.jsonl")
    assert [e["event"] for e in events] == ["run.start", "shell.open", "shell.close", "run.end"]
    assert events[0]["kind"] == "shell" and events[1]["address"] == events[0]["host_info"]["web1"]["address"]
    assert events[2]["exit_status"] == 3
    # nothing typed in the session is recorded
    assert "hello" not in (run / "journal.jsonl").read_text()


def test_shell_to_a_dead_host_is_unreachable_with_its_layer(inventory: Path, tmp_path: Path) -> None:
    done = runbook_cli("shell", "down1", "-i", inventory, runs_dir=tmp_path / "runs")
    assert done.returncode == 5
    assert "down1: tcp:" in done.stderr
    (run,) = run_dirs(tmp_path / "runs")
    assert [e["event"] for e in read_events(run / "journal.jsonl")] == ["run.start", "shell.error", "run.end"]
    assert json.loads((run / "journal.jsonl").read_text().splitlines()[-1])["status"] == "failed"


def test_shell_to_an_unknown_host_is_a_config_error(inventory: Path) -> None:
    done = runbook_cli("shell", "web9", "-i", inventory)
    assert done.returncode == 78 and "no host 'web9'" in done.stderr
