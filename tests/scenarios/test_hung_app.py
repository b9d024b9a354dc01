"""The shop hangs: gunicorn's only worker blocks forever. On app1 an administrator has also left
an editor suspended with Ctrl-Z. The engineer runs the shipped hung-app playbook, --check first,
then for real: the worker is ended and gunicorn restarted; the editor is none of our business."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import psutil
import yaml

from tests.lab.services import http_get
from tests.scenarios.conftest import Night, outcomes


def _with_rules(night: Night, rules: list[dict]) -> None:
    """app1's hung_rules in the shop inventory: the documented stopped-process rule added."""
    shop = night.inventory / "shop.yml"
    document = yaml.safe_load(shop.read_text())
    document["hosts"]["app1"]["vars"]["hung_rules"] = rules
    shop.write_text(yaml.safe_dump(document, sort_keys=False))


def test_hung_worker_is_ended_and_a_suspended_editor_is_left_alone(night: Night, tmp_path: Path) -> None:
    stack = night.stack
    _with_rules(night, [{"service": "gunicorn", "action": "kill"}, {"state": "T", "action": "kill"}])
    editor = stack.spawn([sys.executable, "-c", "import time; time.sleep(600)", "vi", "/etc/hosts"])
    editor_proc = psutil.Process(editor.pid)
    editor_proc.send_signal(signal.SIGSTOP)
    master = stack.main_pid("gunicorn")
    workers = [c.pid for c in psutil.Process(master).children()]
    stack.hang_app()

    # --check: finds the hung worker, ends nothing, and its verdict is about the plan
    done, document = night.run_json("playbooks/hung-app.yml", "-i", night.inventory, "-l", "app1", "--check")
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    assert document["status"] == "completed"
    hung = outcomes(document, "Find hung processes")["app1"]["data"]["hung"]
    assert [h["pid"] for h in hung] == workers, hung        # the editor is not a candidate
    assert all(p.is_running() for p in map(psutil.Process, workers))
    assert stack.main_pid("gunicorn") == master
    assert editor_proc.status() == psutil.STATUS_STOPPED

    # for real
    done, document = night.run_json("playbooks/hung-app.yml", "-i", night.inventory, "-l", "app1", "--yes")
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
    signals = {e["pid"] for e in night.events(document) if e["event"] == "signal"}
    assert signals == set(workers)
    assert editor_proc.is_running() and editor_proc.status() == psutil.STATUS_STOPPED
    assert stack.main_pid("gunicorn") not in (None, master)
    assert http_get(stack.urls["web"], 5) == (200, "app ok\n")
    assert outcomes(document, "Services after")["app1"]["outcome"] == "ok"


def test_a_host_wide_rule_must_say_so(night: Night) -> None:
    """A rule without a service reaches every process of the host only with ``scope: host``."""
    stack = night.stack
    _with_rules(night, [{"state": "T", "action": "report", "scope": "host"}])
    editor = stack.spawn([sys.executable, "-c", "import time; time.sleep(600)", "vi", "/etc/motd"])
    psutil.Process(editor.pid).send_signal(signal.SIGSTOP)
    done, document = night.run_json("playbooks/hung-app.yml", "-i", night.inventory, "-l", "app1", "--check")
    hung = outcomes(document, "Find hung processes")["app1"]["data"]["hung"]
    assert editor.pid in [h["pid"] for h in hung], hung
