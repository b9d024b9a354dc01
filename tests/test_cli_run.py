"""`runbook run` as the operator meets it: exit statuses, --json, and stopping with Ctrl-C / SIGTERM."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.lab import Lab
from tests.support.cli import (
    LAB_HOSTS,
    command_step,
    events_of,
    isolate,
    journal,
    lab_inventory,
    local_inventory,
    no_traceback,
    run_dirs,
    run_main,
    start_runbook,
    write_playbook,
)
from tests.support.processes import processes_with, sleeps_with, unique_marker, wait_until


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


# -- exit statuses and --json ---------------------------------------------------------------

def test_run_over_local_hosts_succeeds_with_exit_0_and_json_results(tmp_path: Path, hermetic: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step("echo {{ greeting }} from {{ host }}"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--json")

    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "completed"
    assert result["counts"]["ok"] == 2
    stdout = {r["host"]: r["data"]["stdout"] for r in result["results"]}
    assert stdout == {"self1": "hello from self1\n", "self2": "servus from self2\n"}
    assert Path(result["journal"]).is_file()
    assert Path(result["journal"]).parent.parent == hermetic


def test_a_failed_step_exits_4_and_the_summary_names_the_host(tmp_path: Path, hermetic: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml",
                          command_step("test {{ host }} != self2 || { echo disk full >&2; exit 3; }"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory)

    assert code == 4
    failed_lines = [line for line in out.splitlines() if "failed" in line and "self2" in line]
    assert failed_lines and "exit 3" in failed_lines[0] and "disk full" in failed_lines[0], out
    assert journal(hermetic)[-1]["status"] == "aborted"  # on_failure defaults to abort


def test_an_unreachable_host_alone_exits_5(lab: Lab, tmp_path: Path, hermetic: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    inventory = lab_inventory(lab, tmp_path / "inv.yml", include_bad=True)
    book = write_playbook(tmp_path / "pb.yml", command_step("true"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "web1,down1")

    assert code == 5, out + err
    assert "down1" in out and "unreachable" in out


# -- stopping a run ---------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_closes_the_journal_kills_remote_commands_and_exits_130(
        lab: Lab, tmp_path: Path, signum: int) -> None:
    marker = unique_marker()
    runs = tmp_path / "runs"
    inventory = lab_inventory(lab, tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml",
                          command_step(f"sleep 30.{marker}; echo slept", name="Long sleep"),
                          command_step("echo second-step", name="Never reached"))
    proc = start_runbook("run", book, "-i", inventory, runs_dir=runs)
    try:
        def all_hosts_sleeping() -> bool:
            if not run_dirs(runs):
                return False
            started = {e["host"] for e in events_of(journal(runs), "host.start")}
            return started == set(LAB_HOSTS) and len(sleeps_with(marker)) == len(LAB_HOSTS)

        assert wait_until(all_hosts_sleeping, timeout=30), "the remote sleeps never all started"
        assert proc.poll() is None
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130, err
    no_traceback(out, err)
    events = journal(runs)
    assert events[-1]["event"] == "run.end"
    assert events[-1]["status"] == "interrupted"
    started = [e["host"] for e in events_of(events, "host.start")]
    ended = [e["host"] for e in events_of(events, "host.end")]
    assert sorted(started) == sorted(ended) == sorted(LAB_HOSTS)
    assert not [e for e in events if e.get("step") == 1], "the second step must never start"
    # each host's cut-short sleep is on record: sent, and never came back
    cut = events_of(events, "command", step=0)
    assert sorted(e["host"] for e in cut) == sorted(LAB_HOSTS)
    assert {(e["cut_short"], e["exit_code"]) for e in cut} == {("interrupted", None)}
    assert all(marker in e["command"] for e in cut)
    assert "second-step" not in out + err
    gone = wait_until(lambda: not processes_with(marker), timeout=10)
    assert gone, f"remote commands survived: {[p.info['cmdline'] for p in processes_with(marker)]}"
    assert signal.Signals(signum).name in err
