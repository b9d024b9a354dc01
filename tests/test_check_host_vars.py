"""``runbook check PLAYBOOK -i INV`` (and ``run``, ``sweep``) read every host var the
playbook's actions will read, for every targeted host, before any host is contacted: a
mistake is one line naming file:line and the field, exit 78, no traceback, no journal. A var
name close to one runbook reads is a warning (the run goes on); the user's own vars are not.

The hosts' address is one where nothing listens: had anything tried to reach them, the run
would have left a journal, and every test here checks that none was opened.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab.night import write_night
from tests.lab.services import LabStack
from tests.support.cli import REPO, isolate, no_traceback, run_dirs, run_main

PLAYBOOKS = REPO / "playbooks"
NOWHERE = "127.0.70.250"
CONFIG = 78

#: ``@DEFAULTS@`` etc. take a case's snippet; the line marked ``#!`` (else its first line) is
#: where the error must point.
INVENTORY = f"""\
customer: {{name: ACME GmbH, slug: acme}}
defaults:
  connect_timeout: 1
  vars:
    load_warn: 1000
    load_crit: 2000
@DEFAULTS@
roles:
  app:
    vars:
      services:
        gunicorn: {{manager: command, start: /srv/shop/start, stop: /srv/shop/stop, pid_file: /run/shop.pid}}
@ROLE_APP@
hosts:
  web1:
    address: {NOWHERE}
    roles: [web]
    vars:
      shop_url: https://shop.acme.example/
@WEB1@
  app1:
    address: {NOWHERE}
    roles: [app]
    vars:
      log_dir: /var/log/shop
      lab_root: /srv/lab/app1
