"""Ansible inventories, read as an on-call engineer's inventories are written: INI and YAML,
``children``, ``group_vars/`` and ``host_vars/`` beside the inventory.

A small reader rather than ansible-core's inventory manager (README, "Libraries and why"):
ansible-core 2.19 is 16 MB installed (47 MB with its dependencies) and importing its inventory
manager takes about a third of a second -- a third of a whole 50-host sweep, every five
minutes in cron. What inventories at the keyboard use is small and documented; that is what is read here:

- INI: ``[group]`` hosts with inline ``key=value`` (Python literals, as Ansible reads them),
  ``[group:vars]`` (strings: a quoted one without its quotes), ``[group:children]``, hosts outside a section (ungrouped),
  ``host:port``, ranges ``web[01:20].example.com`` / ``db-[a:c]``, ``#`` and ``;`` comments.
- YAML: ``all:`` (or any top-level groups) with ``hosts``, ``vars`` and ``children``.
- ``group_vars/<group>`` and ``host_vars/<host>``: a ``.yml``/``.yaml``/``.json`` file or one
  without extension, or a directory of them (read in name order).
- Precedence as Ansible's: the inventory file's group vars (``all`` first, then parents before
  children, by name at one depth, ``ansible_group_priority`` first), then ``group_vars/`` in the
  same order, then the file's host vars, then ``host_vars/``.

Not read: dynamic inventory scripts and plugins (``plugin:``), and Ansible Vault: an encrypted
file or ``!vault`` value is skipped, and the variables it holds are then undefined (``runbook
check`` names any template that uses one). Every mistake is one ConfigError with file and line.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook.errors import ConfigError
from runbook.yamlsource import SourceMap, Vaulted, parse_yaml

GROUP_KEYS = {"hosts", "children", "vars"}
VAULT_HEADER = "$ANSIBLE_VAULT;"
_RANGE = re.compile(r"\[([^\]:]+):([^\]:]+)(?::(\d+))?\]")
VAR_SUFFIXES = ("", ".yml", ".yaml", ".json")


@dataclass(frozen=True)
class AnsibleHost:
    """One host of an Ansible inventory, its variables merged as Ansible merges them."""

    name: str
    vars: Mapping[str, Any]
    groups: tuple[str, ...]     # every group it is in, parents before children (not all/ungrouped)
    file: str
    line: int


@dataclass
class _Group:
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    hosts: dict[str, tuple[dict[str, Any], int]] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


@dataclass
class _Inventory:
    file: str
    groups: dict[str, _Group] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)   # host -> the line it first appears on

    def group(self, name: str) -> _Group:
        return self.groups.setdefault(name, _Group(name))

    def add_host(self, group: str, host: str, variables: dict[str, Any], line: int) -> None:
        known, _ = self.group(group).hosts.get(host, ({}, line))
        self.group(group).hosts[host] = ({**known, **variables}, line)
        self.order.setdefault(host, line)


# -- recognising --------------------------------------------------------------------------------

def is_ansible_yaml(data: Any) -> bool:
    """An Ansible YAML inventory: top-level groups, each a mapping of hosts/children/vars."""
    if not isinstance(data, Mapping) or not data or "customer" in data:
        return False
    return all(v is None or (isinstance(v, Mapping) and set(v) <= GROUP_KEYS) for v in data.values())


def is_ini_name(path: Path) -> bool:
    """Files of a directory read as Ansible INI: ``*.ini``, ``hosts`` and ``inventory``."""
    return path.suffix == ".ini" or path.name in ("hosts", "inventory")


# -- INI ----------------------------------------------------------------------------------------

def read_ini(path: Path) -> _Inventory:
    """An INI inventory file."""
    file = str(path)
    text = _text(path)
    inv = _Inventory(file)
    inv.group("all")
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            match = re.fullmatch(r"\[([^\]:\s]+)(?::(\w+))?\]\s*(?:[#;].*)?", line)
            if not match:
                raise ConfigError(f"not a section header: {line!r}", file=file, line=number)
            section, kind = match.group(1), match.group(2) or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise ConfigError(f"unknown section modifier :{kind} (expected :vars or :children)", file=file,
                                  line=number, field=f"[{section}:{kind}]")
            inv.group(section)
            continue
        if kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"expected key=value in [{section}:vars], got {line!r}", file=file, line=number)
            # Ansible reads a :vars value as a literal too, then keeps it as text ('a' -> a, 85 -> "85")
            literal = _literal(value.strip())
            inv.group(section).vars[key.strip()] = literal if isinstance(literal, str) else str(literal)
        elif kind == "children":
            child = line.split()[0]
            inv.group(child)
            if child not in inv.group(section).children:
                inv.group(section).children.append(child)
        else:
            for host, variables in _host_line(line, file, number):
                inv.add_host(section, host, variables, number)
    return inv


def _host_line(line: str, file: str, number: int) -> list[tuple[str, dict[str, Any]]]:
    """``web[01:03].example.com:2222 ansible_user=deploy`` -> three hosts with their vars."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise ConfigError(f"cannot read host line: {exc}", file=file, line=number) from None
    if not words:
        return []
    pattern, variables = words[0], {}
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise ConfigError(f"expected key=value after the host, got {word!r}", file=file, line=number,
                              field=pattern)
        variables[key] = _literal(value)
    if re.sub(r"\[[^\]]*\]", "", pattern).count(":") == 1:  # host:port (a range's colon does not count)
        pattern, _, port = pattern.rpartition(":")
        if not port.isdigit():
            raise ConfigError(f"port must be a number: {port!r}", file=file, line=number, field=pattern)
        variables.setdefault("ansible_port", int(port))
    return [(host, dict(variables)) for host in expand_range(pattern, file, number)]


