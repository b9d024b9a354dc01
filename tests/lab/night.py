"""The stage of a whole on-call night: the lab's service stack as one customer's shop, a second
customer in the same inventory directory, and the hosts that cannot be reached.

    <dir>/shop.yml   customer "Shop GmbH" (slug shop): web1 (nginx) -> app1 (gunicorn)
                     -> db1 (PostgreSQL), down1 (nothing listens), tarpit1 (never speaks SSH);
                     a contract with permanent on-call, an operator and a signature; web1's
                     shop URL is probed by every health check, and the shop application's own
                     logs (``var/log/shop``, empty until a test writes there) are a log set
    <dir>/acme.yml   customer "ACME GmbH" (slug acme): acme-web1, the lab's spare1

Every host's log sets are rooted in its own lab tree (``log_root``), so the shipped role
defaults find the stack's real logs: nginx's access and error logs on web1, gunicorn's on
app1, PostgreSQL's on db1. This is what ``python -m tests.lab up --stack`` writes for a
person, and what the scenario tests (tests/scenarios/) run the shipped playbooks against.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.lab.inventory import HEADER, DOWN_HOST, TARPIT_HOST
from tests.lab.services import LabStack

SHOP = "shop"
ACME = "acme"
ACME_HOST = "acme-web1"

#: Lab hosts share this machine's CPUs with the whole test suite: a load threshold a busy CI
#: machine reaches would turn them WARNING for reasons that have nothing to do with the night.
#: They share its mount table too: the small filesystems other tests mount under /tmp (their
#: own labs) are no lab host's disks. A night that gives a host a disk of its own names it in
#: that host's ``disk_thresholds``, which are always judged.
CALM_LOAD = {"load_warn": 1000, "load_crit": 2000, "disk_ignore": ["/tmp/*"]}


#: Who is on call for the shop, and how the service provider signs its reports.
OPERATOR = {"name": "Eva Berger", "email": "eva.berger@service.example", "phone": "+49 711 4000-21"}
SIGNATURE = {"company": "Muster IT-Service GmbH", "team": "Betrieb und Bereitschaft",
             "on_call": {"phone": "+49 711 4000-0", "email": "bereitschaft@service.example"}}


def shop_document(stack: LabStack, base: Mapping[str, Any]) -> dict[str, Any]:
    """The shop's inventory: the lab document ``base`` (as ``Lab.write_inventory`` writes it)
    with the stack's services, log sets rooted in each host's tree, and the contract."""
    hosts: dict[str, Any] = {}
    for name in ("web1", "app1", "db1"):
        entry = dict(base["hosts"][name])
        entry["roles"] = [name.rstrip("0123456789")]
        entry["vars"] = {**entry["vars"], "log_root": entry["vars"]["lab_root"],
                         **stack.host_vars()[name]}
        hosts[name] = entry
    hosts["app1"]["vars"].update(log_set_defaults=False, log_sets={
        "gunicorn": {"globs": ["var/log/gunicorn*.log"], "format": "gunicorn", "service": "gunicorn",
                     "roots": ["var/log"]}})
    hosts["db1"]["vars"]["log_sets"] = {
        "postgresql": {"globs": ["var/lib/postgresql/log/postgresql*.log"], "service": "postgresql",
                       "roots": ["var/lib/postgresql/log"]}}
    for name in ("web1", "db1"):
        # The lab shares this machine's process table: the default rules would report every
        # zombie or stopped process on the machine against every host. Only its own tree's count.
        hosts[name]["vars"]["hung_rules"] = [{"state": "T", "pattern": f"hosts/{name}/"},
                                             {"state": "Z", "pattern": f"hosts/{name}/"}]
    hosts["web1"]["http_checks"] = [{"url": stack.urls["web"], "status": 200, "timeout": 2}]
    hosts["web1"]["vars"]["log_sets"] = {
        "shop": {"globs": ["var/log/shop/*.log"], "keep": 3, "max_age": "14d", "roots": ["var/log/shop"]}}
    for name in (DOWN_HOST, TARPIT_HOST):
        hosts[name] = dict(base["hosts"][name], roles=["web"])
    return {
        "customer": {
            "name": "Shop GmbH",
            "slug": SHOP,
            "language": "de",
            "contacts": {
                "customer": "it@shop.example",
                "hoster": {"name": "Lab Hosting", "email": "noc@lab.example", "phone": "+49 711 000000"},
            },
            "contract": {
                "timezone": "Europe/Berlin",
                "service_hours": {"days": "mon-fri", "from": "09:00", "to": "17:00", "holidays": "DE-BW"},
                "reaction": {1: "4h", 2: "8h", 3: "16h"},
                "on_call": {"mode": "permanent", "reaction": {1: "1h"}},
            },
        },
        "operator": OPERATOR,
        "signature": SIGNATURE,
        "defaults": {**base["defaults"], "vars": {**base["defaults"].get("vars", {}), **CALM_LOAD}},
        "hosts": hosts,
    }


def acme_document(base: Mapping[str, Any]) -> dict[str, Any]:
    """The second customer: one web server, the lab's spare1 under another name."""
    spare = dict(base["hosts"]["spare1"])
    spare["roles"] = ["web"]
    spare["vars"] = {**spare["vars"], "log_root": spare["vars"]["lab_root"]}
    return {
        "customer": {"name": "ACME GmbH", "slug": ACME, "language": "en",
                     "contacts": {"customer": "ops@acme.example"}},
        "defaults": {**base["defaults"], "vars": {**base["defaults"].get("vars", {}), **CALM_LOAD}},
        "hosts": {ACME_HOST: spare},
    }


def write_night(stack: LabStack, directory: Path) -> Path:
    """Write the night's inventory directory (shop.yml, acme.yml) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    scratch = stack.lab.write_inventory(directory / ".lab.yml")
    base = yaml.safe_load(scratch.read_text())
    scratch.unlink()
    for name, document in (("shop.yml", shop_document(stack, base)), ("acme.yml", acme_document(base))):
        text = yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=120)
        (directory / name).write_text(HEADER.format(down=DOWN_HOST, tarpit=TARPIT_HOST) + text)
    return directory
