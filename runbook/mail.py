"""E-mail delivery for reports and notifications: build a message, send it by SMTP, or write .eml.

The SMTP password never comes from a file or a command-line argument (both end up in shell
histories, backups and ``ps``): only from the environment variable that ``SmtpSettings``
names. Settings come from the customer's inventory (``customer.smtp``) with the environment
filling what it leaves out:

```yaml
customer:
  smtp: {host: mail.example.de, port: 587, starttls: true, user: oncall@example.de,
         password_env: RUNBOOK_SMTP_PASSWORD, cafile: null}
```
"""

from __future__ import annotations

import base64
import os
import smtplib
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from runbook.errors import ConfigError, RunbookError

DEFAULT_PASSWORD_ENV = "RUNBOOK_SMTP_PASSWORD"
SETTING_KEYS = {"host", "port", "starttls", "user", "password_env", "cafile"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class MailError(RunbookError):
    """A message could not be delivered: names the server and what the server or network said."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail relay.

    host, port: the relay (submission port 587 by default).
    starttls: upgrade the connection before anything else is sent (on by default).
    user: log in as this user; the password is read from the environment variable
        ``password_env`` at send time, never stored here.
    cafile: a CA bundle for a relay with a private certificate authority.
    """

    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password_env: str = DEFAULT_PASSWORD_ENV
    cafile: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, env: Mapping[str, str], *,
                     file: str | None = None) -> SmtpSettings:
        """Inventory ``smtp`` mapping first, then RUNBOOK_SMTP_HOST/PORT/STARTTLS/USER from ``env``."""
        data = dict(data or {})
        if "password" in data:
            raise ConfigError("an SMTP password is not read from files; name an environment variable "
                              "with password_env instead", file=file, field="smtp.password")
        unknown = set(data) - SETTING_KEYS - {"from"}   # "from" is the sender (default_sender), not the relay's
        if unknown:
            raise ConfigError(f"unknown keys: {', '.join(sorted(unknown))}", file=file, field="smtp")
        host = data.get("host") or env.get("RUNBOOK_SMTP_HOST")
        if not host:
            raise ConfigError("no SMTP host: set smtp.host in the inventory or RUNBOOK_SMTP_HOST",
                              file=file, field="smtp.host")
        port = data.get("port", env.get("RUNBOOK_SMTP_PORT", 587))
        try:
            port = int(port)
        except (TypeError, ValueError):
            raise ConfigError(f"port must be a number, not {port!r}", file=file, field="smtp.port") from None
        starttls = data.get("starttls", env.get("RUNBOOK_SMTP_STARTTLS", True))
        if isinstance(starttls, str):
            if starttls.lower() not in _TRUE | _FALSE:
                raise ConfigError(f"starttls must be true or false, not {starttls!r}", file=file,
                                  field="smtp.starttls")
            starttls = starttls.lower() in _TRUE
        return cls(host=str(host), port=port, starttls=bool(starttls),
                   user=data.get("user") or env.get("RUNBOOK_SMTP_USER") or None,
                   password_env=str(data.get("password_env") or DEFAULT_PASSWORD_ENV),
                   cafile=data.get("cafile"))

    def password(self, env: Mapping[str, str]) -> str | None:
        """The password from ``env[password_env]``, or None when it is unset or empty."""
        return env.get(self.password_env) or None


def default_sender(smtp: Mapping[str, Any], env: Mapping[str, str] | None = None) -> str:
    """The From of runbook's own messages: the customer's ``smtp.from``, else
    $RUNBOOK_MAIL_FROM, else the SMTP user, else runbook@<this host's FQDN>."""
    env = os.environ if env is None else env
    return str(smtp.get("from") or env.get("RUNBOOK_MAIL_FROM") or smtp.get("user") or f"runbook@{socket.getfqdn()}")


def build_message(subject: str, body_text: str, body_html: str | None = None, *, sender: str,
                  to: Sequence[str], cc: Sequence[str] = (), reply_to: str | None = None,
                  date: datetime | None = None, message_id: str | None = None) -> EmailMessage:
    """A UTF-8 message: plain text, plus an HTML alternative when given.

    Non-ASCII in the subject or names ("Störung") is RFC 2047-encoded on the way out.
    ``date`` and ``message_id`` default to now and a fresh id; pass them for a reproducible file.
    """
    if not to:
        raise MailError("a message needs at least one recipient")
    msg = EmailMessage(policy=policy.default)
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
    domain = sender.rpartition("@")[2].strip("> ") or None
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    msg.set_content(body_text, charset="utf-8")
    if body_html is not None:
        msg.add_alternative(body_html, subtype="html", charset="utf-8")
    return msg


def send(msg: EmailMessage, settings: SmtpSettings, timeout: float = 30.0, *,
         env: Mapping[str, str] | None = None) -> None:
    """Deliver ``msg`` to every To/Cc recipient through the relay, or raise MailError."""
    env = os.environ if env is None else env
    where = f"{settings.host}:{settings.port}"
    password = settings.password(env) if settings.user else None
    if settings.user and password is None:
        raise MailError(f"{where}: SMTP user {settings.user} is set but ${settings.password_env} is empty")
    if settings.user and not settings.starttls and settings.host not in _LOOPBACK:
        raise MailError(f"{where}: refusing to send the SMTP password without STARTTLS")
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=settings.cafile))
                smtp.ehlo()
            if settings.user:
                _login(smtp, settings.user, password or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(f"{where}: the server does not support this ({exc}); is STARTTLS offered?") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"{where}: login as {settings.user} refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"{where}: all recipients refused: {_refused(exc.recipients)}") from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"{where}: server answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"{where}: {exc}") from exc
    except ssl.SSLError as exc:
        raise MailError(f"{where}: TLS failed: {exc}") from exc
    except OSError as exc:  # refused, unreachable, DNS, timeout
        raise MailError(f"{where}: cannot connect: {exc}") from exc
    if refused:
        raise MailError(f"{where}: some recipients refused (the others got the message): {_refused(refused)}")


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib's login, except for credentials beyond ASCII ("Passwört"): smtplib encodes them
    as ASCII and fails, while RFC 4616 AUTH PLAIN carries UTF-8, so send that ourselves."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if not smtp.has_extn("auth") or "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH PLAIN for a non-ASCII password")
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refused(recipients: Mapping[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr} ({code} {_text(text)})" for addr, (code, text) in sorted(recipients.items()))


def write_eml(msg: EmailMessage, path: Path) -> Path:
    """Write ``msg`` as an .eml file (CRLF line ends, as mail clients expect); atomic."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(msg.as_bytes(policy=policy.SMTP))
    os.replace(tmp, path)
    return path
