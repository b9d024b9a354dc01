"""Whole on-call nights, run the way an engineer runs them: the shipped playbooks through the
CLI (``python -m runbook ...`` as a real process, exactly as the README says), on the lab with
the real nginx -> gunicorn -> PostgreSQL stack, a second customer, a dead host and a tarpit.
Each scenario then looks at what a person would look at: the hosts (files, processes,
services), the journal and the exit code.

``python -m tests.lab up --stack`` builds the same stage by hand (see tests/lab/night.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runbook.journal import read_events
from tests.lab.night import write_night
from tests.lab.services import LabStack

REPO = Path(__file__).resolve().parents[2]
#: A bound that stops a hang from stalling the suite; not a performance target.
CLI_TIMEOUT = 180.0


@dataclass
class Night:
    """One night's stage: the inventory directory, the reports directory, the stack."""

    stack: LabStack
    inventory: Path
    reports: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        for private in ("SSH_AUTH_SOCK", "RUNBOOK_SUDO_PASSWORD", "RUNBOOK_RUNS_DIR", "RUNBOOK_OPERATOR"):
            env.pop(private, None)
        env.update(NO_COLOR="1", COLUMNS="200", TERM="dumb", PYTHONUNBUFFERED="1",
                   RUNBOOK_REPORTS_DIR=str(self.reports),
                   RUNBOOK_SSH_CONFIG=str(self.reports / "no-such-ssh-config"))
        env.update(extra)
        return env

    def runbook(self, *args: object, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        """``python -m runbook ARGS`` from the repository, as the README tells a user; no
        terminal unless the test gives one (stdin is empty)."""
        return subprocess.run([sys.executable, "-m", "runbook", *map(str, args)], cwd=REPO, env=self.env(**env),
                              capture_output=True, text=True, input=input if input is not None else "",
                              timeout=CLI_TIMEOUT, check=False)

    def run_json(self, *args: object) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        """``runbook run ... --json``: the process and its parsed document."""
        done = self.runbook("run", *args, "--json")
        try:
            document = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise AssertionError(f"no JSON (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done, document

    def events(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        return read_events(Path(document["journal"]))

    def runs(self) -> list[Path]:
        runs = self.reports / "runs"
        return sorted(p for p in runs.iterdir() if (p / "journal.jsonl").is_file()) if runs.is_dir() else []


def outcomes(document: dict[str, Any], step_name: str) -> dict[str, dict[str, Any]]:
    """host -> result of one step, from ``runbook run --json``."""
    return {r["host"]: r for r in document["results"] if r["step_name"] == step_name}


@pytest.fixture
def night(stack: LabStack, tmp_path: Path) -> Iterator[Night]:
    reports = tmp_path / "reports"
    reports.mkdir()
    yield Night(stack=stack, inventory=write_night(stack, tmp_path / "inventory"), reports=reports)
