"""``config_check``: declared with the services, a default per shipped kind, run before a restart
stops anything; and a start that fails although the check passed (what is said, what comes back)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from runbook.errors import ConfigError
from runbook.inventory import load_inventory
from runbook.services.model import host_services
from tests.lab.services import WEB_PORT, LabStack, http_get

REPO = Path(__file__).resolve().parents[2]


def _services(tmp_path: Path, entry: str, os_family: str = "debian") -> dict:
    path = tmp_path / "inv.yml"
    path.write_text("customer: {name: Shop GmbH}\nhosts:\n  web1:\n    vars:\n"
                    f"      os_family: {os_family}\n      services:\n" + textwrap.indent(entry, "        "))
    inv = load_inventory([path])
    return host_services(inv.hosts["web1"])


@pytest.mark.parametrize(("name", "family", "expected"), [
    ("nginx", "debian", "nginx -t"),
    ("apache2", "debian", "apache2ctl configtest"),
    ("httpd", "rhel", "apachectl configtest"),
    ("php-fpm", "debian", "php-fpm8.2 -t"),
    ("php-fpm", "rhel", "php-fpm -t"),
    ("mysql", "debian", "mysqld --validate-config"),
    ("mariadb", "rhel", "mariadbd --help --verbose >/dev/null"),
    ("postgresql", "debian", None),     # its check needs the cluster's directory: the inventory's
    ("gunicorn", "debian", None),
    ("tomcat", "rhel", None),
])
def test_each_shipped_kind_brings_its_own_checker(tmp_path: Path, name: str, family: str,
                                                  expected: str | None) -> None:
    assert _services(tmp_path, f"{name}: {{}}\n", family)[name].config_check == expected


def test_a_check_is_named_switched_off_or_left_to_own_start_commands(tmp_path: Path) -> None:
    found = _services(tmp_path, textwrap.dedent("""\
        nginx: {config_check: "nginx -t -c /etc/nginx/shop.conf"}
        apache2: {config_check: false}
        php-fpm: {config_check: null}
        mysql: {manager: command, start: /srv/my start, stop: /srv/my stop, pid_file: /run/my.pid}
        postgresql:
          config_check: "runuser -u postgres -- postgres -D /etc/postgresql/15/main -C shared_buffers"
        """))
    assert found["nginx"].config_check == "nginx -t -c /etc/nginx/shop.conf"
    assert found["apache2"].config_check is None and found["php-fpm"].config_check is None
    # started by its own commands: the packaged mysqld's check would test another config
    assert found["mysql"].config_check is None
    assert found["postgresql"].config_check.endswith("-C shared_buffers")


@pytest.mark.parametrize("value", ["[nginx, -t]", "true", "5", '""'])
def test_a_bad_config_check_names_file_line_and_field(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _services(tmp_path, f"nginx:\n  depends_on: []\n  config_check: {value}\n")
    error = caught.value
    assert (Path(error.file).name, error.line, error.field) == ("inv.yml", 9, "vars.services.nginx.config_check")
    assert "must be a command line" in str(error)


def test_runbook_check_refuses_a_bad_config_check_with_exit_78(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yml"
    inventory.write_text("customer: {name: Shop GmbH}\nhosts:\n  web1:\n    roles: [web]\n    vars:\n"
                         "      services:\n        nginx:\n          config_check: [nginx, -t]\n")
    done = subprocess.run([sys.executable, "-m", "runbook", "check", "playbooks/restart-stack.yml", "-i",
                           str(inventory)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 78, (done.stdout, done.stderr)
    assert "inv.yml:8: vars.services.nginx.config_check: must be a command line" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


RESTART_ALL = """
name: restart the stack
steps:
  - name: restart
    action: services.restart
    params: {gate_interval: 0.2, gate_timeout: 4s}
"""


def test_a_start_that_fails_after_a_passing_check_says_why_and_brings_back_what_does_not_need_it(
        stack: LabStack, tmp_path: Path, run_book) -> None:
    # nginx serves its error page without the app: it depends on nothing and its probe is its port
    inventory = stack.write_inventory(tmp_path / "inv.yml")
    document = yaml.safe_load(inventory.read_text())
    nginx = document["hosts"]["web1"]["vars"]["services"]["nginx"]
    nginx.update(depends_on=[], probes=[{"tcp": WEB_PORT}])
    inventory.write_text(yaml.safe_dump(document, sort_keys=False, width=200))
    # pg_hba.conf is not what `postgres -C` reads: the check passes, the start fails
    stack.break_postgres_access()
    before = {n: stack.main_pid(n) for n in ("nginx", "gunicorn", "postgresql")}

    result, events = run_book(inventory, RESTART_ALL, limit="web1,app1,db1")

    assert result.status == "aborted"
    # the step fails where the services are down, each host for its own; web1's nginx came
    # back, so web1 is not failed for the database
    outcome = {o.host: o for o in result.outcomes}
    assert {h: o.outcome for h, o in outcome.items()} == {"web1": "changed", "app1": "failed", "db1": "failed"}
    db, app = outcome["db1"], outcome["app1"]
    assert all(c["ok"] for c in db.data["config_checks"]), db.data["config_checks"]
    # why, in PostgreSQL's words from its log; what is left down and why
    assert db.message.startswith("health gate failed for db1:postgresql"), db.message
    assert "could not load pg_hba.conf" in db.message, db.message
    assert app.message.startswith("app1:gunicorn left down: needs db1:postgresql, which is down"), app.message
    assert outcome["web1"].data["up"] == ["web1:nginx"]
    assert sorted(outcome["web1"].data["down"]) == ["app1:gunicorn", "db1:postgresql"]
    # nginx came back (a new process that answers, with the app's error page); gunicorn stayed down
    started = [e["service"] for e in events if e["event"] == "service" and e["op"] == "start" and e["ok"]]
    assert sorted(started) == ["db1:postgresql", "web1:nginx"]
    assert stack.main_pid("nginx") not in (None, before["nginx"])
    assert stack.main_pid("gunicorn") is None and stack.main_pid("postgresql") is None
    assert http_get(stack.urls["web"], 3)[0] == 502
    # the database's host records the failure with the service's own words, for the report
    [gate] = [e for e in events if e["event"] == "service" and e["op"] == "gate" and not e["ok"]]
    assert gate["service"] == "db1:postgresql" and "could not load pg_hba.conf" in gate["detail"]
