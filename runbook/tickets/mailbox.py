"""The on-call mailbox over IMAP: read the mails of the last days, change nothing there.

Settings come from the inventory (``customer.mail.imap``) with the environment filling what
it leaves out (``RUNBOOK_IMAP_HOST``, ``_PORT``, ``_SECURITY``, ``_USER``, ``_FOLDER``,
``_CAFILE``); the password only from the environment (``RUNBOOK_IMAP_PASSWORD``, or the
variable ``password_env`` names). The connection is always encrypted: ``security: tls``
(IMAPS, port 993) or ``starttls`` (port 143, upgraded before the login). The folder is
opened read-only (EXAMINE) and bodies are fetched with BODY.PEEK, so no mail is marked read.
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from runbook.errors import ConfigError, RunbookError

DEFAULT_PASSWORD_ENV = "RUNBOOK_IMAP_PASSWORD"
SECURITY = {"tls": 993, "starttls": 143}
DEFAULT_TIMEOUT = 30.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class MailboxError(RunbookError):
    """The mailbox could not be read: names the server and what it (or the network) said."""


@dataclass(frozen=True)
class ImapSettings:
    """Where the on-call mailbox is.

    security: "tls" (IMAPS) or "starttls"; folder: the folder to read (UTF-8, e.g.
    "Störungen"); password_env: the environment variable holding the password; cafile: a CA
    bundle for a server with a private certificate authority.
    """

    host: str
    port: int
    security: str
    user: str
    folder: str = "INBOX"
    password_env: str = DEFAULT_PASSWORD_ENV
    cafile: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, env: Mapping[str, str], *,
                     file: str | None = None) -> ImapSettings:
        """``customer.mail.imap`` first, then RUNBOOK_IMAP_* from ``env``."""
        data = dict(data or {})

        def value(key: str, default: Any = None) -> Any:
            if data.get(key) is not None:
                return data[key]
            return env.get(f"RUNBOOK_IMAP_{key.upper()}") or default

        host, user = value("host"), value("user")
        for key, got in (("host", host), ("user", user)):
            if not got:
                raise ConfigError(f"no IMAP {key}: set mail.imap.{key} in the inventory or "
                                  f"RUNBOOK_IMAP_{key.upper()}", file=file, field=f"customer.mail.imap.{key}")
        security = str(value("security", "tls")).lower()
        if security not in SECURITY:
            raise ConfigError(f"must be tls or starttls, not {security!r} (the password never travels "
                              "unencrypted)", file=file, field="customer.mail.imap.security")
        port = value("port", SECURITY[security])
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise ConfigError(f"must be a number, not {port!r}", file=file, field="customer.mail.imap.port") from None
        return cls(host=str(host), port=port, security=security, user=str(user),
                   folder=str(value("folder", "INBOX")),
                   password_env=str(data.get("password_env") or DEFAULT_PASSWORD_ENV),
                   cafile=value("cafile"))


@dataclass(frozen=True)
class FetchedMail:
    """One mail as the server holds it: its UID in the folder and its bytes."""

    uid: str
    raw: bytes


def imap_utf7(folder: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): "Störungen" -> "St&APY-rungen"."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in folder:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _said(exc: Exception) -> str:
    text = str(exc)
    match = re.fullmatch(r"b['\"](.*)['\"]", text)
    return match.group(1) if match else text


def fetch_mails(settings: ImapSettings, env: Mapping[str, str], *, since: date,
                timeout: float = DEFAULT_TIMEOUT) -> list[FetchedMail]:
    """Every mail in the folder that arrived on or after ``since``, oldest first."""
    where = f"imap {settings.host}:{settings.port}"
    password = env.get(settings.password_env)
    if not password:
        raise MailboxError(f"{where}: no password: set ${settings.password_env}")
    context = ssl.create_default_context(cafile=settings.cafile)
    with _said_as_mailbox_error(where, timeout):
        if settings.security == "tls":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context,
                                                    timeout=timeout)
        else:
            imap = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
            imap.starttls(ssl_context=context)
    try:
        with _said_as_mailbox_error(where, timeout):
            return _read(imap, settings, password, since, where)
    finally:
        try:
            imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


@contextmanager
def _said_as_mailbox_error(where: str, timeout: float) -> Iterator[None]:
    """imaplib's, ssl's and the network's exceptions as one MailboxError line naming the server."""
    try:
        yield
    except ssl.SSLError as exc:
        raise MailboxError(f"{where}: TLS failed: {exc}") from None
    except (socket.timeout, TimeoutError):
        raise MailboxError(f"{where}: no answer within {timeout:g} s") from None
    except imaplib.IMAP4.abort as exc:
        raise MailboxError(f"{where}: connection lost: {_said(exc)}") from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"{where}: {_said(exc)}") from None
    except ConnectionError as exc:
        raise MailboxError(f"{where}: cannot connect: {exc}") from None
    except OSError as exc:
        raise MailboxError(f"{where}: {exc}") from None


def _read(imap: imaplib.IMAP4, settings: ImapSettings, password: str, since: date,
          where: str) -> list[FetchedMail]:
    _login(imap, settings.user, password, where)
    folder = imap_utf7(settings.folder)
    status, data = imap.select(_quoted(folder), readonly=True)
    if status != "OK":
        raise MailboxError(f"{where}: cannot open folder {settings.folder!r}: {_said(data[0])}")
    day = f"{since.day}-{_MONTHS[since.month - 1]}-{since.year}"
    status, data = imap.uid("SEARCH", "SINCE", day)
    if status != "OK":
        raise MailboxError(f"{where}: search failed: {_said(data[0])}")
    uids = data[0].split() if data and data[0] else []
    mails = []
    for uid in uids:
        status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) == 2), None)
        if status != "OK" or raw is None:
            raise MailboxError(f"{where}: fetching mail {uid.decode()} failed")
        mails.append(FetchedMail(uid.decode(), raw))
    return mails


def _login(imap: imaplib.IMAP4, user: str, password: str, where: str) -> None:
    """LOGIN, or AUTHENTICATE PLAIN for credentials beyond ASCII (imaplib's LOGIN is ASCII-only)."""
    try:
        if (user + password).isascii():
            imap.login(user, password)
        else:
            imap.authenticate("PLAIN", lambda _: f"\0{user}\0{password}".encode())
    except imaplib.IMAP4.error as exc:
        raise MailboxError(f"{where}: login as {user} refused: {_said(exc)}") from None
