"""Ansible inventories (INI and YAML, children, group_vars/host_vars, customer file beside) read
as runbook inventories: files in the layouts Ansible's documentation shows (tests/fixtures/ansible),
and one pointed at the real sshd lab."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.inventory import load_inventory
from tests.lab import Lab
from tests.support.cli import REPO, journal, events_of, runbook_cli, write_yaml

FIXTURES = REPO / "tests" / "fixtures" / "ansible"


def test_an_ini_inventory_with_children_group_and_host_vars_and_its_customer_file() -> None:
    inv = load_inventory([FIXTURES / "ini"])
    assert list(inv.hosts) == [
        "bastion.shop.example", "web01.shop.example", "web02.shop.example", "web03.shop.example",
        "web-legacy.shop.example", "app1.shop.example", "app2.shop.example", "db-a.shop.example", "db-b.shop.example"]
    assert set(inv.customers) == {"shop"}
    web1, web2, legacy = (inv.hosts[f"{n}.shop.example"] for n in ("web01", "web02", "web-legacy"))
    app1, app2, db_a = (inv.hosts[f"{n}.shop.example"] for n in ("app1", "app2", "db-a"))
    # groups are roles; a parent group through :children too
    assert web1.roles == ("frankfurt", "webservers") and db_a.roles == ("dbservers",)
    # connection settings from ansible_* vars, the rest from the customer file's defaults
    assert (web1.user, web1.port, web1.jump) == ("deploy", 22, "ops@bastion.shop.example")
    assert web1.identity_files[0].endswith("/.ssh/shop_ed25519")
    assert web1.known_hosts.endswith("/.ssh/known_hosts_shop") and web1.connect_timeout == 5.0
    assert (legacy.port, legacy.vars["http_port"], legacy.vars["maintenance"]) == (2202, 8080, "friday 22:00")
    assert (app1.address, app1.sudo) == ("10.20.0.21", True)
    assert app2.vars["max_workers"] == 8 and app2.vars["tags"] == ["a", "b"]  # inline values are literals
    assert db_a.port == 2222
    # precedence: child group over parent, group_vars over the file, host over groups, host_vars last
    assert web1.vars["disk_warn"] == "75" and app1.vars["disk_warn"] == "85"  # :vars values are text
    assert web2.vars["disk_warn"] == 60 and db_a.vars["disk_warn"] == 70
    assert web1.vars["http_port"] == 443 and app1.vars["http_port"] == "80"
    assert web1.vars["disk_crit"] == 92 and web1.vars["backup_window"] == "01:00-03:00"
    # the customer file's role vars apply to the group of that name
    assert db_a.vars["inode_warn"] == 85
    # vault: the encrypted file and the !vault value are skipped, the rest of their files read
    assert "db_password" not in db_a.vars and db_a.vars["pg_version"] == 16
    assert db_a.file.endswith("ansible/ini/hosts") and db_a.line == 15


def test_a_yaml_inventory_with_nested_children_and_a_group_vars_file() -> None:
    inv = load_inventory([FIXTURES / "yaml" / "inventory.yml"])
    www1, static, pg1 = inv.hosts["www1.portal.example"], inv.hosts["static.portal.example"], inv.hosts["pg1.portal.example"]
    assert list(inv.hosts)[0] == "mail.portal.example" and "www2.portal.example" in inv.hosts
    assert www1.roles == ("eu", "web", "nginx-host")  # runbook_roles adds a runbook role
    assert (www1.user, www1.port) == ("portal", 2201)
    assert www1.vars["document_root"] == "/srv/www"  # the child group web wins over eu
    assert www1.vars["region"] == "eu-central" and www1.vars["disk_warn"] == 78
    assert static.connection == "local"
    assert (pg1.address, pg1.sudo, pg1.vars["analysis_python"]) == ("10.30.0.5", True, "/usr/bin/python3.11")
    # no customer file beside it: a customer named after the directory
    assert list(inv.customers) == ["yaml"]


def test_limits_select_ansible_groups_like_roles(tmp_path: Path) -> None:
    done = runbook_cli("inventory", "list", "-i", FIXTURES / "ini", "-l", "frankfurt,!web03*", "--json")
    assert done.returncode == 0, done.stderr
    assert [h["name"].split(".")[0] for h in json.loads(done.stdout)] == ["web01", "web02", "web-legacy", "app1", "app2"]


@pytest.mark.parametrize("text, message", [
    ("[web]\nweb1 ansible_port=abc\n", "hosts:2: web1.ansible_port: must be a port number, not 'abc'"),
    ("[web:var]\nx=1\n", "hosts:1: [web:var]: unknown section modifier :var"),
    ("[web\nweb1\n", "hosts:1: not a section header"),
    ("[web]\nweb[3:1]\n", "hosts:2: web[3:1]: the host range [3:1] is empty"),
    ("[web]\nweb1 oops\n", "hosts:2: web1: expected key=value after the host, got 'oops'"),
    ("[web]\nweb1 ansible_connection=winrm\n", "web1.ansible_connection: 'winrm' is not a connection runbook has"),
    ("[web]\nweb1 ansible_ssh_common_args='-o ProxyCommand=\"ssh -W %h:%p gw\"'\n",
     "ProxyCommand is not supported: give the jump host as -J or ProxyJump"),
    ("[a:children]\nb\n[b:children]\na\n[a]\nh1\n", "group 'a' is its own ancestor"),
])
def test_a_mistake_in_an_ini_inventory_is_one_line_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "hosts").write_text(text)
    with pytest.raises(ConfigError) as found:
        load_inventory([tmp_path / "hosts"])
    assert message in str(found.value)


def test_an_inventory_plugin_config_and_several_customers_are_refused_clearly(tmp_path: Path) -> None:
    write_yaml(tmp_path / "aws.yml", {"plugin": "amazon.aws.aws_ec2", "regions": ["eu-central-1"]})
    with pytest.raises(ConfigError, match="inventory plugin configuration"):
        load_inventory([tmp_path / "aws.yml"])
    mixed = tmp_path / "mixed"
    (mixed).mkdir()
    (mixed / "hosts").write_text("[web]\nweb1\n")
    for slug in ("a", "b"):
        write_yaml(mixed / f"{slug}.yml", {"customer": {"name": f"{slug} GmbH", "slug": slug}})
    with pytest.raises(ConfigError, match="several customer files beside it.*set runbook_customer"):
        load_inventory([mixed])
    (mixed / "group_vars").mkdir()
    (mixed / "group_vars" / "all.yml").write_text("runbook_customer: b\n")
    assert load_inventory([mixed]).hosts["web1"].customer == "b"


def test_a_directory_mixing_runbook_yaml_and_an_ansible_inventory(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "ini", tmp_path / "shop")
    write_yaml(tmp_path / "shop" / "extra.yml", {"customer": {"name": "Extra KG"},
                                               "hosts": {"legacy1": {"address": "10.9.9.9", "roles": ["web"]}}})
    with pytest.raises(ConfigError, match="several customer files"):
        load_inventory([tmp_path / "shop"])
    (tmp_path / "shop" / "group_vars" / "all" / "customer.yml").write_text("runbook_customer: shop\n")
    inv = load_inventory([tmp_path / "shop"])
    assert inv.hosts["legacy1"].customer == "extra" and inv.hosts["web01.shop.example"].customer == "shop"


def ansible_lab(lab: Lab, root: Path) -> Path:
    """The lab as an Ansible engineer writes it: hosts (INI), group_vars/all.yml, and the
    customer's runbook file beside them."""
    root.mkdir(parents=True, exist_ok=True)
    web, db = lab.hosts["web1"], lab.hosts["db1"]
    (root / "hosts").write_text(
        "[webservers]\n"
        f"shop-web ansible_host={web.address} log_root={web.root}/var/log\n"
        "[dbservers]\n"
        f"shop-db ansible_host={db.address} ansible_become=false\n"
        "[shop:children]\nwebservers\ndbservers\n")
    (root / "group_vars").mkdir(exist_ok=True)
    (root / "group_vars" / "all.yml").write_text(
        f"ansible_port: {web.port}\nansible_user: {lab.user}\nansible_ssh_private_key_file: {lab.client_key}\n"
        "load_warn: 1000\nload_crit: 2000\n")
    write_yaml(root / "shop.yml", {"customer": {"name": "Shop GmbH", "slug": "shop",
                                                "contacts": {"customer": "it@shop.example"}},
                                   "defaults": {"known_hosts": str(lab.known_hosts), "connect_timeout": 5}})
    # the lab's known_hosts names the addresses, as OpenSSH's would after `ssh web1.example`
    return root


