"""Step params that can be checked without a host are checked by `runbook check`, with the
playbook's file:line and field: a `since` that is no time must not reach the host."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run_dirs, run_main, write_playbook


@pytest.mark.parametrize(("params", "field", "says"), [
    ({"since": "yesterday morning"}, "since", "not a time: 'yesterday morning'"),
    ({"until": "-2x"}, "until", "not a time: '-2x'"),
    ({"since": 30}, "since", "must be a time"),
    ({"baseline": "last-week"}, "baseline", "must be one of 'previous-day'"),
], ids=["since-words", "until-unit", "since-number", "baseline"])
def test_runbook_check_refuses_a_time_param_that_is_no_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], params: dict[str, object], field: str, says: str) -> None:
    playbook = write_playbook(tmp_path / "pb.yml", {"name": "analyse", "action": "logs.analyze", "params": params})

    code, out, err = run_main(capsys, "check", playbook)

    assert code == 78 and out == ""
    (line,) = err.splitlines()
    assert f"{playbook}:6: steps[0].params.{field}: " in line and says in line, line


@pytest.mark.parametrize("since", ["-2h", "now", "2026-11-25T02:14:00+01:00", "2026-11-25T02:14:00+01:00-30m",
                                   "{{ incident.received ~ '-30m' if incident else '-2h' }}"])
def test_times_as_the_analysis_takes_them_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str], since: str) -> None:
    playbook = write_playbook(tmp_path / "pb.yml", {"name": "analyse", "action": "logs.analyze",
                                                    "params": {"since": since}})

    code, out, err = run_main(capsys, "check", playbook)

    assert code == 0, err
    assert run_dirs(tmp_path / "runs") == []
