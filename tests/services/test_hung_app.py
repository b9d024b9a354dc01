"""Hung processes on the real lab: a hung app server, a stopped process, an overlong job, a zombie."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from tests.lab.services import LabStack, http_get
from tests.support.processes import wait_until

SHIPPED = Path(__file__).resolve().parents[2] / "playbooks" / "hung-app.yml"


def test_hung_app_is_found_by_its_probe_its_worker_killed_and_the_service_restarted(
        stack: LabStack, stack_inventory: Path, run_book) -> None:
    master = stack.main_pid("gunicorn")
    workers = [c.pid for c in psutil.Process(master).children()]
    stack.hang_app()
    assert http_get(stack.urls["app"], 1.0)[0] is None       # accepts, never answers

    text = SHIPPED.read_text().replace("grace: 10s", "grace: 2s")
    result, events = run_book(stack_inventory, text, limit="app1")
    outcomes = {o.step_name: o for o in result.outcomes}
    assert result.status == "completed", [(o.step_name, o.message) for o in result.outcomes]

    found = outcomes["Find hung processes"].data["hung"]
    hung_worker = [h for h in found if h["service"] == "gunicorn"]
    assert [h["pid"] for h in hung_worker] == workers
    assert "does not answer" in hung_worker[0]["reason"] and "timed out" in hung_worker[0]["reason"]

    signals = [(e["pid"], e["signal"], e["result"]) for e in events if e["event"] == "signal"]
    # the blocked worker ignores TERM (gunicorn only marks it to exit); KILL ends it
    assert (workers[0], "TERM", "sent") in signals and (workers[0], "KILL", "sent") in signals
    assert not psutil.pid_exists(workers[0]) or psutil.Process(workers[0]).status() == psutil.STATUS_ZOMBIE

    restart = outcomes["Restart where a service hung"]
    assert restart.outcome == "changed" and restart.data["up"] == ["app1:gunicorn"]
    assert restart.data["not_in_run"] == ["web1:nginx"]
    assert stack.main_pid("gunicorn") not in (None, master)
    assert http_get(stack.urls["app"], 3) == (200, "app ok, db ok\n")
    assert outcomes["Services after"].outcome == "ok"


def age(pid: int) -> float:
    """Seconds since ``pid`` started, as the processes fact counts them (/proc/uptime minus the
    start time in clock ticks); psutil's create_time rounds the boot time to a second."""
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    start_ticks = int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[19])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


FIND = """
name: find hung
steps:
  - name: hung
    action: processes.hung
"""


def test_stopped_process_overlong_job_cpu_hog_and_zombie_are_found(stack: LabStack, tmp_path: Path,
                                                                    run_book) -> None:
    stopped = stack.stopped_helper()
    job = stack.backup_job()
    parent = stack.zombie_parent()
    hog = stack.spawn(["python3", "-c", "while True: pass", "lab-cpu-hog"])
    # the helpers belong to no declared service: the state rules must say they mean the host
    rules = [{"state": "T", "scope": "host"}, {"state": "Z", "scope": "host"},
             {"name": "backup overrun", "pattern": "lab-backup-job", "max_age": "1s",
              "reason": "the nightly backup is still running"},
             # a low bar over a long window: on a shared, loaded machine a busy loop may get only a
             # sliver of a core, and one clock tick is 1/300 of a 3 s window
             {"pattern": "lab-cpu-hog", "cpu_above": 0.5, "window": "3s"}]
    inventory = stack.write_inventory(tmp_path / "inv.yml", extra={"spare1": {"hung_rules": rules}})
    # ages are whole seconds: the job must be older than max_age (1s) when the rules look at it
    assert wait_until(lambda: age(job.pid) > 2.0, timeout=30)
    zombie = wait_until(lambda: [c.pid for c in psutil.Process(parent.pid).children()
                                 if c.status() == psutil.STATUS_ZOMBIE], timeout=30)
    result, _ = run_book(inventory, FIND, limit="spare1")
    found = {h["pid"]: h for h in result.last_for("spare1").data["hung"]}

    assert found[stopped.pid]["state"] == "T" and "stopped" in found[stopped.pid]["reason"]
    assert found[job.pid]["reason"].startswith("the nightly backup is still running: running for")
    assert found[job.pid]["action"] == "report"
    assert "% CPU over 3s (limit 0.5%)" in found.get(hog.pid, {}).get("reason", ""), found
    assert zombie and found[zombie[0]]["state"] == "Z"
    assert f"its parent {parent.pid} (" in found[zombie[0]]["reason"]
    assert "reap" in found[zombie[0]]["advice"]
