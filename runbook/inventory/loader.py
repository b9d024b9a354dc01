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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runbook.sshlib import paramiko

from runbook.errors import ConfigError, UsageError
from runbook.inventory.addresses import AddressError, check_address, parse_jump
from runbook.inventory.ansible import AnsibleHost, ansible_hosts, is_ansible_yaml, is_ini_name, read_ini, read_yaml, runbook_spec
from runbook.inventory.model import Customer, Host, HosterContact, Inventory, VarOrigin
from runbook.inventory.probes import http_checks
from runbook.inventory.people import person_from_yaml, signature_from_yaml
from runbook.inventory.ssh_config import agent_setting, lookup, read_ssh_config, resolve_jumps, yes
from runbook.yamlsource import SourceMap, YamlLimitError, expect_map, load_yaml, parse_yaml

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
#: the engineer's own defaults (environment, else the config file) below the inventory's
ENV_DEFAULTS = {"connect_timeout": "RUNBOOK_CONNECT_TIMEOUT", "command_timeout": "RUNBOOK_COMMAND_TIMEOUT"}


def builtin_setting(key: str) -> Any:
    """A connection setting the inventory leaves open: RUNBOOK_CONNECT_TIMEOUT /
    RUNBOOK_COMMAND_TIMEOUT (or the config file's), else the built-in default."""
    name = ENV_DEFAULTS.get(key)
    if name and os.environ.get(name):
        try:
            value = float(os.environ[name])
        except ValueError:
            value = 0.0
        if value <= 0:
            raise ConfigError(f"must be a number of seconds > 0, not {os.environ[name]!r}", field=name)
        return value
    return BUILTIN.get(key)


@dataclass
class _RunbookFile:
    """A runbook inventory file, read: its customer, defaults, role vars and hosts (if any)."""

    file: str
    customer: Customer
    defaults: SourceMap
    role_vars: dict[str, Mapping[str, Any]]
    hosts: SourceMap | None
    ssh_config: paramiko.SSHConfig | None


@dataclass
class _Sources:
    """What one ``-i`` path holds: runbook files and Ansible inventories (with their directory)."""

    runbook: list[tuple[Path, SourceMap]] = field(default_factory=list)
    ansible: list[tuple[Path, Any]] = field(default_factory=list)  # (file, parsed YAML or None for INI)
    #: runbook files beside an Ansible inventory given as a file: their customer only
    beside: list[tuple[Path, SourceMap]] = field(default_factory=list)


def _classify(file: Path, sources: _Sources, *, in_directory: bool) -> None:
    if file.suffix in (".yml", ".yaml"):
        data = load_yaml(file)
        if isinstance(data, Mapping) and "plugin" in data and "customer" not in data:
            raise ConfigError("an Ansible inventory plugin configuration: runbook reads static inventories "
                              "(INI or YAML) only", file=str(file), line=1, field="plugin")
        if is_ansible_yaml(data):
            sources.ansible.append((file, data))
        else:
            sources.runbook.append((file, data))
    elif not in_directory or is_ini_name(file):
        sources.ansible.append((file, None))


def _sources(path: Path) -> _Sources:
    """Classify the files of ``path`` (a file or a directory of them)."""
    sources = _Sources()
    if path.is_dir():
        for file in sorted(p for p in path.iterdir() if p.is_file()):
            if file.suffix in (".yml", ".yaml") or is_ini_name(file):
                _classify(file, sources, in_directory=True)
        if not sources.runbook and not sources.ansible:
            raise ConfigError("directory holds no inventory files (.yml/.yaml, or Ansible's *.ini, hosts)",
                              file=str(path))
        return sources
    if not path.exists():
        raise ConfigError("file not found", file=str(path))
    _classify(path, sources, in_directory=False)
    if sources.ansible:  # a customer file beside an Ansible inventory lends it its customer
        for file in sorted(path.parent.iterdir()):
            if file != path and file.is_file() and file.suffix in (".yml", ".yaml"):
                data = load_yaml(file)
                if isinstance(data, Mapping) and "customer" in data:
                    sources.beside.append((file, data))
    return sources


