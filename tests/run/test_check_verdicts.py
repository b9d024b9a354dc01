"""A check run's verdict is about its plan: a ``fail_on`` judgement made after a step planned
changes (which check mode did not make) does not fail the step; before any planned change,
and in a real run, it does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import command_step, isolate, local_inventory, run_main, write_playbook

#: every host's memory is "short" by this threshold: available memory is always below 100 %;
#: and the machine's load (the suite's own, or a benchmark's) never judges it more than that,
#: nor the small filesystems another suite's lab mounts under /tmp meanwhile (a full one is CRITICAL)
ALWAYS_WARNING = {"mem_available_warn": "100%", "mem_available_crit": "1%", "load_warn": 1000, "load_crit": 2000,
                  "disk_ignore": ["/tmp/*"]}


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


JUDGE = {"name": "Judge", "action": "health.check", "params": {"fail_on": "warning"}}


def _run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *steps: dict, check: bool) -> tuple[int, dict]:
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {"roles": ["web"]}}, defaults_vars=ALWAYS_WARNING)
    book = write_playbook(tmp_path / "pb.yml", *steps)
    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--json", "--yes", *(["--check"] if check else []))
    return code, {r["step_name"]: r for r in json.loads(out)["results"]}


def test_a_verdict_after_planned_changes_does_not_fail_a_check_run(tmp_path: Path, hermetic: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"
    code, results = _run(capsys, tmp_path, command_step(f"touch {marker}", name="Change", check_mode=None), JUDGE,
                         check=True)
    assert code == 0
    assert not marker.exists()
    judge = results["Judge"]
    assert judge["outcome"] == "ok"
    assert judge["message"].startswith("check mode: judged before the planned changes")
    assert "WARNING: memory" in judge["message"]     # what it found is still shown


def test_a_verdict_before_any_planned_change_fails_a_check_run(tmp_path: Path, hermetic: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, results = _run(capsys, tmp_path, JUDGE, command_step("true", name="Change", check_mode=None), check=True)
    assert code == 4
    assert results["Judge"]["outcome"] == "failed"


def test_the_same_verdict_fails_a_real_run(tmp_path: Path, hermetic: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, results = _run(capsys, tmp_path, command_step("true", name="Change", check_mode=None), JUDGE, check=False)
    assert code == 4
    assert results["Change"]["outcome"] == "changed"
    assert results["Judge"]["outcome"] == "failed" and "WARNING" in results["Judge"]["message"]
