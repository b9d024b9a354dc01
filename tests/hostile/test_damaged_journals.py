"""Damaged journals are read for what is readable: `runs list`, `runs show` and both reports
name the damaged lines and go on, never exit 70. A runs directory that is a file is named (73)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import isolate, local_inventory, run_dirs, run_main, write_playbook


@pytest.fixture
def journal_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A real run's journal, about to be damaged."""
    runs = isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("RUNBOOK_REPORTS_DIR", str(tmp_path / "reports"))
    playbook = write_playbook(tmp_path / "pb.yml", {"name": "say", "action": "command", "params": {"cmd": "echo hi"},
                                                                 "check_mode": "run"})
    code, out, err = run_main(capsys, "run", playbook, "-i", local_inventory(tmp_path / "inv.yml"))
    assert code == 0, out + err
    (run,) = run_dirs(runs)
    return run / "journal.jsonl"


def damage(path: Path) -> dict[int, str]:
    """Insert damaged lines after run.start; the last event cut inside a UTF-8 character.
    Returns {line number: why} as `runs show` should name them."""
    lines = path.read_bytes().splitlines()
    bad = [b"[1, 2, 3]", b'"just a string"', b"\xff\xfe\x00 random bytes \x9b2J",
           json.dumps({"seq": 90, "ts": "2026-12-03T02:30:00.000Z", "event": "host.end", "step": 0, "host": "self1"}).encode(),
           json.dumps({"seq": 91, "ts": "yesterday", "event": "step.end"}).encode(),
           b'{"seq": 92, "ts": "2026-12-03T02:30:00.000Z", "event": "command", "host": "sel']
    lines[1:1] = bad
    cut = '{"seq": 99, "ts": "2026-12-03T02:30:00.000Z", "event": "run.end", "status": "fertig ä'.encode()[:-1]
    path.write_bytes(b"\n".join(lines) + b"\n" + cut)
    return {2: "not an event object", 3: "not an event object", 4: "not UTF-8", 5: "no outcome",
            6: "time 'yesterday'", 7: "not JSON", len(lines) + 1: "not UTF-8"}


def test_runs_list_and_show_read_what_is_readable_and_name_the_damaged_lines(
        journal_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = damage(journal_path)
    run_id = journal_path.parent.name

    code, out, err = run_main(capsys, "runs", "list")
    assert code == 0, err
    assert run_id in out and "completed" in out and "ok 2" in out
    for number, why in where.items():
        (line,) = [w for w in err.splitlines() if f"journal.jsonl:{number}: damaged" in w]
        assert why in line and line.startswith(f"runbook: warning: {journal_path}:"), (why, line)

    code, out, err = run_main(capsys, "runs", "show", run_id)
    assert code == 0, err
    assert "self1" in out and "hi" in out
    assert f"{journal_path}:4: damaged line skipped (not UTF-8)" in err

    code, out, err = run_main(capsys, "runs", "show", run_id, "--json")
    assert code == 0, err
    events = json.loads(out)
    assert [e["event"] for e in events][-1] == "run.end" and all(isinstance(e, dict) for e in events)


@pytest.mark.parametrize("report", [("immediate",), ("next-day",), ("next-day", "--audience", "internal"),
                                    ("next-day", "-F", "html")])
def test_reports_of_a_damaged_journal_are_written_and_name_the_damage(
        journal_path: Path, capsys: pytest.CaptureFixture[str], report: tuple[str, ...]) -> None:
    damage(journal_path)

    code, out, err = run_main(capsys, "report", *report, journal_path.parent.name, "--lang", "en")

    assert code == 0, err
    assert "self1" in out
    assert "journal.jsonl:4: damaged line skipped (not UTF-8)" in err
    assert "internal error" not in err


@pytest.mark.parametrize("variable", ["RUNBOOK_RUNS_DIR", "RUNBOOK_REPORTS_DIR"])
def test_a_runs_directory_that_is_a_file_is_named_not_an_empty_list(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], variable: str) -> None:
    isolate(monkeypatch, tmp_path)
    monkeypatch.delenv("RUNBOOK_RUNS_DIR", raising=False)
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    monkeypatch.setenv(variable, str(a_file))

    for args in (("runs", "list"), ("runs", "show", "2026")):
        code, out, err = run_main(capsys, *args)
        assert code == 73, (args, out, err)
        assert err.count("\n") == 1 and f"cannot write {a_file}:" in err and "runs directory" in err
