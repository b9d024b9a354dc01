"""Playbook reuse: `include:` of another playbook's steps (local or shipped) with vars, step
`vars:`, file:line through the include chain, cycles refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.playbook import load_playbook
from tests.support.cli import isolate, local_inventory, run_main, write_yaml


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def greet(path: Path) -> Path:
    return write_yaml(path, {"name": "Greet", "steps": [
        {"name": "say", "action": "command", "params": {"cmd": "echo {{ greeting }} {{ who }}"},
         "vars": {"who": "{{ host }}-{{ suffix }}"}}]})


def stdout_by_step(out: str) -> list[str]:
    return [r["data"]["stdout"].strip() for r in json.loads(out)["results"] if r["host"] == "self1"]


def test_an_include_with_vars_and_a_step_with_vars_run_as_written(tmp_path: Path, hermetic: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", defaults_vars={"log_dir": "/var/log"})
    greet(tmp_path / "lib" / "greet.yml")
    main = write_yaml(tmp_path / "main.yml", {"name": "Main", "steps": [
        {"include": "lib/greet.yml", "vars": {"greeting": "hallo", "suffix": "x"}},
        {"include": "kernel-versions"},  # a shipped playbook by name
        {"name": "own", "action": "command", "params": {"cmd": "echo {{ mount }}"},
         "vars": {"mount": "{{ log_dir }}/nginx"}},
    ]})
    code, out, err = run_main(capsys, "run", main, "-i", inventory, "--json")
    assert code == 0, err
    steps = stdout_by_step(out)
    assert steps[0] == "hallo self1-x"
    assert len(steps) == 4 and steps[3] == "/var/log/nginx"  # kernel-versions brought its two steps
    assert [r["step_name"] for r in json.loads(out)["results"] if r["host"] == "self1"] == [
        "say", "Kernel version", "Uptime", "own"]
    # -e wins over every vars: layer, and templates built on it follow
    code, out, err = run_main(capsys, "run", main, "-i", inventory, "--json", "-e", "suffix=E", "-e", "log_dir=/srv")
    assert code == 0, err
    assert stdout_by_step(out)[0] == "hallo self1-E" and stdout_by_step(out)[3] == "/srv/nginx"


def test_a_mistake_in_an_included_file_names_its_file_line_and_the_chain(tmp_path: Path) -> None:
    write_yaml(tmp_path / "lib" / "inner.yml", {"name": "Inner", "steps": [
        {"action": "command", "params": {"cmd": "true"}},
        {"action": "command", "params": {"cmd": "true", "sudoo": True}}]})
    write_yaml(tmp_path / "lib" / "middle.yml", {"name": "Middle", "steps": [{"include": "inner.yml"}]})
    write_yaml(tmp_path / "main.yml", {"name": "Main", "steps": [
        {"action": "command", "params": {"cmd": "true"}}, {"include": "lib/middle.yml"}]})
    with pytest.raises(ConfigError) as found:
        load_playbook(tmp_path / "main.yml")
    assert str(found.value) == (
        f"{tmp_path / 'lib' / 'inner.yml'}:9: steps[1].params.sudoo: unknown param (expected one of: cmd, sudo, "
        f"expect_exit) (included from {tmp_path / 'lib' / 'middle.yml'}:3) (included from {tmp_path / 'main.yml'}:6)")


def test_an_undefined_variable_in_an_included_step_is_found_by_check(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    greet(tmp_path / "greet.yml")
    main = write_yaml(tmp_path / "main.yml", {"name": "Main", "steps": [
        {"include": "greet.yml", "vars": {"greeting": "hi"}}]})
    code, _, err = run_main(capsys, "check", main, "-i", inventory)
    assert code == 78
    assert err.strip() == (f"runbook: error: {tmp_path / 'greet.yml'}:8: steps[0].vars.who (host self1) "
                           f"(included from {main}:3): template uses undefined variable(s): suffix")


def test_an_include_cycle_is_refused_with_the_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(tmp_path / "a.yml", {"name": "A", "steps": [{"include": "b.yml"}]})
    write_yaml(tmp_path / "b.yml", {"name": "B", "steps": [{"action": "command", "params": {"cmd": "true"}},
                                                          {"include": "a.yml"}]})
    code, _, err = run_main(capsys, "check", tmp_path / "a.yml")
    assert code == 78
    assert f"include cycle: {tmp_path / 'a.yml'} -> {tmp_path / 'b.yml'} -> {tmp_path / 'a.yml'}" in err
    assert err.startswith(f"runbook: error: {tmp_path / 'b.yml'}:6: steps[1].include")
    write_yaml(tmp_path / "self.yml", {"name": "S", "steps": [{"include": "self.yml"}]})
    assert "include cycle" in run_main(capsys, "check", tmp_path / "self.yml")[2]


@pytest.mark.parametrize("step, message", [
    ({"include": "nowhere.yml"}, "cannot include 'nowhere.yml'"),
    ({"include": "no-such-playbook"}, "cannot include 'no-such-playbook': no playbook"),
    ({"include": "kernel-versions", "when": "true"}, "an include step takes only include and vars, not 'when'"),
    ({"include": "kernel-versions", "vars": {"host": "x"}}, "'host' is set by runbook"),
    ({"include": "kernel-versions", "vars": ["a"]}, "must be a mapping"),
    ({"action": "command", "params": {"cmd": "true"}, "vars": {"1x": 1}}, "'1x' is not a variable name"),
])
def test_bad_includes_and_vars_are_one_clear_line(tmp_path: Path, step: dict, message: str) -> None:
    write_yaml(tmp_path / "main.yml", {"name": "Main", "steps": [step]})
    with pytest.raises(ConfigError) as found:
        load_playbook(tmp_path / "main.yml")
    assert message in str(found.value)
    assert re.match(rf"{re.escape(str(tmp_path / 'main.yml'))}:\d+: steps\[0\]", str(found.value))
