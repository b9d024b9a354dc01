"""Playbooks: the documented shape, per-host Jinja2 (sandboxed, strict), when/register,
on_failure, per-step timeouts, and `runbook actions`.

Runs here use local-connection hosts (no SSH needed); what they prove about the engine holds
for SSH hosts too, which tests/test_engine.py covers against the lab.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.playbook import load_playbook
from tests.support.cli import (
    command_step,
    events_of,
    host_end,
    isolate,
    journal,
    local_inventory,
    run_main,
    write_playbook,
)


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


ISSUE_EXAMPLE = """\
name: Kernel versions
targets: [web, app]          # roles or host names; default all
steps:
  - name: Kernel version
    action: command
    params: {cmd: uname -r}
    timeout: 10s
    on_failure: continue
"""


def test_the_issue_example_validates_with_runbook_check(tmp_path: Path, hermetic: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "kernel.yml"
    book.write_text(ISSUE_EXAMPLE)
    inventory = local_inventory(tmp_path / "inv.yml", {"w1": {"roles": ["web"]}, "a1": {"roles": ["app"]},
                                                       "d1": {"roles": ["db"]}})

    code, out, err = run_main(capsys, "check", book)
    assert code == 0, err
    assert "'Kernel versions', 1 step(s)" in out

    code, out, err = run_main(capsys, "check", book, "-i", inventory)
    assert code == 0, err
    assert "for 2 host(s)" in out  # targets [web, app]: the db host is not one of them
    assert not hermetic.exists(), "check must not start a run"

    (step,) = load_playbook(book).steps
    assert (step.name, step.action, dict(step.params)) == ("Kernel version", "command", {"cmd": "uname -r"})
    assert (step.timeout, step.on_failure) == (10.0, "continue")


@pytest.mark.parametrize("timeout, seconds", [("10s", 10.0), ("5m", 300.0), ("1h30m", 5400.0),
                                               ("1m30s", 90.0), (45, 45.0), (0.5, 0.5)])
def test_step_timeouts_are_parsed_to_seconds(tmp_path: Path, timeout: object, seconds: float) -> None:
    book = write_playbook(tmp_path / "pb.yml", command_step("true", timeout=timeout), command_step("true"))

    first, second = load_playbook(book).steps
    assert first.timeout == seconds
    assert second.timeout is None and second.on_failure == "abort"  # the documented defaults


def test_params_are_rendered_per_host_with_its_vars(tmp_path: Path, hermetic: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", defaults_vars={"site": "shop"})
    book = write_playbook(tmp_path / "pb.yml",
                          command_step("echo {{ greeting }} {{ site }} from {{ host }} as {{ roles | join(',') }}"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-e", "site=blog")

    assert code == 0, err
    events = journal(hermetic)
    commands = {e["host"]: e for e in events_of(events, "command")}
    assert commands["self1"]["command"] == "echo hello blog from self1 as web"
    assert commands["self1"]["stdout"] == "hello blog from self1 as web\n"
    assert commands["self2"]["stdout"] == "servus blog from self2 as db\n"


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ greeting.__class__.__subclasses__() }}",
])
def test_templates_are_sandboxed(tmp_path: Path, hermetic: Path, capsys: pytest.CaptureFixture[str],
                                 template: str) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step(f"echo {template}"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 4
    events = journal(hermetic)
    assert not events_of(events, "command"), "a refused template must never reach a shell"
    for host in ("self1", "self2"):
        end = host_end(events, host)
        assert end["outcome"] == "failed"
        assert "unsafe" in end["message"] or "undefined" in end["message"], end["message"]
        assert "steps[0].params.cmd" in end["message"]


def test_when_skips_hosts_whose_condition_is_false(tmp_path: Path, hermetic: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step("echo web only", when="'web' in roles"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 0, err
    events = journal(hermetic)
    assert host_end(events, "self1")["outcome"] == "ok"
    skipped = host_end(events, "self2")
    assert skipped["outcome"] == "skipped" and "'web' in roles" in skipped["message"]
    assert [e["host"] for e in events_of(events, "command")] == ["self1"]


def test_register_makes_a_result_available_to_later_when_and_params(tmp_path: Path, hermetic: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(
        tmp_path / "pb.yml",
        command_step("echo {{ greeting }}", name="Greet", register="greet"),
        command_step("echo greeted with {{ greet.stdout | trim }}, exit {{ greet.exit_code }}", name="Reply",
                     when="greet.stdout.strip() == 'hello'"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 0, err
    events = journal(hermetic)
    reply = events_of(events, "command", step=1)
    assert [(e["host"], e["stdout"]) for e in reply] == [("self1", "greeted with hello, exit 0\n")]
    assert host_end(events, "self2", step=1)["outcome"] == "skipped"


def test_a_registered_name_used_before_it_is_registered_is_refused(tmp_path: Path, hermetic: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step("echo {{ later.stdout }}"),
                          command_step("true", register="later"))

    code, out, err = run_main(capsys, "check", book, "-i", inventory)

    assert code == 78
    assert f"{book}:" in err and "steps[0].params.cmd" in err and "later" in err


@pytest.mark.parametrize("on_failure, status, second_step_runs", [
    ("abort", "aborted", False),
    ("continue", "failed", True),
])
def test_on_failure_aborts_or_continues(tmp_path: Path, hermetic: Path, capsys: pytest.CaptureFixture[str],
                                        on_failure: str, status: str, second_step_runs: bool) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml",
                          command_step("test {{ host }} != self1", name="Fails on self1", on_failure=on_failure),
                          command_step("echo second step", name="Second"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 4
    events = journal(hermetic)
    assert host_end(events, "self1")["outcome"] == "failed"
    assert host_end(events, "self2")["outcome"] == "ok"  # one host failing hides nothing of the other
    assert bool(events_of(events, "step.start", step=1)) is second_step_runs
    assert len(events_of(events, "command", step=1)) == (2 if second_step_runs else 0)
    assert events[-1]["event"] == "run.end" and events[-1]["status"] == status


def test_a_step_over_its_timeout_fails_and_the_run_goes_on(tmp_path: Path, hermetic: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {}})
    book = write_playbook(tmp_path / "pb.yml",
                          command_step("sleep 20", name="Slow", timeout="0.5s", on_failure="continue"),
                          command_step("echo after", name="After"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 4
    events = journal(hermetic)
    slow = host_end(events, "self1", step=0)
    assert slow["outcome"] == "failed" and "timed out after 0.5s" in slow["message"]
    (timed_out,) = events_of(events, "command", step=0)
    assert timed_out["timed_out"] is True and timed_out["exit_code"] is None
    assert timed_out["cut_short"] == "timeout" and "timed out" in timed_out["stderr"]
    assert host_end(events, "self1", step=1)["outcome"] == "ok"


def test_runbook_actions_lists_command_with_its_params(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "actions", "--json")

    assert code == 0, err
    actions = {a["action"]: a for a in json.loads(out)}
    command = actions["command"]
    assert "shown, not run, in check mode" in command["summary"]
    params = {p["name"]: (p["type"], p["default"]) for p in command["params"]}
    assert params == {"cmd": ("str", "required"), "sudo": ("bool", "False"), "expect_exit": ("int", "0")}

    code, out, err = run_main(capsys, "actions")
    assert code == 0, err
    assert "command" in out and "cmd: str = required" in out
