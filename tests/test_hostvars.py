"""The one host-var reader: where each var was set (defaults < role < host < -e), located
values down to a list entry's own line, the declared schemas, and that no module reads a
declared var by hand."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from runbook.actions import ACTIONS
from runbook.errors import ConfigError
from runbook.hostvars import EXTRA_VARS, HostVars, did_you_mean
from runbook.inventory import load_inventory
from runbook.inventory.model import Host
from runbook.playbook.hostvars import declared_vars
from runbook.processes.hung import HUNG_RULES
from runbook.services.restart_plan import RESTART_LOOP

ROOT = Path(__file__).resolve().parent.parent / "runbook"

INVENTORY = """\
customer: {name: ACME GmbH}
defaults:
  vars:
    disk_warn: 70
    restart_loop: {max: 2}
    hung_rules: [{state: Z}]
roles:
  app:
    vars:
      disk_warn: 75
      restart_loop: {max: 5, window: 2h}
hosts:
  app1:
    roles: [app]
    vars:
      disk_warn: 85
      hung_rules:
        - {state: T}
        - state: D
          longer_than: soon
  web1: {}
"""


def hosts(tmp_path: Path, extra: dict | None = None) -> tuple[Path, dict[str, Host]]:
    path = tmp_path / "acme.yml"
    path.write_text(INVENTORY)
    return path, dict(load_inventory([path], extra).hosts)


def test_each_var_is_placed_where_the_winning_layer_set_it(tmp_path: Path) -> None:
    path, found = hosts(tmp_path, {"disk_crit": 95})
    app1, web1 = HostVars.of(found["app1"]), HostVars.of(found["web1"])
    place = {name: (at.file, at.line) for name in ("disk_warn", "restart_loop", "hung_rules", "disk_crit")
             for at in [app1.located(name)]}
    assert place == {"disk_warn": (str(path), 16), "restart_loop": (str(path), 11), "hung_rules": (str(path), 17),
                     "disk_crit": (EXTRA_VARS, None)}
    assert (web1.located("disk_warn").line, web1.located("hung_rules").line) == (4, 6)
    assert web1.read(RESTART_LOOP).max == 2 and app1.read(RESTART_LOOP).window == 7200


def test_a_list_entry_written_as_a_block_is_placed_at_its_own_lines(tmp_path: Path) -> None:
    path, found = hosts(tmp_path)
    with pytest.raises(ConfigError) as caught:
        HostVars.of(found["app1"]).read(HUNG_RULES)
    assert (caught.value.file, caught.value.line, caught.value.field) == (str(path), 20,
                                                                           "vars.hung_rules[1].longer_than")


def test_a_value_a_step_registered_over_a_var_is_not_placed_in_the_inventory(tmp_path: Path) -> None:
    """``register: hung_rules`` shadows the var in later steps: its mistakes are no line of the file."""
    _, found = hosts(tmp_path)
    app1 = found["app1"]
    vars = HostVars.of(app1, {**app1.vars, "hung_rules": [{"state": "X"}]})
    with pytest.raises(ConfigError) as caught:
        vars.read(HUNG_RULES)
    assert (caught.value.line, caught.value.field) == (app1.line, "vars.hung_rules[0].state")


def test_an_unset_or_null_var_is_its_default(tmp_path: Path) -> None:
    _, found = hosts(tmp_path, {"hung_rules": None})
    assert [r.state for r in HostVars.of(found["web1"]).read(HUNG_RULES)] == ["T", "Z"]


@pytest.mark.parametrize("name, suggestion", [
    ("hung_rule", "hung_rules"), ("Hung_Rules", "hung_rules"), ("disk_wran", "disk_warn"),
    ("service", "services"), ("log_set", "log_sets"), ("protected_process", "protected_processes"),
    ("restart_loops", "restart_loop"), ("inode_warning", "inode_warn"), ("alert_repat", "alert_repeat"),
    ("hung_rules", None), ("log_dir", None), ("lab_root", None), ("shop_url", None), ("backup_dir", None),
    ("db_password", None), ("disk_warn_mail", None),
])
def test_did_you_mean_only_for_names_close_to_a_declared_one(name: str, suggestion: str | None) -> None:
    assert did_you_mean(name, declared_vars()) == suggestion


def test_every_declared_var_is_documented_where_it_says_and_its_default_reads() -> None:
    host = Host(name="h1", customer="acme", connection="local", address="127.0.0.1", port=22, user=None,
                identity_files=(), known_hosts="", jump=None, sudo=False, connect_timeout=1.0,
                command_timeout=1.0, roles=("web", "app", "db"), vars={}, file="acme.yml", line=3)
    empty = HostVars.of(host)
    for name, (var, readers) in declared_vars().items():
        module = importlib.import_module(var.documented_in)
        docs = [module.__doc__ or ""] + [inspect.getdoc(c) or "" for _, c in inspect.getmembers(module, inspect.isclass)
                                         if c.__module__ == module.__name__]
        assert any(re.search(rf"\b{name}\b", doc) for doc in docs), f"{var.documented_in} does not document {name}"
        assert readers, name
        empty.read(var)  # the shipped default is valid


def test_an_action_and_its_vars_agree_on_every_declaration() -> None:
    """One schema per name: two actions reading ``services`` read the same declaration."""
    seen = {}
    for _, action in ACTIONS.items():
        for var in action.host_vars:
            assert seen.setdefault(var.name, var) is var


def test_no_module_reads_a_declared_var_by_hand() -> None:
    names = "|".join(map(re.escape, declared_vars()))
    by_hand = re.compile(rf"""vars\s*(\.get\(\s*|\[\s*)["']({names})["']|["']({names})["']\s+in\s+\w*vars""")
    found = [f"{path.relative_to(ROOT.parent)}:{number}: {line.strip()}"
             for path in sorted(ROOT.rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if by_hand.search(line)]
    assert not found, "read these through runbook.hostvars:\n" + "\n".join(found)
