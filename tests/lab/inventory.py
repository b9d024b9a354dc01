"""The lab as a runbook inventory: the customer, the defaults, one entry per host."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

# The roles of the default lab. A host named after one of them (web2, db3) gets that role;
# any other name (h01..h50 of a benchmark lab) is a web server, the most common case.
KNOWN_ROLES = ("web", "app", "db", "spare")
DEFAULT_ROLE = "web"
# Inventory names of the two hosts that cannot be reached; no lab host may be named so.
DOWN_HOST = "down1"
TARPIT_HOST = "tarpit1"
#: load per CPU that no loaded CI machine reaches
CALM_LOAD = {"load_warn": 1000, "load_crit": 2000}

HEADER = """\
# Written by tests.lab for the loopback SSH lab. Every host is a real OpenSSH sshd on its own
# 127.x address, except: {down} (nothing listens) and {tarpit} (accepts TCP, never speaks SSH).
"""


def role_of(name: str) -> str:
    """The role of a lab host: its name without trailing digits, if that is a known role."""
    stem = name.rstrip("0123456789")
    return stem if stem in KNOWN_ROLES else DEFAULT_ROLE


def build_inventory(*, user: str, port: int, identity_file: Path, known_hosts: Path,
                    hosts: Mapping[str, tuple[str, Path]], unreachable: str, tarpit: str,
                    include_bad: bool, extra_vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """The inventory document. ``hosts`` maps a name to its (address, root tree)."""
    entries: dict[str, Any] = {
        name: {"address": address, "roles": [role_of(name)], "vars": {"lab_root": str(root)}}
        for name, (address, root) in hosts.items()
    }
    if include_bad:
        entries[DOWN_HOST] = {"address": unreachable, "roles": ["spare"]}
        entries[TARPIT_HOST] = {"address": tarpit, "roles": ["spare"]}
    return {
        "customer": {
            "name": "Lab GmbH",
            "contacts": {
                "customer": "ops@lab.example",
                "hoster": {"name": "Lab Hosting", "email": "noc@lab.example",
                           "phone": "+49 711 000000"},
            },
        },
        "defaults": {
            "user": user,
            "port": port,
            "identity_file": str(identity_file),
            "known_hosts": str(known_hosts),
            "connect_timeout": 3,
            # Every lab host is this machine, whose load other tests (and other sessions) drive:
            # thresholds no load reaches, so a lab host never turns WARNING on it. The load
            # check itself is tested in tests/health; a test may still set its own.
            "vars": {**CALM_LOAD, **(extra_vars or {})},
        },
        "hosts": entries,
    }


def dump_inventory(document: Mapping[str, Any], path: Path) -> Path:
    """Write the inventory as YAML (short leaf lists and maps inline, as people write them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=None, width=120)
    path.write_text(HEADER.format(down=DOWN_HOST, tarpit=TARPIT_HOST) + text)
    return path