@APP1@
"""
INDENT = {"@DEFAULTS@": 4, "@ROLE_APP@": 6, "@WEB1@": 6, "@APP1@": 6}


def write_inventory(path: Path, **snippets: str) -> tuple[Path, int | None]:
    """The inventory with each ``@PLACE@`` given a snippet (the others empty), and the line the
    marked snippet line landed on."""
    text = INVENTORY
    for place, indent in INDENT.items():
        snippet = textwrap.dedent(snippets.get(place.strip("@").lower(), "")).strip("\n")
        text = text.replace(place + "\n", textwrap.indent(snippet, " " * indent) + "\n" if snippet else "")
    path.write_text(text)
    lines = text.splitlines()
    marked = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith("#!")]
    return path, marked[0] if marked else None


@dataclass(frozen=True)
class Bad:
    """A host var mistake: where it is written, which shipped playbook reads it, and what the
    one line must say."""

    id: str
    playbook: str
    place: str          # defaults | role_app | web1 | app1
    snippet: str        # YAML; its line ending in "#!" is where the error points
    field: str
    words: str


BAD = [
    Bad("hung-rules-bad-action", "hung-app.yml", "app1", "hung_rules:\n- {state: T, action: kil}  #!",
        "vars.hung_rules[0].action", "must be kill or report"),
    Bad("hung-rules-unknown-key", "on-call.yml", "app1", "hung_rules:\n- {state: T}\n- {state: Z, acton: kill}  #!",
        "vars.hung_rules[1].acton", "unknown key"),
    Bad("hung-rules-two-conditions", "hung-app.yml", "app1", "hung_rules:\n- state: T  #!\n  max_age: 6h",
        "vars.hung_rules[0]", "needs exactly one of"),
    Bad("hung-rules-undeclared-service", "hung-app.yml", "app1",
        "hung_rules:\n- {service: gunicron, action: kill}  #!", "vars.hung_rules[0].service",
        "app1 declares no service 'gunicron'"),
    Bad("hung-rules-not-a-list-in-a-role", "hung-app.yml", "role_app", "hung_rules: {state: T}  #!",
        "vars.hung_rules", "must be a list of rules"),
    Bad("protected-processes-regex", "hung-app.yml", "defaults", "protected_processes: ['backup(']  #!",
        "vars.protected_processes[0]", "not a regular expression"),
    Bad("services-manager", "restart-stack.yml", "web1", "services:\n  nginx: {manager: upstart}  #!",
        "vars.services.nginx.manager", "must be one of systemd, sysv, command"),
    Bad("services-probe-port", "restart-stack.yml", "app1",
        "services:\n  gunicorn:\n    probes:\n    - {tcp: 99999}  #!", "vars.services.gunicorn.probes[0].tcp",
        "1-65535"),
    Bad("services-depends-on", "hung-app.yml", "app1", "services:\n  gunicorn: {depends_on: {db1: postgresql}}  #!",
        "vars.services.gunicorn.depends_on", "must be a list"),
    Bad("os-family", "restart-stack.yml", "app1", "os_family: suse  #!", "vars.os_family",
        "must be one of debian, rhel"),
    Bad("restart-loop-max", "restart-stack.yml", "defaults", "restart_loop: {max: 0, window: 1h}  #!",
        "vars.restart_loop.max", "whole number >= 1"),
    Bad("restart-loop-unknown-key", "hung-app.yml", "app1", "restart_loop:\n  maximum: 3  #!",
        "vars.restart_loop.maximum", "unknown key"),
    Bad("log-sets-format", "disk-pressure.yml", "web1",
        "log_sets:\n  shop:\n    globs: [var/log/shop/*.log]\n    format: nginx  #!", "vars.log_sets.shop.format",
        "must be one of"),
    Bad("log-sets-root-too-wide", "on-call.yml", "web1",
        "log_sets:\n  shop:\n    globs: [/var/log/shop/*.log]\n    roots: [/var]  #!", "vars.log_sets.shop.roots",
        "too wide"),
    Bad("log-sets-rotate-option", "disk-pressure.yml", "web1",
        "log_sets:\n  shop:\n    globs: [var/log/shop/*.log]\n    rotate: {compress: maybe}  #!",
        "vars.log_sets.shop.rotate.compress", "maybe"),
    Bad("log-root-relative", "disk-pressure.yml", "defaults", "log_root: srv/lab  #!", "vars.log_root",
        "absolute directory"),
    Bad("disk-warn-word", "health-check.yml", "defaults", "disk_warn: ninety  #!", "vars.disk_warn",
        "bad threshold 'ninety'"),
    Bad("disk-thresholds-order", "disk-pressure.yml", "web1", "disk_thresholds:\n  /var: {warn: 95}  #!",
        "vars.disk_thresholds./var.warn", "above the critical one"),
    Bad("disk-ignore", "health-check.yml", "web1", "disk_ignore: 5  #!", "vars.disk_ignore",
        "list of mount point globs"),
    Bad("analysis-python", "on-call.yml", "web1", "analysis_python: [python3]  #!", "vars.analysis_python",
        "must be a string"),
    Bad("hoster-reference", "provider-notice.yml", "web1", "hoster_reference: {id: 4711}  #!",
        "vars.hoster_reference", "must be a string"),
]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_bad_host_var_is_one_line_naming_file_line_and_field_before_any_host_is_contacted(
        capsys: pytest.CaptureFixture[str], runs: Path, tmp_path: Path, bad: Bad, command: str) -> None:
    inventory, line = write_inventory(tmp_path / "acme.yml", **{bad.place: bad.snippet})
    more = ("--yes",) if command == "run" else ()  # a real run that would not even ask
    code, out, err = run_main(capsys, command, PLAYBOOKS / bad.playbook, "-i", inventory, *more)

    no_traceback(out, err)
    assert code == CONFIG, err
    assert one_error(err).startswith(f"runbook: error: {inventory}:{line}: {bad.field}: "), err
    assert bad.words in err
    assert out == "" and run_dirs(runs) == []


def test_a_var_from_the_command_line_is_named_as_such(capsys: pytest.CaptureFixture[str], runs: Path,
                                                      tmp_path: Path) -> None:
    inventory, _ = write_inventory(tmp_path / "acme.yml")
    code, out, err = run_main(capsys, "check", PLAYBOOKS / "health-check.yml", "-i", inventory, "-e", "disk_crit=70")
    assert code == CONFIG and out == ""
    assert one_error(err) == ("runbook: error: -e/--extra-var: vars.disk_crit: critical threshold 70% is below "
                              "the warning one (disk_warn = 80%)")


def test_warn_and_crit_set_in_two_places_name_both(capsys: pytest.CaptureFixture[str], runs: Path,
                                                   tmp_path: Path) -> None:
    inventory, line = write_inventory(tmp_path / "acme.yml", defaults="disk_warn: 85  #!", web1="disk_crit: 80")
    code, _, err = run_main(capsys, "check", PLAYBOOKS / "health-check.yml", "-i", inventory, "-l", "web1")
    crit_line = next(i + 1 for i, text in enumerate(inventory.read_text().splitlines()) if "disk_crit: 80" in text)
    assert code == CONFIG
    assert one_error(err) == (f"runbook: error: {inventory}:{line}: vars.disk_warn: warning threshold 85% is above "
                              f"the critical one (disk_crit = 80%, set at {inventory}:{crit_line})")


def test_a_sweep_reads_the_thresholds_before_contacting_any_host(capsys: pytest.CaptureFixture[str], runs: Path,
                                                                 tmp_path: Path) -> None:
    inventory, line = write_inventory(tmp_path / "acme.yml", web1="disk_crit: lots  #!")
    code, out, err = run_main(capsys, "sweep", "-i", inventory, "--json")
    assert code == CONFIG and out == "" and run_dirs(runs) == []
    assert one_error(err).startswith(f"runbook: error: {inventory}:{line}: vars.disk_crit: bad threshold 'lots'")


def test_sweep_alert_reads_the_alert_vars_before_contacting_any_host(capsys: pytest.CaptureFixture[str],
                                                                     runs: Path, tmp_path: Path) -> None:
    inventory, line = write_inventory(tmp_path / "acme.yml", defaults="alert_flap_changes: often  #!")
    code, out, err = run_main(capsys, "sweep", "-i", inventory, "--alert", "--alert-to", "oncall@acme.example")
    assert code == CONFIG and out == "" and run_dirs(runs) == []
    assert one_error(err) == (f"runbook: error: {inventory}:{line}: vars.alert_flap_changes: must be a whole "
                              "number >= 1, not 'often'")


def test_only_the_vars_the_playbook_reads_are_judged(capsys: pytest.CaptureFixture[str], runs: Path,
                                                     tmp_path: Path) -> None:
    """kernel-versions.yml runs commands only: a broken hung_rules is not its business."""
    inventory, _ = write_inventory(tmp_path / "acme.yml", app1="hung_rules: [{state: T, action: kil}]")
    code, out, err = run_main(capsys, "check", PLAYBOOKS / "kernel-versions.yml", "-i", inventory)
    assert (code, err) == (0, "")
    assert "OK: 'Kernel versions', 2 step(s) for 2 host(s), 0 host var(s) read" in out
    code, _, err = run_main(capsys, "check", PLAYBOOKS / "hung-app.yml", "-i", inventory)
    assert code == CONFIG and "vars.hung_rules[0].action" in err


# -- did you mean ---------------------------------------------------------------------------------

def test_a_misspelt_var_is_a_warning_naming_where_it_is_set_once(capsys: pytest.CaptureFixture[str], runs: Path,
                                                               tmp_path: Path) -> None:
    """hung_rule in the defaults applies to both hosts and is said once; the run goes on."""
    inventory, line = write_inventory(tmp_path / "acme.yml", defaults="hung_rule: [{state: T, action: kill}]  #!",
                                      web1="disk_wran: 70")
    wran_line = next(i + 1 for i, text in enumerate(inventory.read_text().splitlines()) if "disk_wran" in text)
    code, out, err = run_main(capsys, "check", PLAYBOOKS / "on-call.yml", "-i", inventory)
    assert code == 0 and out.startswith(f"{PLAYBOOKS / 'on-call.yml'}: OK")
    assert sorted(err.strip().splitlines()) == sorted([
        f"runbook: warning: {inventory}:{line}: vars.hung_rule: did you mean hung_rules? "
        "(no part of runbook reads hung_rule)",
        f"runbook: warning: {inventory}:{wran_line}: vars.disk_wran: did you mean disk_warn? "
        "(no part of runbook reads disk_wran)"])


def test_a_misspelt_var_on_the_command_line_and_in_a_run(capsys: pytest.CaptureFixture[str], runs: Path,
                                                         tmp_path: Path) -> None:
    inventory, _ = write_inventory(tmp_path / "acme.yml")
    code, _, err = run_main(capsys, "run", PLAYBOOKS / "kernel-versions.yml", "-i", inventory, "-e",
                            "log_set=[]", "--check")
    assert code == 5  # the run went on, and found nobody at the hosts' address
    assert ("runbook: warning: -e/--extra-var: vars.log_set: did you mean log_sets? "
            "(no part of runbook reads log_set)") in err
    assert len(run_dirs(runs)) == 1


def test_the_users_own_vars_are_left_alone(capsys: pytest.CaptureFixture[str], runs: Path, tmp_path: Path) -> None:
    """shop_url, log_dir and lab_root (the lab's) are for templates: no warning."""
    inventory, _ = write_inventory(tmp_path / "acme.yml", defaults="backup_dir: /srv/backup\ndisk_warn_mail: ops")
    for playbook in sorted(PLAYBOOKS.glob("*.yml")):
        code, out, err = run_main(capsys, "check", playbook, "-i", inventory)
        assert (code, err) == (0, ""), playbook
        assert ": OK: " in out


# -- what ships passes -----------------------------------------------------------------------------

@pytest.mark.parametrize("playbook", sorted(p.name for p in PLAYBOOKS.glob("*.yml")))
def test_every_shipped_playbook_passes_against_the_shipped_inventory(capsys: pytest.CaptureFixture[str],
                                                                     runs: Path, playbook: str) -> None:
    code, out, err = run_main(capsys, "check", PLAYBOOKS / playbook, "-i", REPO / "inventory" / "local.yml")
    assert (code, err) == (0, "")
    assert out.startswith(f"{PLAYBOOKS / playbook}: OK: ") and "for 1 host(s)" in out


@pytest.mark.parametrize("playbook", sorted(p.name for p in PLAYBOOKS.glob("*.yml")))
def test_every_shipped_playbook_passes_against_the_lab_stack_inventory(
        capsys: pytest.CaptureFixture[str], runs: Path, stack: LabStack, tmp_path: Path, playbook: str) -> None:
    """The on-call night's inventory directory (two customers, the real stack's services, log
    sets and hung rules) is what a user writes: every var in it reads, and none looks misspelt."""
    night = write_night(stack, tmp_path / "night")
    code, out, err = run_main(capsys, "check", PLAYBOOKS / playbook, "-i", night)
    assert (code, err) == (0, "")
    assert out.startswith(f"{PLAYBOOKS / playbook}: OK: ") and run_dirs(runs) == []