def load_inventory(paths: Sequence[Path], extra_vars: Mapping[str, Any] | None = None, *,
                   contracts: bool = True) -> Inventory:
    """Load and resolve every inventory file; host names must be unique across all files.

    A path may hold runbook files, Ansible inventories (INI or YAML, with group_vars/ and
    host_vars/ beside them; ``runbook.inventory.ansible``) or both: an Ansible inventory's
    hosts belong to the customer of the runbook file beside it (one without ``hosts:`` is
    fine there), or the one its ``runbook_customer`` var names.
    ``contracts=False`` leaves the customers' contracts unparsed until first use (runs and
    sweeps do not need them; see ``Customer.contract``)."""
    customers: dict[str, Customer] = {}
    hosts: dict[str, Host] = {}
    files: list[Path] = []
    extra = extra_vars or {}

    def add_customer(customer: Customer) -> None:
        if customer.slug in customers:
            raise ConfigError(f"customer {customer.slug!r} already defined in "
                              f"{customers[customer.slug].file}", file=customer.file, field="customer.slug")
        customers[customer.slug] = customer
        if contracts:
            customer.contract  # noqa: B018  (parse now, so its errors surface here)

    def add_hosts(found: Sequence[Host]) -> None:
        for host in found:
            if host.name in hosts:
                other = hosts[host.name]
                raise ConfigError(f"duplicate host {host.name!r} (also {other.file}:{other.line})",
                                  file=host.file, line=host.line, field=f"hosts.{host.name}")
            hosts[host.name] = host

    for path in paths:
        sources = _sources(path)
        local = [_read_runbook(file, data) for file, data in sources.runbook]
        beside = [_read_runbook(file, data) for file, data in sources.beside]
        for rf in local:
            files.append(Path(rf.file))
            add_customer(rf.customer)
            if rf.hosts is None:
                if not sources.ansible:
                    raise ConfigError("missing: an inventory needs at least one host", file=rf.file, line=1,
                                      field="hosts")
                continue
            add_hosts([_host(str(h), expect_map(spec, rf.hosts, h, rf.file), rf.hosts.line_of(h), rf.defaults,
                             rf.role_vars, extra, rf.customer, rf.ssh_config, rf.file)
                       for h, spec in rf.hosts.items()])
        for rf in beside:
            if rf.customer.slug not in customers:
                add_customer(rf.customer)
        for file, data in sources.ansible:
            files.append(file)
            inv = read_yaml(data, file) if data is not None else read_ini(file)
            found = []
            for spec in ansible_hosts(inv, file.parent):
                owner = _owner(spec, [*local, *beside], customers, file)
                if owner.customer.slug not in customers:
                    add_customer(owner.customer)
                entry = runbook_spec(spec)
                found.append(_host(spec.name, entry, spec.line, owner.defaults, owner.role_vars, extra,
                                   customers[owner.customer.slug], owner.ssh_config, str(file)))
            add_hosts(found)
    return Inventory(customers=customers, hosts=hosts, files=tuple(files), extra_vars=dict(extra))


def _owner(host: AnsibleHost, candidates: Sequence[_RunbookFile], customers: Mapping[str, Customer],
           file: Path) -> _RunbookFile:
    """Whose host an Ansible host is: its ``runbook_customer``, else the one runbook file
    beside the inventory, else a customer named after the inventory's directory."""
    named = host.vars.get("runbook_customer")
    if named is not None:
        for rf in candidates:
            if rf.customer.slug == named:
                return rf
        if named in customers:
            return _RunbookFile(customers[named].file, customers[named], _empty(str(file)), {}, None,
                                _ssh_config(None))
        raise ConfigError(f"runbook_customer {named!r}: no customer of that slug is loaded", file=str(file),
                          line=host.line, field=f"{host.name}.runbook_customer")
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise ConfigError(f"several customer files beside it ({', '.join(rf.file for rf in candidates)}): "
                          "set runbook_customer (a slug) in group_vars/all", file=str(file), line=host.line,
                          field=host.name)
    name = file.resolve().parent.name or "ansible"
    customer = Customer(name=name, slug=_slug(name), language="de", contact_email=None, hoster=None,
                        contract_source=None, smtp={}, file=str(file))
    return _RunbookFile(str(file), customer, _empty(str(file)), {}, None, _ssh_config(None))


def _empty(file: str) -> SourceMap:
    empty = SourceMap()
    empty.file, empty.line, empty.key_lines = file, 0, {}
    return empty


def _check_keys(mapping: SourceMap, allowed: set[str], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise mapping.error(f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                                key=key, field=f"{where}.{key}" if where else str(key))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().split()[0] if name.split() else name.lower()).strip("-") or "customer"


def _read_runbook(file: Path, data: Any) -> _RunbookFile:
    """A runbook inventory file's customer, defaults, roles and (still unresolved) hosts."""
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
    hosts_map = None
    if data.get("hosts") is not None or "hosts" in data:
        if data.get("hosts") is None:
            raise data.error("missing: an inventory needs at least one host", key="hosts", field="hosts")
        hosts_map = expect_map(data["hosts"], data, "hosts", name)
        if not hosts_map:
            raise hosts_map.error("no hosts defined", field="hosts")
    return _RunbookFile(name, customer, defaults, role_vars, hosts_map, _ssh_config(defaults.get("ssh_config")))


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


@dataclass(frozen=True)
class _SshConfig:
    """The parsed ~/.ssh/config (or RUNBOOK_SSH_CONFIG) and where it is, for error messages."""

    config: paramiko.SSHConfig
    file: str


