"""User actions without editing runbook: a local actions/ directory beside the inventory and a
package's entry point, with the built-ins' contract (typed params, plan -> apply, --check,
confirmation, journal); `runbook actions` shows where each comes from."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.lab import Lab
from tests.support.cli import REPO, events_of, journal, lab_inventory, runbook_cli, write_yaml

EXAMPLE = REPO / "examples" / "actions" / "maintenance_flag.py"


@pytest.fixture
def customer_dir(lab: Lab, tmp_path: Path) -> Path:
    """A customer's directory: the lab inventory, actions/ with the documented example, a playbook."""
    root = tmp_path / "customer"
    lab_inventory(lab, root / "inventory.yml")
    (root / "actions").mkdir()
    shutil.copy(EXAMPLE, root / "actions" / "maintenance_flag.py")
    os.chmod(root / "actions", 0o755)
    os.chmod(root / "actions" / "maintenance_flag.py", 0o644)
    write_yaml(root / "playbooks" / "maintenance.yml", {"name": "Maintenance page", "steps": [
        {"name": "flag", "action": "example.maintenance_flag", "params": {"path": "{{ lab_root }}/tmp/maint.flag"}}]})
    return root


def test_runbook_actions_lists_a_local_action_with_its_origin(customer_dir: Path) -> None:
    done = runbook_cli("actions", "-i", customer_dir / "inventory.yml", "--json")
    assert done.returncode == 0, done.stderr
    found = {a["action"]: a for a in json.loads(done.stdout)}
    mine = found["example.maintenance_flag"]
    assert mine["origin"] == f"local {customer_dir / 'actions' / 'maintenance_flag.py'}"
    assert mine["confirm"] is True and mine["summary"].startswith("Turn the web server's maintenance page")
    assert [p["name"] for p in mine["params"]] == ["path", "on"]
    assert found["command"]["origin"] == "built-in"


def test_a_local_action_plans_asks_applies_and_is_journaled(lab: Lab, customer_dir: Path, tmp_path: Path) -> None:
    flag = lab.hosts["web1"].root / "tmp" / "maint.flag"
    flag.unlink(missing_ok=True)
    inv = customer_dir / "inventory.yml"
    checked = runbook_cli("run", "maintenance", "-i", inv, "-l", "web1", "--check", runs_dir=tmp_path / "c")
    assert checked.returncode == 0, checked.stderr
    assert f"would: create the maintenance flag {flag}" in checked.stdout + checked.stderr and not flag.exists()
    assert "playbook maintenance: local file" in checked.stderr
    unasked = runbook_cli("run", "maintenance", "-i", inv, "-l", "web1", runs_dir=tmp_path / "n")
    assert "not a terminal: nothing applied" in unasked.stderr and not flag.exists()
    done = runbook_cli("run", "maintenance", "-i", inv, "-l", "web1", "--yes", runs_dir=tmp_path / "y")
    assert done.returncode == 0, done.stderr
    assert flag.exists()
    events = journal(tmp_path / "y")
    assert events_of(events, "step.start")[0]["action"] == "example.maintenance_flag"
    (end,) = events_of(events, "host.end")
    assert end["outcome"] == "changed" and end["changes"] == [f"create the maintenance flag {flag}"]
    assert any(e["command"] == f"touch {flag}" for e in events_of(events, "command"))
    again = runbook_cli("run", "maintenance", "-i", inv, "-l", "web1", "--yes", "--json", runs_dir=tmp_path / "a")
    assert json.loads(again.stdout)["results"][0]["message"] == "maintenance page already on"


def test_an_entry_point_action_of_an_installed_package(lab: Lab, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "acme_runbook-1.0.dist-info").mkdir(parents=True)
    (site / "acme_runbook-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-runbook\n"
                                                                   "Version: 1.0\n")
    (site / "acme_runbook-1.0.dist-info" / "entry_points.txt").write_text(
        "[runbook.actions]\nacme-uptime = acme_runbook:UptimeAction\n")
    (site / "acme_runbook.py").write_text('''
from dataclasses import dataclass
from runbook.actions.base import HostAction
from runbook.change import Outcome, Plan


@dataclass(frozen=True)
class UptimeParams:
    """(none)"""


class UptimeAction(HostAction):
    """Read how long the host has been up."""

    name = "acme.uptime"
    Params = UptimeParams

    def plan(self, task, params):
        return Plan(Outcome.OK, message="up " + task.run("cut -d. -f1 /proc/uptime").stdout.strip() + "s")
''')
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{site}"}
    listed = {a["action"]: a for a in json.loads(runbook_cli("actions", "--json", env=env).stdout)}
    assert listed["acme.uptime"]["origin"] == "entry point acme-runbook: acme_runbook:UptimeAction"
    book = write_yaml(tmp_path / "pb.yml", {"name": "Uptime", "steps": [{"action": "acme.uptime"}]})
    inv = lab_inventory(lab, tmp_path / "inv.yml")
    done = runbook_cli("run", book, "-i", inv, "-l", "web1", "--json", env=env, runs_dir=tmp_path / "runs")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["message"].startswith("up ")


@pytest.mark.parametrize("source, message", [
    ("from runbook.actions.base import HostAction\nclass Bad(HostAction):\n    '''x'''\n    name = 'command'\n",
     "Bad.name must be like 'acme.cache_flush'"),
    ("from runbook.actions.base import HostAction\nclass Bad(HostAction):\n    '''x'''\n    name = 'a.b'\n",
     "Bad.Params must be a dataclass"),
    ("import nothing_of_that_name\n", "cannot import: ModuleNotFoundError"),
    ("def broken(:\n", "syntax error"),
])
def test_a_broken_local_action_is_one_clear_line(tmp_path: Path, source: str, message: str) -> None:
    (tmp_path / "actions").mkdir(mode=0o755)
    (tmp_path / "actions" / "mine.py").write_text(source)
    os.chmod(tmp_path / "actions" / "mine.py", 0o644)
    write_yaml(tmp_path / "inv.yml", {"customer": {"name": "X"}, "hosts": {"h": {"connection": "local"}}})
    done = runbook_cli("actions", "-i", tmp_path / "inv.yml")
    assert done.returncode == 78
    assert message in done.stderr and str(tmp_path / "actions" / "mine.py") in done.stderr
    assert "Traceback" not in done.stderr


def test_an_action_file_others_can_write_is_refused(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir(mode=0o755)
    shutil.copy(EXAMPLE, tmp_path / "actions" / "flag.py")
    os.chmod(tmp_path / "actions" / "flag.py", 0o666)
    write_yaml(tmp_path / "inv.yml", {"customer": {"name": "X"}, "hosts": {"h": {"connection": "local"}}})
    done = runbook_cli("actions", "-i", tmp_path / "inv.yml")
    assert done.returncode == 78
    assert "flag.py: refusing to load: writable by group or others (chmod go-w)" in done.stderr
