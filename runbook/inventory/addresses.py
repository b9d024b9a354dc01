"""What may stand where a host is addressed: an IP address or a DNS name, and a jump host.

Checked when the inventory is loaded, so that a name no resolver would take (an empty label,
a right-to-left override that shows ``moc.elpmaxe`` as ``example.com``) or a jump port that is
no number is refused with its file, line and field, instead of failing at connect time as an
internal error.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# RFC 1123 labels, plus "_" (internal zones use it: _vpn.acme.internal); letters, digits, "-"
# inside, never first or last.
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
MAX_NAME = 253


class AddressError(ValueError):
    """The value is no address a connection could use; the message says why."""


def check_address(value: str) -> str:
    """``value`` if it is an IPv4/IPv6 address or a DNS name (internationalised names are
    taken in their IDNA form's rules); AddressError says what is wrong otherwise."""
    if not value or value != value.strip():
        raise AddressError(f"{value!r} is not a host name or IP address (empty, or spaces around it)")
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    ascii_name = value
    if not value.isascii():  # an internationalised name: the IDNA codec refuses controls and overrides
        try:
            ascii_name = value.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise AddressError(f"{value!r} is not a host name: {exc.__cause__ or exc}") from None
    name = ascii_name[:-1] if ascii_name.endswith(".") else ascii_name
    if len(name) > MAX_NAME:
        raise AddressError(f"host name longer than {MAX_NAME} characters ({len(name)})")
    for label in name.split("."):
        if not label:
            raise AddressError(f"{value!r} is not a host name: it has an empty label ('..')")
        if not _LABEL.match(label):
            raise AddressError(f"{value!r} is not a host name: label {label!r} (letters, digits, '-' and '_', "
                               "at most 63, not starting or ending with '-')")
    return value


@dataclass(frozen=True)
class JumpHost:
    """One ProxyJump hop: ``[user@]host[:port]``."""

    user: str | None
    address: str
    port: int | None


def parse_jump(spec: str) -> JumpHost:
    """One hop, ``[user@]host[:port]`` (``[v6]:port`` for IPv6), as OpenSSH's ProxyJump writes
    each; AddressError for anything else (a port that is no number, several hops at once)."""
    if "," in spec:
        raise AddressError(f"{spec!r}: one hop here (hops are separated by ',' in jump:)")
    user, _, rest = spec.rpartition("@")
    host, port_text = rest, ""
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        if tail and not tail.startswith(":"):
            raise AddressError(f"{spec!r}: expected [address]:port")
        port_text = tail[1:]
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
    port = None
    if port_text or rest.endswith(":"):
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise AddressError(f"{spec!r}: port {port_text!r} is not a port number 1-65535")
        port = int(port_text)
    if "@" in user or (user and not user.strip()):
        raise AddressError(f"{spec!r}: expected [user@]host[:port]")
    return JumpHost(user or None, check_address(host), port)
