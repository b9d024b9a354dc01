"""Services config, shipped defaults and the dependency graph, from inventory YAML (no hosts contacted)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.inventory import load_inventory
from runbook.services.graph import ServiceGraph
from runbook.services.model import host_services

HEAD = """\
customer: {name: Shop GmbH}
hosts:
"""


def _inventory(tmp_path: Path, hosts: str) -> Path:
    path = tmp_path / "inv.yml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(hosts), "  "))
    return path


def _graph(tmp_path: Path, hosts: str) -> ServiceGraph:
    inv = load_inventory([_inventory(tmp_path, hosts)])
    return ServiceGraph.from_inventory(inv, list(inv.hosts.values()))


STACK = """\
web1:
  vars:
    services:
      nginx: {depends_on: ["app1:gunicorn"]}
app1:
  vars:
    services:
      gunicorn: {depends_on: ["db1:postgresql"]}
      worker: {manager: command, start: /srv/w start, stop: /srv/w stop, pid_file: /run/w.pid,
               depends_on: [gunicorn]}
db1:
  address: 10.0.0.3
  vars:
    os_family: rhel
    services:
      postgresql: {}
      apache2: {}
"""


def test_shipped_defaults_per_os_family(tmp_path: Path) -> None:
    graph = _graph(tmp_path, STACK)
    db = graph.services["db1:postgresql"]
    assert (db.manager, db.unit, db.start_timeout) == ("systemd", "postgresql", 120.0)
    assert [p.describe() for p in db.probes] == ["tcp 10.0.0.3:5432"]
    assert graph.services["db1:apache2"].unit == "httpd"            # RHEL's name for Apache
    assert graph.services["web1:nginx"].depends_on == ("app1:gunicorn",)
    assert graph.services["app1:worker"].depends_on == ("app1:gunicorn",)


def test_restart_order_stops_dependants_first_and_restarts_them_around_a_dependency(tmp_path: Path) -> None:
    graph = _graph(tmp_path, STACK)
    order = graph.restart_order(["db1:postgresql"], {"web1", "app1", "db1"})
    assert order.start[:2] == ("db1:postgresql", "app1:gunicorn")
    assert set(order.start[2:]) == {"web1:nginx", "app1:worker"}
    assert order.stop == tuple(reversed(order.start))
    assert "db1:apache2" not in order.start
    # a dependant on a host outside the run is named, not touched
    partial = graph.restart_order(["app1:gunicorn"], {"app1"})
    assert partial.start == ("app1:gunicorn", "app1:worker") and partial.elsewhere == ("web1:nginx",)


def test_dependency_cycle_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dependency cycle: a1:x -> a1:y -> a1:x"):
        _graph(tmp_path, """\
        a1:
          vars:
            services:
              x: {manager: systemd, depends_on: [y]}
              y: {manager: systemd, depends_on: [x]}
        """)


def test_unknown_dependency_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="depends on 'db9:postgresql', which no host declares"):
        _graph(tmp_path, "web1:\n  vars:\n    services:\n      nginx: {depends_on: ['db9:postgresql']}\n")


@pytest.mark.parametrize(("entry", "field", "line", "message"), [
    ("nginx: {manager: upstart}", "vars.services.nginx.manager", 6, "must be one of systemd, sysv, command"),
    ("app:\n        start: run\n        pid_file: 7\n        colour: red", "vars.services.app.colour", 9,
     "unknown key"),
    ("app: {manager: command, start: a}", "vars.services.app", 6, "required for manager 'command'"),
    ("nginx:\n        probes:\n          - {tcp: 99999}", "vars.services.nginx.probes[0].tcp", 8, "1-65535"),
    ("nginx:\n        probes:\n          - {http: ftp://x}", "vars.services.nginx.probes[0].http", 8, "http://"),
    ("nginx: {start_timeout: soon}", "vars.services.nginx.start_timeout", 6, "not a duration"),
    ("db: {kind: oracle}", "vars.services.db.kind", 6, "unknown kind 'oracle'"),
])
def test_config_errors_name_var_file_and_line(tmp_path: Path, entry: str, field: str, line: int,
                                               message: str) -> None:
    path = _inventory(tmp_path, f"h1:\n  vars:\n    services:\n      {entry}\n")
    inv = load_inventory([path])
    with pytest.raises(ConfigError) as caught:
        host_services(inv.hosts["h1"])
    err = caught.value
    assert (err.file, err.line, err.field) == (str(path), line, field) and message in err.message
