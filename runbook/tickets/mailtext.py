"""Reading a customer's e-mail: headers decoded, the body as plain text, forwarded mails.

The standard library does the MIME work (``email`` with ``policy.default`` decodes RFC 2047
headers such as ``=?utf-8?q?St=C3=B6rung?=`` and every charset of the body); what is here
turns HTML-only mails into text, finds a forwarded original (attached as message/rfc822 or
quoted inline under "---------- Forwarded message ----------" / "Weitergeleitete
Nachricht") and reads the ``Received:`` chain.
"""

from __future__ import annotations

import email
import email.errors
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage, Message
from email.utils import parseaddr, parsedate_to_datetime
from html.parser import HTMLParser

from runbook.errors import DataError

# "Fwd:", "WG:", "AW:", "Re:", "FW:" and "[EXTERN]"-style tags in front of a subject.
_PREFIX = re.compile(r"^\s*(?:(?:re|aw|wg|fw|fwd|antw|tr)\s*:\s*|\[[^\]]{1,20}\]\s*)+", re.IGNORECASE)
_FORWARD_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|"
    r"ursprüngliche nachricht|forwarded e-?mail)\s*-{2,}|begin forwarded message:|"
    r"anfang der weitergeleiteten (?:nachricht|e-mail):)\s*$", re.IGNORECASE | re.MULTILINE)
_QUOTED_HEADER = re.compile(r"^\s*>?\s*(from|von|date|datum|sent|gesendet|subject|betreff)\s*:\s*(.+?)\s*$",
                            re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_BY = re.compile(r"\bby\s+([^\s;()]+)", re.IGNORECASE)
_BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "hr"}


def read_mail(raw: bytes, source: str) -> EmailMessage:
    """Parse an RFC 5322 message; DataError (naming ``source``) when it is not one."""
    if not raw.strip():
        raise DataError("empty file: not an e-mail", source=source)
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise DataError("not an e-mail: no headers (an .eml starts with From:, Date:, Subject: ...)",
                        source=source)
    if msg.get("From") is None:
        raise DataError("missing: not an e-mail without a From header", source=source, field="From")
    return msg


def header(msg: Message, name: str, source: str) -> str:
    """A header's decoded text ("" when absent); DataError when it cannot be decoded at all."""
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError, email.errors.HeaderParseError) as exc:
        raise DataError(f"cannot be read: {exc}", source=source, field=name) from None
    return " ".join(str(value).split()) if value is not None else ""


def sender(msg: Message, source: str) -> str:
    """The address of the From header, lower-case; DataError when there is none."""
    name, address = parseaddr(header(msg, "From", source))
    if "@" not in address:
        raise DataError(f"no address in {header(msg, 'From', source)!r}", source=source, field="From")
    return address.lower()


def clean_subject(subject: str) -> str:
    """The subject without reply/forward prefixes: "WG: AW: Shop down" -> "Shop down"."""
    return _PREFIX.sub("", subject).strip()


class _HtmlText(HTMLParser):
    """Visible text of an HTML body, a line break for each block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden += 1
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """The text a reader sees in an HTML mail, one paragraph per line."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.out).splitlines())
    return "\n".join(line for line in lines if line)


def body_text(msg: EmailMessage) -> str:
    """The mail's text: the text/plain body, else the HTML body as text ("" if neither)."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):
        # An unknown charset or broken transfer encoding: take the bytes as far as they go.
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    if not isinstance(content, str):
        return ""
    return html_to_text(content) if part.get_content_subtype() == "html" else content


@dataclass(frozen=True)
class Forwarded:
    """The original inside a forwarded mail: its sender, date, subject and text.

    how: "attached" (a message/rfc822 part) or "inline" (quoted under a forward marker);
    date_text: the date as written, when it could not be read as an RFC 5322 date.
    """

    how: str
    sender: str | None
    date: datetime | None
    date_text: str
    subject: str
    text: str


def forwarded(msg: EmailMessage, text: str) -> Forwarded | None:
    """The forwarded original in ``msg`` (``text`` is its body text), or None."""
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            inner = part.get_content()
            if isinstance(inner, EmailMessage):
                date_text = header(inner, "Date", "forwarded mail")
                return Forwarded("attached", parseaddr(header(inner, "From", "forwarded mail"))[1].lower() or None,
                                 mail_date(date_text), date_text, header(inner, "Subject", "forwarded mail"),
                                 body_text(inner))
    marker = _FORWARD_MARKER.search(text)
    if marker is None:
        return None
    rest = text[marker.end():].lstrip("\n").splitlines()
    found: dict[str, str] = {}
    end = 0
    for index, line in enumerate(rest[:12]):
        match = _QUOTED_HEADER.match(line)
        if match:
            kind = {"von": "from", "datum": "date", "sent": "date", "gesendet": "date",
                    "betreff": "subject"}.get(match[1].lower(), match[1].lower())
            found.setdefault(kind, match[2])
            end = index + 1
        elif found and not line.strip():
            break
    address = _ADDRESS.search(found.get("from", ""))
    date_text = found.get("date", "")
    return Forwarded("inline", address.group(0).lower() if address else None, mail_date(date_text), date_text,
                     found.get("subject", ""), "\n".join(rest[end:]))


def mail_date(text: str) -> datetime | None:
    """An RFC 5322 date ("Wed, 25 Nov 2026 02:14:07 +0100"), aware; None if it is not one.

    "-0000" (a time in UTC, local zone unknown) is UTC; a date without any zone is None: we
    could only guess where it was written.
    """
    if not text:
        return None
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        # parsedate_to_datetime gives "-0000" (UTC, RFC 5322 3.3) as naive too.
        return when.replace(tzinfo=timezone.utc) if re.search(r"-0000\s*(\(.*\))?$", text.strip()) else None
    return when


@dataclass(frozen=True)
class ReceivedHop:
    """One ``Received:`` header: the server that wrote it and when."""

    by: str | None
    at: datetime | None


def received_chain(msg: Message, source: str) -> list[ReceivedHop]:
    """The Received headers, oldest hop first (they are prepended, so the file lists newest first)."""
    hops = []
    for value in reversed(msg.get_all("Received") or []):
        text = " ".join(str(value).split())
        by = _BY.search(text.rpartition(";")[0] or text)
        hops.append(ReceivedHop(by.group(1).lower().rstrip(".") if by else None,
                                mail_date(text.rpartition(";")[2]) if ";" in text else None))
    return hops