def _literal(value: str) -> Any:
    """An inline INI value as Ansible reads it: a Python literal if it is one, else the text."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def expand_range(pattern: str, file: str, line: int) -> list[str]:
    """Ansible's host ranges: ``web[01:03]`` -> web01, web02, web03; ``db-[a:c]``; ``[0:10:5]``."""
    match = _RANGE.search(pattern)
    if not match:
        return [pattern]
    start, end, stride = match.group(1), match.group(2), int(match.group(3) or 1)
    head, tail = pattern[:match.start()], pattern[match.end():]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        items = [str(n).zfill(width) for n in range(int(start), int(end) + 1, stride)]
    elif len(start) == len(end) == 1 and start in string.ascii_letters and end in string.ascii_letters:
        items = [chr(c) for c in range(ord(start), ord(end) + 1, stride)]
    else:
        raise ConfigError(f"cannot expand the host range [{start}:{end}]", file=file, line=line, field=pattern)
    if not items:
        raise ConfigError(f"the host range [{start}:{end}] is empty", file=file, line=line, field=pattern)
    return [host for item in items for host in expand_range(head + item + tail, file, line)]


# -- YAML ---------------------------------------------------------------------------------------

def read_yaml(data: SourceMap, path: Path) -> _Inventory:
    """A YAML inventory document (already parsed, with lines)."""
    inv = _Inventory(str(path))
    inv.group("all")
    for name, spec in data.items():
        _yaml_group(inv, str(name), spec, data.line_of(name))
    return inv


def _yaml_group(inv: _Inventory, name: str, spec: Any, line: int) -> None:
    group = inv.group(name)
    if spec is None:
        return
    if not isinstance(spec, SourceMap):
        raise ConfigError("a group is a mapping of hosts, children and vars", file=inv.file, line=line, field=name)
    for key in spec:
        if key not in GROUP_KEYS:
            raise spec.error(f"unknown key (expected one of: {', '.join(sorted(GROUP_KEYS))})", key=key,
                             field=f"{name}.{key}")
    variables = spec.get("vars") or {}
    if not isinstance(variables, Mapping):
        raise spec.error("must be a mapping", key="vars", field=f"{name}.vars")
    group.vars.update(_unvaulted(variables))
    hosts = spec.get("hosts") or {}
    if not isinstance(hosts, Mapping):
        raise spec.error("must be a mapping of host names (each with its vars, or empty)", key="hosts",
                         field=f"{name}.hosts")
    for host, host_vars in hosts.items():
        where = hosts.line_of(host) if isinstance(hosts, SourceMap) else line
        if host_vars is not None and not isinstance(host_vars, Mapping):
            raise ConfigError("a host's value is its vars (a mapping) or empty", file=inv.file, line=where,
                              field=f"{name}.hosts.{host}")
        for expanded in expand_range(str(host), inv.file, where):
            inv.add_host(name, expanded, _unvaulted(host_vars or {}), where)
    children = spec.get("children") or {}
    if not isinstance(children, Mapping):
        raise spec.error("must be a mapping of groups", key="children", field=f"{name}.children")
    for child, child_spec in children.items():
        if child not in group.children:
            group.children.append(str(child))
        _yaml_group(inv, str(child), child_spec,
                    children.line_of(child) if isinstance(children, SourceMap) else line)