def test_runbook_exec_over_an_ansible_inventory_reaches_the_real_hosts(lab: Lab, tmp_path: Path) -> None:
    root = ansible_lab(lab, tmp_path / "shop")
    done = runbook_cli("exec", "-i", root, "-l", "shop", "echo {{ host }} $(id -un)", runs_dir=tmp_path / "runs")
    assert done.returncode == 0, done.stderr
    assert f"shop-web | ok | exit 0\n  shop-web {lab.user}" in done.stdout
    assert f"shop-db | ok | exit 0\n  shop-db {lab.user}" in done.stdout
    start = events_of(journal(tmp_path / "runs"), "run.start")[0]
    assert start["customers"] == {"shop": "Shop GmbH"}
    assert start["host_info"]["shop-web"]["roles"] == ["shop", "webservers"]


def test_a_sweep_over_an_ansible_inventory(lab: Lab, tmp_path: Path) -> None:
    root = ansible_lab(lab, tmp_path / "shop")
    done = runbook_cli("sweep", "-i", root / "hosts", "--json", "-e", "disk_warn=100", "-e", "disk_crit=100",
                       "-e", "inode_warn=100", "-e", "inode_crit=100", "-e", "mem_available_warn=0",
                       "-e", "mem_available_crit=0", "-e", "swap_warn=100", "-e", "swap_crit=100",
                       runs_dir=tmp_path / "runs")
    result = json.loads(done.stdout)
    assert {h["name"]: h["reachable"] for h in result["hosts"]} == {"shop-web": True, "shop-db": True}
    assert {h["customer"] for h in result["hosts"]} == {"shop"}
