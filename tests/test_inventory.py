"""Inventories: the documented shape, var precedence, directories, limits, ~/.ssh/config, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.errors import ConfigError, UsageError
from runbook.inventory import load_inventory, parse_extra_vars, select_hosts
from tests.lab import Lab
from tests.support.cli import command_step, isolate, run_main, write_playbook


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


ISSUE_EXAMPLE = """\
customer:            # who the hosts belong to
  name: ACME GmbH
  contacts: {customer: ops@acme.example, hoster: {name: Hostco, email: noc@hostco.example, phone: "+49 711 4711"}}
defaults:            # apply to every host unless the host overrides
  user: root
  port: 22
  identity_file: ~/.ssh/id_ed25519
  known_hosts: ~/.ssh/known_hosts
  vars: {disk_warn: 80}
hosts:
  web1: {address: 10.0.0.11, roles: [web], vars: {log_dir: /var/log/nginx}}
  db1:  {address: db1.acme.internal, port: 2222, roles: [db], jump: bastion.acme.example}
  self: {connection: local, roles: [web, app, db]}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def no_user_ssh_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(tmp_path / "no-ssh-config"))


def test_the_issue_example_loads_with_every_setting_resolved(tmp_path: Path) -> None:
    inv = load_inventory([write(tmp_path / "acme.yml", ISSUE_EXAMPLE)])

    assert list(inv.hosts) == ["web1", "db1", "self"]
    acme = inv.customers["acme"]
    assert acme.name == "ACME GmbH"
    assert acme.contact_email == "ops@acme.example"
    assert acme.hoster is not None
    assert (acme.hoster.name, acme.hoster.email, acme.hoster.phone) == ("Hostco", "noc@hostco.example",
                                                                         "+49 711 4711")
    web1, db1, local = inv.hosts["web1"], inv.hosts["db1"], inv.hosts["self"]
    assert (web1.address, web1.port, web1.user, web1.roles) == ("10.0.0.11", 22, "root", ("web",))
    assert web1.identity_files == (str(Path("~/.ssh/id_ed25519").expanduser()),)
    assert web1.known_hosts == str(Path("~/.ssh/known_hosts").expanduser())
    assert web1.vars == {"disk_warn": 80, "log_dir": "/var/log/nginx"}
    assert (db1.address, db1.port, db1.jump) == ("db1.acme.internal", 2222, "bastion.acme.example")
    assert local.connection == "local" and local.roles == ("web", "app", "db")
    assert web1.customer == db1.customer == local.customer == "acme"


def test_vars_merge_defaults_then_roles_then_host_then_extra_vars(tmp_path: Path) -> None:
    path = write(tmp_path / "inv.yml", """\
customer: {name: Merge GmbH}
defaults:
  vars: {a: defaults, b: defaults, c: defaults, d: defaults, e: defaults}
roles:
  web: {vars: {b: web, c: web, d: web, e: web}}
  app: {vars: {c: app, d: app, e: app}}
hosts:
  web1: {roles: [web, app], vars: {d: host, e: host}}
  web2: {roles: [web]}
""")
    inv = load_inventory([path], parse_extra_vars(["e=cli", "f=80"]))

    # later wins: defaults < roles (in the host's order) < host < -e
    assert inv.hosts["web1"].vars == {"a": "defaults", "b": "web", "c": "app", "d": "host", "e": "cli", "f": 80}
    assert inv.hosts["web2"].vars == {"a": "defaults", "b": "web", "c": "web", "d": "web", "e": "cli", "f": 80}


def test_extra_vars_are_read_as_yaml_scalars() -> None:
    assert parse_extra_vars(["n=80", "flag=true", "s=hello world", "empty="]) == {
        "n": 80, "flag": True, "s": "hello world", "empty": ""}


# -- limits ---------------------------------------------------------------------------------

@pytest.fixture
def two_customers(tmp_path: Path) -> Path:
    """A directory of two inventory files, one customer each."""
    directory = tmp_path / "inventory"
    write(directory / "acme.yml", """\
customer: {name: ACME GmbH}
hosts:
  web1: {address: 10.0.0.11, roles: [web]}
  web2: {address: 10.0.0.12, roles: [web]}
  app1: {address: 10.0.0.21, roles: [app]}
  db1: {address: 10.0.0.31, roles: [db]}
""")
    write(directory / "globex.yaml", """\
customer: {name: Globex Corporation, slug: globex}
defaults: {user: deploy}
hosts:
  gweb1: {address: 10.1.0.11, roles: [web]}
  gdb1: {address: 10.1.0.31, roles: [db]}
""")
    write(directory / "README.txt", "not an inventory: only .yml/.yaml files are read\n")
    return directory


