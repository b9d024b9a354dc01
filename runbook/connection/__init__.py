"""How commands reach hosts: one ``Connection`` per host, SSH or local."""

from __future__ import annotations

from dataclasses import dataclass

from runbook.connection.base import CommandResult, Connection
from runbook.connection.local import LocalConnection
from runbook.connection.ssh import SSHConnection
from runbook.inventory.model import Host


@dataclass(frozen=True)
class ConnectOptions:
    """What the operator decided for this run's connections."""

    accept_new_host_keys: bool = False
    sudo_password: str | None = None
    connect_timeout: float | None = None   # overrides the inventory's when set


def connect(host: Host, options: ConnectOptions) -> Connection:
    """A (not yet opened) connection for ``host``."""
    if host.connection == "local":
        return LocalConnection(host.name, sudo_password=options.sudo_password)
    timeout = options.connect_timeout or host.connect_timeout
    jump: SSHConnection | None = None
    for hop in host.jumps:  # each hop is reached through the one before it
        jump = SSHConnection(hop.name, hop.address, hop.port, hop.user, identity_files=hop.identity_files,
                             known_hosts=host.known_hosts, connect_timeout=timeout,
                             accept_new_host_keys=options.accept_new_host_keys, jump=jump,
                             identities_only=hop.identities_only, identity_agent=hop.identity_agent)
    return SSHConnection(host.name, host.address, host.port, host.user,
                         identity_files=host.identity_files, known_hosts=host.known_hosts,
                         connect_timeout=timeout, accept_new_host_keys=options.accept_new_host_keys,
                         sudo_password=options.sudo_password, jump=jump, identities_only=host.identities_only,
                         identity_agent=host.identity_agent)


__all__ = ["CommandResult", "Connection", "ConnectOptions", "LocalConnection", "SSHConnection", "connect"]
