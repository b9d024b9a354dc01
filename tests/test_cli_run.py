"""`runbook run` as the operator meets it: exit statuses, --json, and stopping with Ctrl-C / SIGTERM.

Also home of the small helpers the other core test modules share (running the CLI in-process or
as a real subprocess, writing lab inventories and playbooks, reading a run's journal, looking for
the processes a command left behind).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from runbook.cli import main
from runbook.journal import read_events
from tests.lab import Lab

REPO = Path(__file__).resolve().parents[1]
LAB_HOSTS = ("web1", "app1", "db1", "spare1")
# Generous bounds: they stop a hang from stalling the suite, they are not performance targets.
CLI_TIMEOUT = 60.0


# -- helpers shared by the core test modules ------------------------------------------------------

def cli_env(runs_dir: Path | None = None, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: journals in ``runs_dir``, no colour, no wrapping,
    and no ~/.ssh/config or ssh-agent of whoever runs the suite."""
    env = dict(os.environ)
    env.pop("SSH_AUTH_SOCK", None)
    env.pop("RUNBOOK_SUDO_PASSWORD", None)
    env.update(NO_COLOR="1", COLUMNS="200", TERM="dumb", PYTHONUNBUFFERED="1",
               RUNBOOK_SSH_CONFIG=str(REPO / "tests" / "no-such-ssh-config"))
    if runs_dir is not None:
        env["RUNBOOK_RUNS_DIR"] = str(runs_dir)
    env.update(extra)
    return env


def runbook_cli(*args: object, runs_dir: Path | None = None, env: Mapping[str, str] | None = None,
                timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``python -m runbook ARGS`` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "runbook", *map(str, args)], cwd=REPO,
                          env={**cli_env(runs_dir), **(env or {})}, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def start_runbook(*args: object, runs_dir: Path, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m runbook ARGS`` started in a session of its own (so signals reach only it)."""
    return subprocess.Popen([sys.executable, "-m", "runbook", *map(str, args)], cwd=REPO,
                            env={**cli_env(runs_dir), **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                            start_new_session=True)


def run_main(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """The CLI in this process (fast): exit status, stdout, stderr."""
    with pytest.raises(SystemExit) as exited:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """For in-process CLI runs: journals under tmp_path (returned), no ssh config, agent or sudo
    password of whoever runs the suite. Each module wraps it in its own ``hermetic`` fixture."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RUNBOOK_RUNS_DIR", str(runs))
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(tmp_path / "no-ssh-config"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("RUNBOOK_SUDO_PASSWORD", raising=False)
    return runs


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def write_yaml(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def write_playbook(path: Path, *steps: Mapping[str, Any], name: str = "Test playbook",
                   targets: Sequence[str] | None = None) -> Path:
    document: dict[str, Any] = {"name": name}
    if targets is not None:
        document["targets"] = list(targets)
    document["steps"] = [dict(s) for s in steps]
    return write_yaml(path, document)


def command_step(cmd: str, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"name": extra.pop("name", cmd[:40]), "action": "command",
                            "params": {"cmd": cmd}}
    step.update(extra)
    return step


def lab_inventory(lab: Lab, path: Path, *, include_bad: bool = False,
                  defaults: Mapping[str, Any] | None = None,
                  extra_vars: Mapping[str, Any] | None = None) -> Path:
    """The lab's inventory, with ``defaults`` overriding its connection defaults."""
    lab.write_inventory(path, include_bad=include_bad, extra_vars=extra_vars)
    if defaults:
        document = yaml.safe_load(path.read_text())
        document["defaults"].update(defaults)
        write_yaml(path, document)
    return path


def local_inventory(path: Path, hosts: Mapping[str, Mapping[str, Any]] | None = None,
                    defaults_vars: Mapping[str, Any] | None = None) -> Path:
    """An inventory of local-connection hosts (this machine, no SSH)."""
    hosts = hosts or {"self1": {"roles": ["web"], "vars": {"greeting": "hello"}},
                      "self2": {"roles": ["db"], "vars": {"greeting": "servus"}}}
    return write_yaml(path, {
        "customer": {"name": "Local GmbH"},
        "defaults": {"connection": "local", "vars": dict(defaults_vars or {})},
        "hosts": {name: dict(spec) for name, spec in hosts.items()},
    })


def run_dirs(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if (p / "journal.jsonl").is_file()) if runs_dir.is_dir() else []


def journal(runs_dir: Path) -> list[dict[str, Any]]:
    """The events of the one run in ``runs_dir``."""
    dirs = run_dirs(runs_dir)
    assert len(dirs) == 1, f"expected exactly one run in {runs_dir}, found {dirs}"
    return read_events(dirs[0] / "journal.jsonl")


def events_of(events: Sequence[Mapping[str, Any]], kind: str, **match: Any) -> list[Mapping[str, Any]]:
    return [e for e in events if e["event"] == kind and all(e.get(k) == v for k, v in match.items())]


def host_end(events: Sequence[Mapping[str, Any]], host: str, step: int = 0) -> Mapping[str, Any]:
    (found,) = events_of(events, "host.end", host=host, step=step)
    return found


def unique_marker() -> str:
    """Digits for a unique ``sleep 300.<marker>`` that ``processes_with`` can find again."""
    return str(secrets.randbelow(10**8)).zfill(8)


def processes_with(marker: str) -> list[psutil.Process]:
    """Live (non-zombie) processes whose command line contains ``marker``, except this one."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if (proc.pid != os.getpid() and proc.info["status"] != psutil.STATUS_ZOMBIE
                    and marker in " ".join(proc.info["cmdline"] or ())):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def sleeps_with(marker: str) -> list[psutil.Process]:
    """The ``sleep`` processes (not their shells) carrying ``marker``."""
    return [p for p in processes_with(marker) if (p.info["cmdline"] or [""])[0].endswith("sleep")]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy; return its last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


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


@pytest.mark.lab
def test_an_unreachable_host_alone_exits_5(lab: Lab, tmp_path: Path, hermetic: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    inventory = lab_inventory(lab, tmp_path / "inv.yml", include_bad=True)
    book = write_playbook(tmp_path / "pb.yml", command_step("true"))

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "-l", "web1,down1")

    assert code == 5, out + err
    assert "down1" in out and "unreachable" in out


# -- stopping a run ---------------------------------------------------------------------------

@pytest.mark.lab
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