def test_a_directory_loads_one_customer_per_file(two_customers: Path) -> None:
    inv = load_inventory([two_customers])

    assert sorted(inv.customers) == ["acme", "globex"]
    assert [h.name for h in inv.hosts.values()] == ["web1", "web2", "app1", "db1", "gweb1", "gdb1"]
    assert inv.hosts["gweb1"].customer == "globex" and inv.hosts["gweb1"].user == "deploy"
    assert inv.hosts["web1"].customer == "acme" and inv.hosts["web1"].user is None
    assert [p.name for p in inv.files] == ["acme.yml", "globex.yaml"]


@pytest.mark.parametrize("limit, expected", [
    ("web1", ["web1"]),
    ("web", ["web1", "web2", "gweb1"]),
    ("*1", ["web1", "app1", "db1", "gweb1", "gdb1"]),
    ("acme:web", ["web1", "web2"]),
    ("globex:db", ["gdb1"]),
    ("acme:web*", ["web1", "web2"]),
    ("globex", ["gweb1", "gdb1"]),
    ("db1,app1", ["app1", "db1"]),
    ("web,!web2", ["web1", "gweb1"]),
    ("acme,!db", ["web1", "web2", "app1"]),
    ("!acme", ["gweb1", "gdb1"]),
    ("web, db ,!globex:web", ["web1", "web2", "db1", "gdb1"]),
])
def test_limit_selects_by_name_role_glob_and_customer(two_customers: Path, limit: str,
                                                      expected: list[str]) -> None:
    hosts = select_hosts(load_inventory([two_customers]), limit)

    assert [h.name for h in hosts] == expected


@pytest.mark.parametrize("limit, complaint", [
    ("nosuch", "'nosuch' matches no host"),
    ("web1,nosuch", "'nosuch' matches no host"),
    ("acme:nosuch", "'acme:nosuch' matches no host"),
    ("!wbe1", "'wbe1' matches no host"),
    ("web1,,db1", "empty pattern"),
])
def test_a_limit_that_matches_nothing_is_an_error(two_customers: Path, limit: str, complaint: str) -> None:
    with pytest.raises(UsageError) as error:
        select_hosts(load_inventory([two_customers]), limit)

    assert complaint in str(error.value)
    assert error.value.option == "--limit"


def test_playbook_targets_and_limit_combine(two_customers: Path) -> None:
    hosts = select_hosts(load_inventory([two_customers]), "globex", targets=["web", "app"])

    assert [h.name for h in hosts] == ["gweb1"]


# -- ~/.ssh/config ----------------------------------------------------------------------------

SSH_CONFIG = """\
Host sshweb
    HostName 192.0.2.10
    Port 2201
    User deploy
    IdentityFile /keys/deploy_ed25519
    ProxyJump jumper@bastion.example:2022

Host sshdb
    HostName 192.0.2.20
    Port 2202
    User dbadmin
    IdentityFile /keys/db_ed25519
    ProxyJump bastion.example

Host *
    User fallback
"""


def test_ssh_config_fills_what_the_inventory_leaves_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(write(tmp_path / "ssh_config", SSH_CONFIG)))
    path = write(tmp_path / "inv.yml", """\
customer: {name: Config GmbH}
hosts:
  sshweb: {roles: [web]}
  sshdb:
    roles: [db]
    port: 2222
    user: postgres
    identity_file: /keys/inventory_key
    jump: other-bastion.example
  plain: {address: 198.51.100.7}
""")
    inv = load_inventory([path])

    web = inv.hosts["sshweb"]
    assert (web.address, web.port, web.user) == ("192.0.2.10", 2201, "deploy")
    assert web.identity_files == ("/keys/deploy_ed25519",)
    assert web.jump == "jumper@bastion.example:2022"
    db = inv.hosts["sshdb"]
    # The inventory wins wherever it says something; HostName still comes from ssh_config.
    assert (db.address, db.port, db.user) == ("192.0.2.20", 2222, "postgres")
    assert db.identity_files == ("/keys/inventory_key",)
    assert db.jump == "other-bastion.example"
    plain = inv.hosts["plain"]
    assert (plain.address, plain.port, plain.user, plain.jump) == ("198.51.100.7", 22, "fallback", None)


def test_inventory_defaults_also_win_over_ssh_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(write(tmp_path / "ssh_config", SSH_CONFIG)))
    path = write(tmp_path / "inv.yml", """\
customer: {name: Config GmbH}
defaults: {user: ops, port: 22}
hosts:
  sshweb: {roles: [web]}
""")
    web = load_inventory([path]).hosts["sshweb"]

    assert (web.address, web.port, web.user) == ("192.0.2.10", 22, "ops")