def _ssh_config(path_value: Any) -> _SshConfig | None:
    path = Path(os.path.expanduser(path_value or os.environ.get("RUNBOOK_SSH_CONFIG", "~/.ssh/config")))
    if not path.is_file():
        return None
    return _SshConfig(read_ssh_config(path), str(path))  # a broken ssh config is the user's problem to see


def _ssh_config_port(value: str, file: str, host: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{value!r} (for host {host}) is not a port number 1-65535", file=file,
                          field="Port")
    return int(value)


def _check_connection_target(name: str, address: str, jump: str | None, spec: SourceMap, defaults: SourceMap,
                             settings: Mapping[str, tuple[Any, bool]], ssh_config: _SshConfig | None) -> None:
    """The address and the jump host are ones a connection can use; else an error naming where
    each was set: the host's or the defaults' key, ssh_config, or (no address given) the host name."""
    for key, value, check in (("address", address, check_address), ("jump", jump, _jump_hops)):
        if value is None:
            continue
        try:
            check(value)
        except AddressError as exc:
            if key in spec and spec[key] is not None:
                raise spec.error(str(exc), key=key, field=f"hosts.{name}.{key}") from None
            if key in defaults and defaults[key] is not None:
                raise defaults.error(str(exc), key=key, field=f"defaults.{key}") from None
            if ssh_config is not None and not settings[key][1] and value != name:
                raise ConfigError(f"{exc} (for host {name})", file=ssh_config.file,
                                  field="HostName" if key == "address" else "ProxyJump") from None
            raise spec.error(f"{exc} (the host name is its address when none is given)",
                             field=f"hosts.{name}.address") from None


def _jump_hops(spec: str) -> None:
    """Each hop of a ProxyJump-style ``jump`` (``gw1,user@gw2:2222``; ``none``: no jump)."""
    if spec.strip().lower() != "none":
        for hop in spec.split(","):
            parse_jump(hop.strip())


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
    return builtin_setting(key), False


def _host(name: str, spec: SourceMap, line: int, defaults: SourceMap, role_vars: Mapping[str, SourceMap],
          extra_vars: Mapping[str, Any], customer: Customer, ssh_config: _SshConfig | None,
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
    identities_only, identity_agent = False, None
    if connection == "ssh" and ssh_config is not None:
        looked = lookup(ssh_config.config, address)
        if not s["address"][1] and "hostname" in looked:
            address = looked["hostname"]
        if not s["port"][1] and "port" in looked:
            port = _ssh_config_port(looked["port"], ssh_config.file, name)
        if not s["user"][1] and "user" in looked:
            user = looked["user"]
        if not s["identity_file"][1] and "identityfile" in looked:
            identity = list(looked["identityfile"])
        if not s["jump"][1] and "proxyjump" in looked and looked["proxyjump"].lower() != "none":
            jump = looked["proxyjump"]
        identities_only = yes(looked.get("identitiesonly", "no"))
        identity_agent = agent_setting(looked.get("identityagent"))
    if connection == "ssh":
        _check_connection_target(name, str(address), jump, spec, defaults, s, ssh_config)
    keys = tuple(os.path.expanduser(p) for p in identity)
    where = f"hosts.{name}.jump"
    try:
        jumps = resolve_jumps(jump, ssh_config.config if ssh_config is not None else None, user=user, identity_files=keys, field=where)
    except ConfigError as exc:
        raise ConfigError(exc.message, file=file, line=line, field=where) from None
    ports = spec.get("service_ports", [])
    if not isinstance(ports, list) or not all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536
                                              for p in ports):
        raise spec.error("must be a list of port numbers 1-65535", key="service_ports",
                         field=f"hosts.{name}.service_ports")
    checks = http_checks(spec, name)
    return Host(
        name=name, customer=customer.slug, connection=connection, address=str(address),
        port=int(port), user=user, identity_files=keys,
        known_hosts=os.path.expanduser(s["known_hosts"][0]), jump=jump, sudo=s["sudo"][0],
        connect_timeout=s["connect_timeout"][0], command_timeout=s["command_timeout"][0],
        roles=tuple(roles), vars=merged, file=file, line=line, service_ports=tuple(ports),
        http_checks=tuple(checks), var_origins=origins, jumps=jumps, identities_only=identities_only,
        identity_agent=identity_agent,
    )


def parse_extra_vars(items: Sequence[str]) -> dict[str, Any]:
    """``-e key=value`` pairs; values are read as YAML (80 -> int, true -> bool, [a, b] -> a
    list), with the same bounds on depth and aliases as files; what is not YAML stays a string."""
    result: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key.strip()):
            raise UsageError(f"expected key=value, got {item!r}", option="-e/--extra-var")
        try:
            result[key.strip()] = parse_yaml(value, "-e/--extra-var") if value.strip() else ""
        except YamlLimitError as exc:
            raise UsageError(f"{key.strip()}: {exc.message}", option="-e/--extra-var") from None
        except ConfigError:
            result[key.strip()] = value
    return result
