"""The CLI as a user runs it (in this process, or as a real subprocess), the files it reads
(inventories, playbooks) and the journal it leaves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbook.cli import main
from runbook.journal import read_events
from tests.lab import Lab

REPO = Path(__file__).resolve().parents[2]
LAB_HOSTS = ("web1", "app1", "db1", "spare1")
# Generous bounds: they stop a hang from stalling the suite, they are not performance targets.
CLI_TIMEOUT = 60.0


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
    """A command step that only reads (``check_mode: run``): the suite's probe of the engine's
    mechanics. ``check_mode=None`` makes it a command that may change things (shown, not run,
    in check mode; a change in a real run)."""
    step: dict[str, Any] = {"name": extra.pop("name", cmd[:40]), "action": "command",
                            "params": {"cmd": cmd}, "check_mode": "run"}
    step.update(extra)
    if step["check_mode"] is None:
        del step["check_mode"]
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


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text
