"""``~/.ssh/config`` as OpenSSH reads it, for what the inventory leaves open: HostName, Port,
User, IdentityFile, IdentitiesOnly, IdentityAgent and ProxyJump, with ``Match host`` blocks
(Paramiko's parser) and ``Include`` (which Paramiko's parser does not know: expanded here).

Jump hosts are resolved here, hop by hop: ``ProxyJump gw1,gw2`` (or the inventory's ``jump:``)
becomes a chain, and each hop takes its own settings from ssh_config -- its HostName, Port,
User, IdentityFile, and its own ProxyJump, which puts more hops in front of it, as ``ssh -J``
does. What neither gives falls back to the target's user and keys.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.sshlib import paramiko

from runbook.errors import ConfigError

MAX_INCLUDE_DEPTH = 16   # OpenSSH's READCONF_MAX_DEPTH
MAX_HOPS = 8
_BLOCK = re.compile(r"^\s*(host|match)\b", re.IGNORECASE)
_INCLUDE = re.compile(r"^\s*include\s*[=\s]\s*(.+?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class JumpHop:
    """One jump host on the way to a target: where it is and how to log in to it."""

    name: str                       # as written in ProxyJump / jump:
    address: str
    port: int
    user: str | None
    identity_files: tuple[str, ...]
    identities_only: bool = False
    identity_agent: str | None = None


def parse_jump(spec: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (or ``[user@]host`` with an IPv6 ``[addr]:port``), one hop."""
    user, _, rest = spec.strip().rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") and tail[1:].isdigit() else None
    elif rest.count(":") == 1:
        host, _, number = rest.partition(":")
        if not number.isdigit():
            raise ValueError(f"not a port: {number!r}")
        port = int(number)
    if not host:
        raise ValueError(f"no host in {spec!r}")
    return (user or None), host, port


def _expand_includes(path: Path, depth: int = 0) -> str:
    """The config text with every ``Include`` replaced by the files it names (globs, relative
    to ~/.ssh), each where it stands. After an include inside a Host or Match block that
    opened blocks of its own, the enclosing block's line is repeated, so the lines after the
    include belong to it again (OpenSSH's scoping)."""
    if depth > MAX_INCLUDE_DEPTH:
        raise ConfigError(f"Include nested deeper than {MAX_INCLUDE_DEPTH}", file=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read ssh config: {exc}", file=str(path)) from None
    out: list[str] = []
    block: str | None = None
    for line in text.splitlines():
        found = _INCLUDE.match(line)
        if not found:
            if _BLOCK.match(line):
                block = line
            out.append(line)
            continue
        for pattern in found.group(1).split():
            pattern = os.path.expanduser(pattern.strip('"'))
            if not os.path.isabs(pattern):
                pattern = os.path.join(os.path.expanduser("~/.ssh"), pattern)
            for included in sorted(glob.glob(pattern)):
                inner = _expand_includes(Path(included), depth + 1)
                out.append(inner)
                if block is not None and any(_BLOCK.match(x) for x in inner.splitlines()):
                    out.append(block)
    return "\n".join(out)


def read_ssh_config(path: Path) -> paramiko.SSHConfig:
    """The parsed config, Includes expanded; ConfigError naming the file when it cannot be read."""
    try:
        return paramiko.SSHConfig.from_text(_expand_includes(path))
    except (paramiko.SSHException, ValueError) as exc:
        raise ConfigError(f"cannot parse ssh config: {exc}", file=str(path)) from None


def lookup(config: paramiko.SSHConfig | None, name: str) -> dict[str, Any]:
    """What ssh_config says for ``name`` (keys lower case), {} without a config."""
    if config is None:
        return {}
    try:
        return dict(config.lookup(name))
    except (paramiko.SSHException, OSError) as exc:  # Match exec that cannot run, a bad token
        raise ConfigError(f"ssh config lookup of {name!r} failed: {exc}", field="ssh_config") from None


def yes(value: Any) -> bool:
    """An ssh_config flag (``yes``/``no``)."""
    return str(value).strip().lower() in ("yes", "true")


def agent_setting(value: Any) -> str | None:
    """IdentityAgent: None (SSH_AUTH_SOCK), "none", or a socket path."""
    if value is None:
        return None
    text = str(value).strip()
    if text.upper() == "SSH_AUTH_SOCK":
        return None
    return "none" if text.lower() == "none" else os.path.expanduser(text.strip('"'))


def resolve_jumps(spec: str | None, config: paramiko.SSHConfig | None, *, user: str | None,
                  identity_files: tuple[str, ...], field: str, seen: tuple[str, ...] = ()) -> tuple[JumpHop, ...]:
    """The chain of hops ``spec`` ("gw1,gw2", "none" or None) stands for, first hop first."""
    if not spec or spec.strip().lower() == "none":
        return ()
    hops: list[JumpHop] = []
    for part in spec.split(","):
        try:
            hop_user, name, hop_port = parse_jump(part)
        except ValueError as exc:
            raise ConfigError(f"bad jump host {part.strip()!r}: {exc}", field=field) from None
        if name in seen or len(seen) >= MAX_HOPS:
            raise ConfigError(f"jump hosts loop or nest deeper than {MAX_HOPS}: {' -> '.join([*seen, name])}",
                              field=field)
        found = lookup(config, name)
        keys = tuple(os.path.expanduser(p) for p in found.get("identityfile", ())) or identity_files
        hop = JumpHop(name=part.strip(), address=str(found.get("hostname", name)),
                      port=hop_port or int(found.get("port", 22)), user=hop_user or found.get("user") or user,
                      identity_files=keys, identities_only=yes(found.get("identitiesonly", "no")),
                      identity_agent=agent_setting(found.get("identityagent")))
        # the hop's own ProxyJump goes in front of it, as `ssh -J` does
        own = found.get("proxyjump") if not hops else None
        if own:
            hops.extend(resolve_jumps(own, config, user=user, identity_files=identity_files, field=field,
                                      seen=(*seen, name)))
        hops.append(hop)
    return tuple(hops)