def _unvaulted(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables without ``!vault`` values: runbook does not decrypt Ansible Vault."""
    return {str(k): v for k, v in variables.items() if not isinstance(v, Vaulted)}


# -- group_vars / host_vars -----------------------------------------------------------------

def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None


def _var_files(base: Path, name: str) -> Iterator[Path]:
    """``group_vars/web.yml`` (or .yaml, .json, no extension) and ``group_vars/web/*``."""
    for suffix in VAR_SUFFIXES:
        candidate = base / f"{name}{suffix}"
        if candidate.is_file():
            yield candidate
    folder = base / name
    if folder.is_dir():
        for item in sorted(folder.iterdir()):
            if item.is_file() and item.suffix in VAR_SUFFIXES and not item.name.startswith("."):
                yield item


def read_var_files(base: Path, name: str) -> dict[str, Any]:
    """The variables of ``group_vars/NAME`` or ``host_vars/NAME`` (all its files, merged)."""
    found: dict[str, Any] = {}
    for path in _var_files(base, name):
        text = _text(path)
        if text.lstrip().startswith(VAULT_HEADER):
            continue  # an encrypted file: its variables stay undefined (see the module doc)
        data = json.loads(text) if path.suffix == ".json" else parse_yaml(text, str(path))
        if data is None:
            continue
        if not isinstance(data, Mapping):
            raise ConfigError("a vars file is a mapping of variable names", file=str(path), line=1)
        found.update(_unvaulted(data))
    return found


# -- merging ------------------------------------------------------------------------------------

def _depths(inv: _Inventory) -> dict[str, int]:
    """Each group's depth below ``all`` (a group nobody lists as a child is a child of all)."""
    parents: dict[str, set[str]] = {name: set() for name in inv.groups}
    for group in inv.groups.values():
        for child in group.children:
            parents.setdefault(child, set()).add(group.name)
    depth: dict[str, int] = {"all": 0}

    def of(name: str, seen: frozenset[str]) -> int:
        if name in depth:
            return depth[name]
        if name in seen:
            raise ConfigError(f"group {name!r} is its own ancestor (a children cycle)", file=inv.file,
                              field=f"{name}:children")
        ups = parents.get(name) - {"all"} if parents.get(name) else set()
        depth[name] = 1 + max((of(p, seen | {name}) for p in ups), default=0)
        return depth[name]

    for name in inv.groups:
        of(name, frozenset())
    return depth


def _groups_of(inv: _Inventory, host: str) -> set[str]:
    direct = {g.name for g in inv.groups.values() if host in g.hosts}
    found = set(direct)
    changed = True
    while changed:
        changed = False
        for group in inv.groups.values():
            if group.name not in found and any(child in found for child in group.children):
                found.add(group.name)
                changed = True
    return found


def ansible_hosts(inv: _Inventory, base: Path) -> list[AnsibleHost]:
    """Every host with its groups and merged variables, in the order the file names them."""
    depth = _depths(inv)
    group_files = {name: read_var_files(base / "group_vars", name) for name in inv.groups}

    def rank(name: str) -> tuple[int, int, str]:
        priority = {**inv.groups[name].vars, **group_files[name]}.get("ansible_group_priority", 1)
        return depth[name], int(priority) if str(priority).lstrip("-").isdigit() else 1, name

    hosts = []
    for host, line in sorted(inv.order.items(), key=lambda item: item[1]):
        groups = sorted(_groups_of(inv, host) | {"all"}, key=rank)
        merged: dict[str, Any] = {}
        for name in groups:
            merged.update(inv.groups[name].vars)
        for name in groups:
            merged.update(group_files[name])
        for name in groups:
            merged.update(inv.groups[name].hosts.get(host, ({}, 0))[0])
        merged.update(read_var_files(base / "host_vars", host))
        merged.pop("ansible_group_priority", None)
        hosts.append(AnsibleHost(host, merged, tuple(g for g in groups if g not in ("all", "ungrouped")),
                                 inv.file, line))
    return hosts


# -- as runbook hosts ---------------------------------------------------------------------------

#: Ansible's connection variables and the runbook host key each becomes
CONNECTION_VARS = {
    "ansible_host": "address", "ansible_ssh_host": "address",
    "ansible_port": "port", "ansible_ssh_port": "port",
    "ansible_user": "user", "ansible_ssh_user": "user",
    "ansible_ssh_private_key_file": "identity_file", "ansible_private_key_file": "identity_file",
    "ansible_become": "sudo", "ansible_connection": "connection",
}
SSH_ARGS_VARS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def runbook_spec(host: AnsibleHost) -> SourceMap:
    """The host as a runbook inventory entry (address, port, user, identity_file, sudo,
    connection, jump, roles, vars), so it is checked and resolved like any other; every
    message names the Ansible file and the host's line."""
    spec = SourceMap()
    spec.file, spec.line, spec.key_lines = host.file, host.line, {}
    variables = dict(host.vars)
    where = f"{host.name}"

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(why, file=host.file, line=host.line, field=f"{where}.{key}")

    for name, key in CONNECTION_VARS.items():
        if name not in variables:
            continue
        value = variables.pop(name)
        if key in spec:
            continue  # ansible_host wins over the old ansible_ssh_host, as in Ansible
        if key == "port":
            if isinstance(value, bool) or not str(value).strip().isdigit():
                raise bad(name, f"must be a port number, not {value!r}")
            value = int(str(value).strip())
        elif key == "sudo":
            text = str(value).strip().lower()
            if isinstance(value, bool):
                pass
            elif text in _TRUE or text in _FALSE:
                value = text in _TRUE
            else:
                raise bad(name, f"must be true or false, not {value!r}")
        elif key == "connection":
            text = str(value).strip()
            if text not in ("local", "ssh", "smart", "paramiko"):
                raise bad(name, f"{text!r} is not a connection runbook has (local, ssh)")
            value = "local" if text == "local" else "ssh"
        else:
            value = str(value)
        spec[key] = value
    jump = _jump_from_ssh_args(variables, bad)
    if jump is not None:
        spec["jump"] = jump
    if "ansible_python_interpreter" in variables:
        variables.setdefault("analysis_python", str(variables["ansible_python_interpreter"]))
    roles = list(host.groups)
    extra_roles = variables.pop("runbook_roles", [])
    if isinstance(extra_roles, str):
        extra_roles = [extra_roles]
    if not isinstance(extra_roles, list):
        raise bad("runbook_roles", "must be a role name or a list of them")
    spec["roles"] = list(dict.fromkeys([*roles, *map(str, extra_roles)]))
    for key in ("service_ports", "http_checks"):
        if key in variables:
            spec[key] = variables.pop(key)
    variables.pop("runbook_customer", None)
    spec["vars"] = _source_map(variables, host)
    spec.key_lines = {key: host.line for key in spec}
    return spec


def _source_map(values: Mapping[str, Any], host: AnsibleHost) -> SourceMap:
    found = SourceMap(values)
    found.file, found.line, found.key_lines = host.file, host.line, {key: host.line for key in values}
    return found


def _jump_from_ssh_args(variables: Mapping[str, Any], bad: Any) -> str | None:
    """A jump host given as ``-J gw`` or ``-o ProxyJump=gw`` in ansible_ssh_common_args."""
    for name in SSH_ARGS_VARS:
        if not variables.get(name):
            continue
        try:
            words = shlex.split(str(variables[name]))
        except ValueError as exc:
            raise bad(name, f"cannot read: {exc}") from None
        for i, word in enumerate(words):
            option = words[i + 1] if word == "-o" and i + 1 < len(words) else word[2:] if word.startswith("-o") else ""
            if word == "-J" and i + 1 < len(words):
                return words[i + 1]
            key, _, value = option.strip().partition("=")
            if key.strip().lower() == "proxyjump" and value.strip():
                return value.strip()
            if key.lower() == "proxycommand":
                raise bad(name, "ProxyCommand is not supported: give the jump host as -J or ProxyJump")
    return None
