"""Loading inventories: YAML files (one customer each) or a directory of them.

Vars merge in this order, later wins: ``defaults.vars`` < ``roles.<role>.vars`` (in the
order of the host's roles) < the host's ``vars`` < ``-e key=value`` from the command line.
Connection settings come from the host, else ``defaults``, else ``~/.ssh/config`` (HostName,
Port, User, IdentityFile, ProxyJump), else built-in defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import paramiko

from runbook.errors import ConfigError
from runbook.inventory.model import Customer, Host, HosterContact, Inventory, VarOrigin
from runbook.inventory.people import person_from_yaml, signature_from_yaml
from runbook.yamlsource import SourceMap, expect_map, load_yaml

TOP_KEYS = {"customer", "defaults", "roles", "hosts", "operator", "signature"}
CUSTOMER_KEYS = {"name", "slug", "language", "contacts", "contract", "smtp", "jira", "mail", "mail_domains"}
CONNECTION_KEYS = {"connection", "address", "port", "user", "identity_file", "known_hosts", "jump",
                   "sudo", "connect_timeout", "command_timeout", "ssh_config"}
DEFAULTS_KEYS = CONNECTION_KEYS - {"address"} | {"vars"}
HOST_KEYS = CONNECTION_KEYS | {"roles", "vars", "service_ports", "http_checks"}
ROLE_KEYS = {"vars"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
BUILTIN = {"connection": "ssh", "port": 22, "connect_timeout": 10.0, "command_timeout": 120.0,
           "sudo": False, "known_hosts": "~/.ssh/known_hosts"}


def inventory_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
        if not files:
            raise ConfigError("directory holds no .yml/.yaml inventory files", file=str(path))
        return files
    return [path]


def load_inventory(paths: Sequence[Path], extra_vars: Mapping[str, Any] | None = None, *,
                   contracts: bool = True) -> Inventory:
    """Load and resolve every inventory file; host names must be unique across all files.

    ``contracts=False`` leaves the customers' contracts unparsed until first use (runs and
    sweeps do not need them; see ``Customer.contract``)."""
    customers: dict[str, Customer] = {}
    hosts: dict[str, Host] = {}
    files: list[Path] = []
    for path in paths:
        for file in inventory_files(path):
            files.append(file)
            customer, file_hosts = _load_file(file, extra_vars or {})
            if customer.slug in customers:
                raise ConfigError(f"customer {customer.slug!r} already defined in "
                                  f"{customers[customer.slug].file}", file=str(file), field="customer.slug")
            customers[customer.slug] = customer
            if contracts:
                customer.contract  # noqa: B018  (parse now, so its errors surface here)
            for host in file_hosts:
                if host.name in hosts:
                    other = hosts[host.name]
                    raise ConfigError(f"duplicate host {host.name!r} (also {other.file}:{other.line})",
                                      file=host.file, line=host.line, field=f"hosts.{host.name}")
                hosts[host.name] = host
    return Inventory(customers=customers, hosts=hosts, files=tuple(files))


def _check_keys(mapping: SourceMap, allowed: set[str], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise mapping.error(f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                                key=key, field=f"{where}.{key}" if where else str(key))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().split()[0] if name.split() else name.lower()).strip("-") or "customer"


def _load_file(file: Path, extra_vars: Mapping[str, Any]) -> tuple[Customer, list[Host]]:
    data = load_yaml(file)
    name = str(file)
    if data is None:
        raise ConfigError("inventory is empty", file=name)
    if not isinstance(data, SourceMap):
        raise ConfigError("inventory must be a mapping with customer/defaults/hosts", file=name, line=1)
    _check_keys(data, TOP_KEYS, "")
    customer = _customer(expect_map(data.get("customer"), data, "customer", name), name)
    if data.get("operator") is not None:
        customer = replace(customer, operator=person_from_yaml(
            expect_map(data["operator"], data, "operator", name), "operator"))
    if data.get("signature") is not None:
        customer = replace(customer, signature=signature_from_yaml(
            expect_map(data["signature"], data, "signature", name), "signature"))
    defaults = expect_map(data.get("defaults"), data, "defaults", name)
    _check_keys(defaults, DEFAULTS_KEYS, "defaults")
    roles = expect_map(data.get("roles"), data, "roles", name)
    role_vars: dict[str, SourceMap] = {}
    for role, spec in roles.items():
        spec = expect_map(spec, roles, role, name)
        _check_keys(spec, ROLE_KEYS, f"roles.{role}")
        role_vars[role] = expect_map(spec.get("vars"), spec, "vars", name)
    hosts_map = data.get("hosts")
    if hosts_map is None:
        raise data.error("missing: an inventory needs at least one host", key="hosts" if "hosts" in data else None,
                         field="hosts")
    hosts_map = expect_map(hosts_map, data, "hosts", name)
    if not hosts_map:
        raise hosts_map.error("no hosts defined", field="hosts")
    ssh_config = _ssh_config(defaults.get("ssh_config"))
    hosts = [_host(str(h), expect_map(spec, hosts_map, h, name), hosts_map.line_of(h), defaults,
                   role_vars, extra_vars, customer, ssh_config, name)
             for h, spec in hosts_map.items()]
    return customer, hosts


def _customer(spec: SourceMap, file: str) -> Customer:
    _check_keys(spec, CUSTOMER_KEYS, "customer")
    name = spec.get("name")
    if not name or not isinstance(name, str):
        raise spec.error("missing or not a string", key="name" if "name" in spec else None,
                         field="customer.name")
    slug = spec.get("slug") or _slug(name)
    if not isinstance(slug, str) or not NAME_RE.match(slug):
        raise spec.error("must be letters, digits, '.', '-' or '_'", key="slug", field="customer.slug")
    language = spec.get("language", "de")
    if language not in ("de", "en"):
        raise spec.error("must be 'de' or 'en'", key="language", field="customer.language")
    contacts = expect_map(spec.get("contacts"), spec, "contacts", file)
    _check_keys(contacts, {"customer", "hoster", "on_call"}, "customer.contacts")
    on_call = contacts.get("on_call")
    on_call = [on_call] if isinstance(on_call, str) else (on_call or [])
    if not isinstance(on_call, list) or not all(isinstance(a, str) and "@" in a for a in on_call):
        raise contacts.error("must be an e-mail address or a list of them", key="on_call",
                             field="customer.contacts.on_call")
    hoster = None
    if contacts.get("hoster") is not None:
        h = expect_map(contacts["hoster"], contacts, "hoster", file)
        _check_keys(h, {"name", "email", "phone", "customer_number", "language"}, "customer.contacts.hoster")
        if not h.get("name"):
            raise h.error("missing", field="customer.contacts.hoster.name")
        number = h.get("customer_number")
        if number is not None and (isinstance(number, bool) or not isinstance(number, (str, int))
                                   or not str(number).strip()):
            # a YAML number is fine ("12345"); a list or mapping is a mistake
            raise h.error("must be a text or a number", key="customer_number",
                          field="customer.contacts.hoster.customer_number")
        if h.get("language") not in (None, "de", "en"):
            raise h.error("must be 'de' or 'en'", key="language", field="customer.contacts.hoster.language")
        hoster = HosterContact(str(h["name"]), h.get("email"), None if h.get("phone") is None else str(h["phone"]),
                               None if number is None else str(number).strip(), h.get("language"))
    smtp = dict(expect_map(spec.get("smtp"), spec, "smtp", file))
    domains = spec.get("mail_domains") or []
    if isinstance(domains, str):
        domains = [domains]
    if not isinstance(domains, list) or not all(isinstance(d, str) and "." in d for d in domains):
        raise spec.error("must be a list of domain names (acme.example)", key="mail_domains",
                         field="customer.mail_domains")
    return Customer(name=name, slug=slug, language=language, contact_email=contacts.get("customer"),
                    hoster=hoster, contract_source=spec.get("contract"), smtp=smtp, file=file,
                    jira_source=expect_map(spec.get("jira"), spec, "jira", file) if "jira" in spec else None,
                    mail_source=expect_map(spec.get("mail"), spec, "mail", file) if "mail" in spec else None,
                    mail_domains=tuple(d.strip().lower().lstrip("@") for d in domains),
                    on_call=tuple(on_call))


def _ssh_config(path_value: Any) -> paramiko.SSHConfig | None:
    path = Path(os.path.expanduser(path_value or os.environ.get("RUNBOOK_SSH_CONFIG", "~/.ssh/config")))
    if not path.is_file():
        return None
    try:
        return paramiko.SSHConfig.from_path(str(path))
    except (OSError, paramiko.SSHException) as exc:  # a broken ssh config is the user's problem to see
        raise ConfigError(f"cannot parse ssh config: {exc}", file=str(path)) from None


def _typed(value: Any, kind: type | tuple[type, ...], spec: SourceMap, key: str, field: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise spec.error(f"must be a number, not {value!r}", key=key, field=field)
    if not isinstance(value, kind):
        want = kind.__name__ if isinstance(kind, type) else "number"
        raise spec.error(f"must be {want}, not {type(value).__name__} {value!r}", key=key, field=field)
    return value


def _setting(key: str, spec: SourceMap, defaults: SourceMap, host: str) -> tuple[Any, bool]:
    """A connection setting and whether the inventory set it (so ssh_config may fill it)."""
    for source, where in ((spec, f"hosts.{host}.{key}"), (defaults, f"defaults.{key}")):
        if key in source and source[key] is not None:
            value = source[key]
            if key in ("port",):
                value = _typed(value, int, source, key, where)
                if not 0 < value < 65536:
                    raise source.error("must be a port number 1-65535", key=key, field=where)
            elif key in ("connect_timeout", "command_timeout"):
                value = float(_typed(value, (int, float), source, key, where))
                if value <= 0:
                    raise source.error("must be > 0", key=key, field=where)
            elif key == "sudo":
                value = _typed(value, bool, source, key, where)
            elif key == "connection":
                if value not in ("ssh", "local"):
                    raise source.error("must be 'ssh' or 'local'", key=key, field=where)
            elif key == "identity_file":
                value = [value] if isinstance(value, str) else value
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise source.error("must be a path or a list of paths", key=key, field=where)
            else:
                value = str(_typed(value, (str, int), source, key, where))
            return value, True
    return BUILTIN.get(key), False


def _host(name: str, spec: SourceMap, line: int, defaults: SourceMap, role_vars: Mapping[str, SourceMap],
          extra_vars: Mapping[str, Any], customer: Customer, ssh_config: paramiko.SSHConfig | None,
          file: str) -> Host:
    if not NAME_RE.match(name):
        raise spec.error("host names are letters, digits, '.', '-' or '_'", field=f"hosts.{name}")
    _check_keys(spec, HOST_KEYS, f"hosts.{name}")
    roles = spec.get("roles", [])
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list) or not all(isinstance(r, str) and NAME_RE.match(r) for r in roles):
        raise spec.error("must be a list of role names", key="roles", field=f"hosts.{name}.roles")
    merged: dict[str, Any] = {}
    origins: dict[str, VarOrigin] = {}
    layers = [(expect_map(defaults.get("vars"), defaults, "vars", file), "defaults.vars")]
    layers += [(role_vars[role], f"roles.{role}.vars") for role in roles if role in role_vars]
    layers.append((expect_map(spec.get("vars"), spec, "vars", file), f"hosts.{name}.vars"))
    for layer, path in layers:
        for key, value in layer.items():
            merged[key] = value
            origins[key] = VarOrigin(layer.file, layer.line_of(key), path)
    for key, value in extra_vars.items():
        merged[key] = value
        origins[key] = VarOrigin(None, None, "-e")
    s = {key: _setting(key, spec, defaults, name) for key in CONNECTION_KEYS - {"ssh_config"}}
    connection = s["connection"][0]
    address = s["address"][0] or name
    port, user, jump = s["port"][0], s["user"][0], s["jump"][0]
    identity = list(s["identity_file"][0] or [])
    if connection == "ssh" and ssh_config is not None:
        looked = ssh_config.lookup(address)
        if not s["address"][1] and "hostname" in looked:
            address = looked["hostname"]
        if not s["port"][1] and "port" in looked:
            port = int(looked["port"])
        if not s["user"][1] and "user" in looked:
            user = looked["user"]
        if not s["identity_file"][1] and "identityfile" in looked:
            identity = list(looked["identityfile"])
        if not s["jump"][1] and "proxyjump" in looked and looked["proxyjump"].lower() != "none":
            jump = looked["proxyjump"]
    ports = spec.get("service_ports", [])
    if not isinstance(ports, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in ports):
        raise spec.error("must be a list of port numbers", key="service_ports", field=f"hosts.{name}.service_ports")
    http_checks = spec.get("http_checks", [])
    if not isinstance(http_checks, list):
        raise spec.error("must be a list of {url, status, timeout}", key="http_checks",
                         field=f"hosts.{name}.http_checks")
    checks = []
    for i, check in enumerate(http_checks):
        if isinstance(check, str):
            check = {"url": check}
        if not isinstance(check, Mapping) or not isinstance(check.get("url"), str):
            raise spec.error(f"entry {i} needs a url", key="http_checks", field=f"hosts.{name}.http_checks[{i}]")
        checks.append(dict(check))
    return Host(
        name=name, customer=customer.slug, connection=connection, address=str(address),
        port=int(port), user=user, identity_files=tuple(os.path.expanduser(p) for p in identity),
        known_hosts=os.path.expanduser(s["known_hosts"][0]), jump=jump, sudo=s["sudo"][0],
        connect_timeout=s["connect_timeout"][0], command_timeout=s["command_timeout"][0],
        roles=tuple(roles), vars=merged, file=file, line=line, service_ports=tuple(ports),
        http_checks=tuple(checks), var_origins=origins,
    )


def parse_extra_vars(items: Sequence[str]) -> dict[str, Any]:
    """``-e key=value`` pairs; values are read as YAML scalars (80 -> int, true -> bool)."""
    import yaml
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key.strip()):
            raise ConfigError(f"expected key=value, got {item!r}", file="-e/--extra-var")
        try:
            result[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            result[key.strip()] = value
    return result