def test_a_run_dials_through_ssh_config_and_its_proxyjump(lab: Lab, tmp_path: Path, hermetic: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    web1, app1 = lab.hosts["web1"], lab.hosts["app1"]
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(write(tmp_path / "ssh_config", f"""\
Host lab-app
    HostName {app1.address}
    Port {app1.port}
    User {lab.user}
    IdentityFile {lab.client_key}
    ProxyJump {lab.user}@{web1.address}:{web1.port}
""")))
    inventory = write(tmp_path / "inv.yml", f"""\
customer: {{name: Jump GmbH}}
defaults: {{known_hosts: {lab.known_hosts}, connect_timeout: 5}}
hosts:
  lab-app: {{roles: [app]}}
""")
    book = write_playbook(tmp_path / "pb.yml", command_step("echo $SSH_CONNECTION"))
    jump_log = lab.files("web1").log
    accepted_before = jump_log.read_text().count("Accepted publickey")

    code, out, err = run_main(capsys, "run", book, "-i", inventory, "--json")

    assert code == 0, out + err
    (result,) = json.loads(out)["results"]
    # SSH_CONNECTION = client ip, client port, server ip, server port: app1's sshd answered ...
    assert result["data"]["stdout"].split()[2:] == [app1.address, str(app1.port)]
    # ... and the jump host web1 saw one more login for it.
    assert jump_log.read_text().count("Accepted publickey") == accepted_before + 1


# -- the CLI --------------------------------------------------------------------------------

def test_inventory_list_json_prints_resolved_hosts(two_customers: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "inventory", "list", "-i", two_customers, "-l", "web", "--json")

    assert code == 0, err
    hosts = json.loads(out)
    assert [(h["name"], h["customer"], h["roles"], h["address"]) for h in hosts] == [
        ("web1", "acme", ["web"], "10.0.0.11"), ("web2", "acme", ["web"], "10.0.0.12"),
        ("gweb1", "globex", ["web"], "10.1.0.11")]
    assert hosts[2]["user"] == "deploy" and hosts[2]["port"] == 22
    assert hosts[0]["source"].endswith("acme.yml:3")


def test_inventory_list_table_shows_every_host(two_customers: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "inventory", "list", "-i", two_customers)

    assert code == 0
    for name in ("web1", "web2", "app1", "db1", "gweb1", "gdb1"):
        assert name in out
    assert "deploy@10.1.0.11:22" in out


def test_inventory_show_masks_secrets_and_applies_extra_vars(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "inv.yml", """\
customer: {name: Secret GmbH}
defaults:
  vars: {db_password: hunter2, api_token: tok-123456, disk_warn: 80}
hosts:
  web1: {address: 10.0.0.11, roles: [web], vars: {smtp_secret: s3cr3t-smtp}}
""")
    code, out, err = run_main(capsys, "inventory", "show", "web1", "-i", path, "--json",
                              "-e", "disk_warn=95", "-e", "root_passwd=toor-toor")

    assert code == 0, err
    shown = json.loads(out)
    assert shown["vars"] == {"db_password": "***", "api_token": "***", "disk_warn": 95,
                             "smtp_secret": "***", "root_passwd": "***"}
    for secret in ("hunter2", "tok-123456", "s3cr3t-smtp", "toor-toor"):
        assert secret not in out

    code, out, _ = run_main(capsys, "inventory", "show", "web1", "-i", path)
    assert code == 0
    assert "hunter2" not in out and "***" in out and "10.0.0.11" in out


def test_inventory_show_of_an_unknown_host_is_an_error(two_customers: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "inventory", "show", "web9", "-i", two_customers)

    assert code == 78
    assert "no host 'web9'" in err and len(err.strip().splitlines()) == 1


HOSTER = """\
customer:
  name: ACME GmbH
  contacts:
    hoster:
      name: Hostco
      email: noc@hostco.example
      {extra}
hosts:
  web1: {{address: 10.0.0.11}}
"""


def test_the_hoster_names_our_customer_number_and_its_language(tmp_path: Path) -> None:
    text = HOSTER.format(extra="customer_number: 4711\n      language: en")
    hoster = load_inventory([write(tmp_path / "acme.yml", text)]).customers["acme"].hoster
    assert hoster is not None and (hoster.customer_number, hoster.language) == ("4711", "en")


@pytest.mark.parametrize("extra, line, field, complaint", [
    ("customer_number: [1, 2]", 7, "customer.contacts.hoster.customer_number", "must be a text or a number"),
    ("customer_number: ''", 7, "customer.contacts.hoster.customer_number", "must be a text or a number"),
    ("language: fr", 7, "customer.contacts.hoster.language", "must be 'de' or 'en'"),
    ("number: 4711", 7, "customer.contacts.hoster.number", "unknown key"),
])
def test_a_bad_hoster_key_names_file_line_and_field(tmp_path: Path, extra: str, line: int, field: str,
                                                    complaint: str) -> None:
    path = write(tmp_path / "acme.yml", HOSTER.format(extra=extra))
    with pytest.raises(ConfigError) as error:
        load_inventory([path])
    assert (error.value.file, error.value.line, error.value.field) == (str(path), line, field)
    assert complaint in str(error.value)
