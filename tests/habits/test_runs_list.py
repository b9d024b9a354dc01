"""`runbook runs list` newest first in local time with filters; `runs show` of an ambiguous prefix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.cli import command_step, isolate, local_inventory, run_main, runbook_cli, write_playbook, write_yaml


@pytest.fixture
def three_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A run for Local GmbH, then one for Other AG with an incident, then a sweep."""
    runs = isolate(monkeypatch, tmp_path)
    book = write_playbook(tmp_path / "pb.yml", command_step("true"), name="Touch nothing")
    local_inventory(tmp_path / "local.yml")
    write_yaml(tmp_path / "other.yml", {"customer": {"name": "Other AG"}, "defaults": {"connection": "local"},
                                        "hosts": {"other1": {}}})
    assert run_main(capsys, "run", book, "-i", tmp_path / "local.yml")[0] == 0
    assert run_main(capsys, "run", book, "-i", tmp_path / "other.yml", "--incident", "OTH-1")[0] == 0
    assert run_main(capsys, "sweep", "-i", tmp_path / "local.yml", "-e", "load_warn=1000", "-e", "load_crit=2000",
                    "-e", "disk_warn=100", "-e", "disk_crit=100", "-e", "inode_warn=100", "-e", "inode_crit=100",
                    "-e", "mem_available_warn=0", "-e", "mem_available_crit=0", "-e", "swap_warn=100",
                    "-e", "swap_crit=100", "--json")[0] in (0, 1, 2, 3)
    return runs


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    code, out, err = run_main(capsys, "runs", "list", "--json", *args)
    assert code == 0, err
    return json.loads(out)


def test_newest_first_and_each_filter(three_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    everything = listed(capsys)
    assert [r["kind"] for r in everything] == ["sweep", "run", "run"]
    assert [r["customers"] for r in everything] == [["local"], ["other"], ["local"]]
    assert [r["customers"] for r in listed(capsys, "--customer", "local")] == [["local"], ["local"]]
    assert [r["incident"] for r in listed(capsys, "--incident", "OTH-1")] == ["OTH-1"]
    assert [r["kind"] for r in listed(capsys, "--kind", "sweep")] == ["sweep"]
    assert len(listed(capsys, "--since", "1h")) == 3
    assert listed(capsys, "--since", "2999-01-01") == []
    assert len(listed(capsys, "--last", "2")) == 2


def test_the_table_shows_local_time_and_is_not_wrapped_in_a_pipe(three_runs: Path) -> None:
    done = runbook_cli("runs", "list", env={"RUNBOOK_RUNS_DIR": str(three_runs), "COLUMNS": "", "TZ": "Asia/Kolkata"})
    assert done.returncode == 0, done.stderr
    assert "started (IST)" in done.stdout
    rows = [line for line in done.stdout.splitlines() if "Touch nothing" in line]
    assert len(rows) == 2  # one line per run, however long, when the output is a pipe
    assert all("completed" in row and "local" in row or "other" in row for row in rows)
    assert len(done.stdout.splitlines()[0]) > 80


def test_a_bad_since_or_kind_is_a_usage_error(three_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "runs", "list", "--since", "yesterday")
    assert code == 64 and "--since" in err
    code, _, err = run_main(capsys, "runs", "list", "--kind", "cron")
    assert code == 64 and "--kind" in err


def test_show_of_an_ambiguous_prefix_lists_the_candidates(three_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = [r["run_id"] for r in listed(capsys)]
    # make two runs share a prefix that is not a whole id, as runs in the same minute do
    twin = three_runs / (ids[0][:-1] + "z")
    shutil.copytree(three_runs / ids[0], twin)
    code, out, err = run_main(capsys, "runs", "show", ids[0][:-1])
    assert code == 64
    assert f"2 runs match {ids[0][:-1]!r}" in err
    assert ids[0] in err and twin.name in err and "sweep" in err
    code, out, err = run_main(capsys, "runs", "show", ids[1])
    assert code == 0 and "Touch nothing" in out
    code, out, err = run_main(capsys, "runs", "show", "19990101")
    assert code == 4 and "no run matches" in err
