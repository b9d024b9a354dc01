"""What an inventory resolves to: customers and their hosts, each with merged vars."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from runbook.inventory.people import Person, Signature
from runbook.inventory.ssh_config import JumpHop


@dataclass(frozen=True)
class HosterContact:
    """The hosting provider to notify when a host is unreachable at the network level;
    ``customer_number``: ours at the provider, which its notices quote; ``language``: the
    notices' (de | en; None: the customer's)."""

    name: str
    email: str | None = None
    phone: str | None = None
    customer_number: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Customer:
    """Whose hosts these are: name, language of reports, contacts and the support contract."""

    name: str
    slug: str                       # short id used in limits ("acme:web") and paths
    language: str                   # "de" | "en": default language of customer reports
    contact_email: str | None
    hoster: HosterContact | None
    contract_source: Any            # the ``customer.contract`` mapping as written
    smtp: Mapping[str, Any]         # delivery settings for reports (password from env only)
    file: str
    # Where the customer's faults come in (runbook.tickets reads these): ``customer.jira``,
    # ``customer.mail`` as written, and the sender domains of ``customer.mail_domains``.
    jira_source: Any = None
    mail_source: Any = None
    mail_domains: tuple[str, ...] = ()
    on_call: tuple[str, ...] = ()   # where `runbook sweep --alert` sends (contacts.on_call)
    operator: Person | None = None  # who is on call for this customer (RUNBOOK_OPERATOR wins)
    signature: Signature | None = None  # how our reports to this customer are signed
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def contract(self) -> Any:
        """The support contract (``runbook.sla.Contract``), parsed on first use.

        Lazily, because the holidays package costs 0.1-0.3 s to import and a sweep or run
        never needs the contract; commands that do (incidents, reports, ``runbook check -i``,
        ``inventory list``) reach it and get the same file:line errors.
        """
        if "contract" not in self._parsed:
            from runbook.sla import contract_from_mapping  # the SLA package owns the contract's shape
            self._parsed["contract"] = contract_from_mapping(self.contract_source, file=self.file)
        return self._parsed["contract"]


@dataclass(frozen=True)
class VarOrigin:
    """Where a host var was set: the file and line of its key, and which ``vars`` mapping of
    the file holds it ("hosts.web1.vars", "roles.db.vars", "defaults.vars"; "-e" for the
    command line, which has no file)."""

    file: str | None
    line: int | None
    path: str


@dataclass(frozen=True)
class Host:
    """One server, resolved: connection settings, roles and merged vars.

    ``address`` is what is dialled (the inventory's address, else the ssh_config HostName,
    else the name). ``connection`` is "ssh" or "local".
    """

    name: str
    customer: str
    connection: str
    address: str
    port: int
    user: str | None
    identity_files: tuple[str, ...]
    known_hosts: str
    jump: str | None
    sudo: bool
    connect_timeout: float
    command_timeout: float
    roles: tuple[str, ...]
    vars: Mapping[str, Any]
    file: str
    line: int
    service_ports: tuple[int, ...] = ()
    http_checks: tuple[Mapping[str, Any], ...] = ()
    #: where each of ``vars`` was set, so a mistake in one names its own file and line
    var_origins: Mapping[str, VarOrigin] = field(default_factory=dict, compare=False, repr=False)
    #: the jump hosts on the way, first hop first, each with its own settings (``jump`` as written)
    jumps: tuple[JumpHop, ...] = ()
    #: ssh_config's IdentitiesOnly: offer the identity files only, no other agent key
    identities_only: bool = False
    #: ssh_config's IdentityAgent: None (SSH_AUTH_SOCK), "none", or a socket path
    identity_agent: str | None = None

    def to_json(self) -> dict[str, Any]:
        from runbook.journal import redact
        return {
            "name": self.name, "customer": self.customer, "connection": self.connection,
            "address": self.address, "port": self.port, "user": self.user,
            "identity_files": list(self.identity_files), "known_hosts": self.known_hosts,
            "jump": self.jump, "jumps": [f"{j.user + '@' if j.user else ''}{j.address}:{j.port}" for j in self.jumps],
            "sudo": self.sudo, "connect_timeout": self.connect_timeout,
            "command_timeout": self.command_timeout, "roles": list(self.roles),
            "service_ports": list(self.service_ports), "http_checks": [dict(c) for c in self.http_checks],
            "vars": redact(dict(self.vars)), "source": f"{self.file}:{self.line}",
        }


@dataclass(frozen=True)
class Inventory:
    """All customers and hosts from one or more inventory files, hosts in file order."""

    customers: Mapping[str, Customer]
    hosts: Mapping[str, Host]
    files: tuple[Path, ...] = field(default=())
    #: ``-e key=value``: already in every host's vars, and kept here so that a playbook step's
    #: own ``vars:`` cannot override them either
    extra_vars: Mapping[str, Any] = field(default_factory=dict)

    def customer_of(self, host: Host) -> Customer:
        return self.customers[host.customer]
