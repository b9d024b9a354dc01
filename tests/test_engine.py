"""The engine over the real-sshd lab: hosts in parallel (bounded by --forks), one connection per
host for the whole run, unreachable hosts reported by layer without holding up the others;
and --check / confirm for actions that change things."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from runbook.actions import ACTIONS
from runbook.actions.base import HostAction
from runbook.change import Change, Outcome, Plan
from runbook.connection.shell import quote
from runbook.task import HostTask
from tests.lab import Lab
from tests.support.cli import (
    LAB_HOSTS,
    command_step,
    events_of,
    host_end,
    isolate,
    journal,
    lab_inventory,
    local_inventory,
    run_main,
    write_playbook,
)


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


LAB_CONNECT_TIMEOUT = 3.0   # what the lab's inventory sets


def max_in_flight(events: list[dict], step: int) -> int:
    """The most hosts that were between host.start and host.end at once, from the journal."""
    running = peak = 0
    for event in events:
        if event.get("step") != step:
            continue
        if event["event"] == "host.start":
            running += 1
            peak = max(peak, running)
        elif event["event"] == "host.end":
            running -= 1
    return peak


def test_a_read_only_playbook_runs_over_the_lab_in_parallel(lab: Lab, tmp_path: Path, hermetic: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    inventory = lab_inventory(lab, tmp_path / "inv.yml", include_bad=True)
    book = write_playbook(tmp_path / "pb.yml",
                          command_step("sleep 1; echo $SSH_CONNECTION", name="Who answers"),
                          command_step("uname -s", name="Kernel"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--json")

    assert code == 5, err  # unreachable hosts, nothing failed
    result = json.loads(out)
    outcome = {(r["host"], r["step"]): r for r in result["results"]}
    for name in LAB_HOSTS:
        assert outcome[(name, 0)]["outcome"] == "ok" and outcome[(name, 1)]["outcome"] == "ok"
        server = outcome[(name, 0)]["data"]["stdout"].split()[2:]
        assert server == [lab.hosts[name].address, str(lab.hosts[name].port)]
        assert outcome[(name, 1)]["data"]["stdout"] == "Linux\n"
    for name, layer in (("down1", "tcp"), ("tarpit1", "ssh")):
        assert outcome[(name, 0)]["outcome"] == "unreachable"
        assert outcome[(name, 0)]["error"]["layer"] == layer
        later = outcome[(name, 1)]
        assert later["outcome"] == "unreachable" and "since step 1" in later["message"]
    assert result["counts"] == {"ok": 8, "changed": 0, "skipped": 0, "failed": 0, "unreachable": 4}

    events = journal(hermetic)
    good = set(LAB_HOSTS)
    starts = [e["seq"] for e in events_of(events, "host.start", step=0) if e["host"] in good]
    ends = [e["seq"] for e in events_of(events, "host.end", step=0) if e["host"] in good]
    assert len(starts) == len(ends) == 4
    assert max(starts) < min(ends), "every host's 1 s command must have started before any finished"
    # The tarpit was given up on at the connect timeout, and neither bad host was dialled again.
    assert f"within {LAB_CONNECT_TIMEOUT:g}s" in host_end(events, "tarpit1")["message"]
    assert "Connection refused" in host_end(events, "down1")["message"]
    dialled = [e["host"] for e in events_of(events, "command") if e["host"] in ("down1", "tarpit1")]
    assert dialled == []


def test_forks_bounds_how_many_hosts_are_worked_on_at_once(lab: Lab, tmp_path: Path, hermetic: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    inventory = lab_inventory(lab, tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step("sleep 0.3"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--forks", "2")

    assert code == 0, out + err
    events = journal(hermetic)
    assert len(events_of(events, "host.end", outcome="ok")) == 4
    assert max_in_flight(events, step=0) == 2


def test_one_connection_per_host_serves_every_step(lab: Lab, tmp_path: Path, hermetic: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    inventory = lab_inventory(lab, tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", *(command_step("echo $SSH_CONNECTION", name=f"Step {i}")
                                                  for i in range(1, 4)))
    logins = {name: lab.files(name).log.read_text().count("Accepted publickey") for name in ("web1", "app1")}

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "web1,app1")

    assert code == 0, out + err
    events = journal(hermetic)
    for name in ("web1", "app1"):
        seen = {e["stdout"] for e in events_of(events, "command", host=name)}
        assert len(seen) == 1, f"{name}: three steps came over {len(seen)} TCP connections"
        assert lab.files(name).log.read_text().count("Accepted publickey") == logins[name] + 1


# -- changing actions: --check and confirm ---------------------------------------------------------

@dataclass(frozen=True)
class TouchParams:
    """path: the file to create."""

    path: str


class TouchAction(HostAction):
    """Create a file if it is missing (a stand-in for an action that changes things)."""

    name = "touch_file"
    Params = TouchParams
    confirm = True

    def plan(self, task: HostTask, params: TouchParams) -> Plan:
        if task.run(f"test -e {quote(params.path)}").ok:
            return Plan(Outcome.OK, message=f"{params.path} exists")
        return Plan(Outcome.CHANGED, changes=(Change(f"create {params.path}", commands=(f"touch {quote(params.path)}",)),))


@pytest.fixture
def touch_action(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ACTIONS, TouchAction.name, TouchAction)


@pytest.mark.parametrize("flags, created, outcome, says", [
    (("--check",), False, "changed", "would: create"),
    (("--check", "--yes"), False, "changed", "would: create"),
    ((), False, "skipped", "not confirmed"),       # confirm asked; not a terminal, so nothing applied
    (("--yes",), True, "changed", "create"),
])
def test_check_mode_and_confirm_apply_nothing_and_say_what_they_would_do(
        tmp_path: Path, hermetic: Path, capsys: pytest.CaptureFixture[str], touch_action: None,
        flags: tuple[str, ...], created: bool, outcome: str, says: str) -> None:
    target = tmp_path / "created-by-the-run"
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {}})
    book = write_playbook(tmp_path / "pb.yml",
                          {"name": "Touch", "action": "touch_file", "params": {"path": str(target)}})

    code, out, err = run_main(capsys, "run", book, "-i", inventory, *flags)

    assert code == 0, out + err
    assert target.exists() is created
    events = journal(hermetic)
    end = host_end(events, "self1")
    assert end["outcome"] == outcome and says in end["message"]
    # The plan names the exact file, whether it was applied, only planned, or not confirmed.
    sentences = [p["sentence"] for p in end["data"].get("planned", [])] or end["changes"]
    assert sentences == [f"create {target}"]
    if not created and "--check" not in flags:
        assert f"create {target}" in err and "nothing applied" in err  # the question, and why not
    ran = [e["command"] for e in events_of(events, "command")]
    assert ran == [f"test -e {target}"] + ([f"touch {target}"] if created else [])
    assert events[0]["check"] is ("--check" in flags)
