"""The shipped playbooks through the real CLI (`python -m runbook run ...`) against the lab stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runbook.journal import read_events
from tests.lab.services import LabStack, http_get

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_restart_stack_playbook_end_to_end(stack: LabStack, stack_inventory: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    before = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}
    done = _run("run", "playbooks/restart-stack.yml", "-i", str(stack_inventory), "--yes",
                "--runs-dir", str(runs), "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    restart = [r for r in report["results"] if r["step_name"] == "Restart in dependency order"]
    assert {r["host"]: r["outcome"] for r in restart} == {"web1": "changed", "app1": "changed", "db1": "changed"}
    events = read_events(Path(report["journal"]))
    order = [(e["op"], e["service"]) for e in events if e["event"] == "service"]
    assert order == [("stop", "web1:nginx"), ("stop", "app1:gunicorn"), ("stop", "db1:postgresql"),
                     ("start", "db1:postgresql"), ("gate", "db1:postgresql"),
                     ("start", "app1:gunicorn"), ("gate", "app1:gunicorn"),
                     ("start", "web1:nginx"), ("gate", "web1:nginx")]
    after = {n: stack.main_pid(n) for n in before}
    assert all(after[n] not in (None, before[n]) for n in before)
    assert http_get(stack.urls["web"], 3) == (200, "app ok\n")
    # nothing unhealthy now: the on-call sequence's restart step has nothing to do
    oncall = _run("run", "playbooks/on-call.yml", "-i", str(stack_inventory), "--yes", "-l", "web1,app1,db1",
                  "--runs-dir", str(runs), "--json")
    results = json.loads(oncall.stdout)["results"]
    restart = [r for r in results if r["step_name"] == "Controlled restart where needed"]
    assert [r["message"] for r in restart] == ["every service is healthy: nothing to restart"] * 3, oncall.stderr
    assert {n: stack.main_pid(n) for n in before} == after
