"""A host a step never logged in to is not reported as checked: a step that finds nothing to do
on a host without contacting it (a user action that decides from the host's vars, a restart
on a host that declares no services) skips that host, and the customer's report says nothing
about it, rather than "down1: OK (last checked at ...)" for a host where nothing listens."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from tests.lab import Lab
from tests.support.cli import host_end, journal, lab_inventory, runbook_cli, write_yaml

#: a customer's own action (actions/ beside the inventory): it logs in only where the host's
#: vars say there is a cache to look at
ACTION = '''
from dataclasses import dataclass
from runbook.actions.base import HostAction
from runbook.change import Outcome, Plan


@dataclass(frozen=True)
class CacheParams:
    """(none)"""


class CacheAction(HostAction):
    """Look at the shop's page cache, where the host has one."""

    name = "site.cache"
    Params = CacheParams

    def plan(self, task, params):
        if not task.vars.get("page_cache"):
            return Plan(Outcome.OK, message="no page cache here: nothing to look at")
        return Plan(Outcome.OK, message="cache: " + task.run("echo 12 entries").stdout.strip())
'''


def test_a_step_with_nothing_to_look_at_skips_a_host_it_never_reached(lab: Lab, tmp_path: Path) -> None:
    root = tmp_path / "customer"
    inventory = lab_inventory(lab, root / "inventory.yml", include_bad=True)
    document = yaml.safe_load(inventory.read_text())
    document["hosts"]["web1"].setdefault("vars", {})["page_cache"] = True
    write_yaml(inventory, document)
    (root / "actions").mkdir()
    (root / "actions" / "cache.py").write_text(ACTION)
    os.chmod(root / "actions", 0o755)
    book = write_yaml(tmp_path / "pb.yml", {"name": "Cache", "steps": [{"name": "Cache", "action": "site.cache"}]})
    runs = tmp_path / "reports" / "runs"

    done = runbook_cli("run", book, "-i", inventory, "-l", "web1,down1", "--json", runs_dir=runs)

    assert done.returncode == 0, done.stderr
    events = journal(runs)
    web, down = host_end(events, "web1"), host_end(events, "down1")
    assert (web["outcome"], web["message"]) == ("ok", "cache: 12 entries")
    # down1 (nothing listens there) was never contacted: skipped, with what the action said
    assert (down["outcome"], down["message"]) == ("skipped", "no page cache here: nothing to look at")
    assert not [e for e in events if e["event"] == "command" and e["host"] == "down1"]
    run_id = events[0]["run_id"]
    # web1 was reached (the action ran a command there, which says nothing about its condition)
    for lang, checked in (("en", "web1: reachable, our work there is done"),
                          ("de", "web1: erreichbar, unsere Arbeiten dort sind erledigt")):
        report = runbook_cli("report", "next-day", run_id, "--lang", lang, "--reports-dir", runs.parent,
                             runs_dir=runs)
        assert report.returncode == 0, report.stderr
        text = " ".join(report.stdout.split())
        assert checked in text and "down1" not in text, text
