"""A customer's e-mail -> a ``Draft``: who, when it arrived, what, which category.

- customer: the sender's domain (``customer.mail_domains`` or the domain of
  ``customer.contacts.customer``). A mail forwarded to us by a colleague is the customer's
  whose address is on the forwarded original.
- received: the first ``Received:`` header written by one of our own mail servers
  (``customer.mail.received_by``; without that list, the last hop, which is the server that
  put the mail into our mailbox), else the ``Date:`` header. For a colleague's forward, the
  original's date: that is when the customer's report reached us.
- summary: the subject without Re:/AW:/WG:/Fwd: prefixes.
- category: the customer's rules (``customer.mail.category_rules``, else the defaults in
  ``runbook.tickets.settings``) over the subject, then over the body. Rules naming two
  different categories in the same place, or none, leave it to the engineer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.message import EmailMessage

from runbook.errors import DataError
from runbook.incidents import IncidentSource
from runbook.inventory import Customer
from runbook.tickets.intake import Draft
from runbook.tickets.mailtext import (
    Forwarded,
    ReceivedHop,
    body_text,
    clean_subject,
    forwarded,
    header,
    mail_date,
    read_mail,
    received_chain,
    sender,
)
from runbook.tickets.settings import CategoryRule, MailSettings, customer_of_domain, mail_settings

ORIGINAL = "original.eml"


class UnknownSender(DataError):
    """The mail is from no customer's domain (in a mailbox: someone else's mail, skipped)."""


def message_ref(raw: bytes, message_id: str) -> str:
    """The mail's Message-ID, or (for a mail without one) a hash of its bytes: what makes it unique."""
    return message_id.strip() or "sha256:" + hashlib.sha256(raw).hexdigest()


def category_of(rules: Sequence[CategoryRule], subjects: Iterable[str], bodies: Iterable[str]
                ) -> tuple[int | None, str]:
    """The category the rules find, and where; (None, why) when none or an ambiguous one."""
    for place, texts in (("subject", list(subjects)), ("body", list(bodies))):
        hits: dict[int, str] = {}
        for text in texts:
            for rule in rules:
                match = rule.pattern.search(text)
                if match:
                    hits.setdefault(rule.category, match.group(0))
        if len(hits) == 1:
            (category, said), = hits.items()
            return category, f"{place} says {' '.join(said.split())!r}"
        if len(hits) > 1:
            said = ", ".join(f"{' '.join(v.split())!r} ({k})" for k, v in sorted(hits.items()))
            return None, f"the {place} names several categories: {said}"
    return None, "no rule matched the subject or body"


def received_time(settings: MailSettings, chain: Sequence[ReceivedHop], date: datetime | None, date_text: str,
                  source: str) -> tuple[datetime, str]:
    """When the mail reached us, and which header said so (see the module docstring)."""
    ours = [hop for hop in chain if hop.at is not None and hop.by is not None and any(
        hop.by == name or hop.by.endswith("." + name) for name in settings.received_by)]
    if ours:
        return ours[0].at, f"Received: by {ours[0].by}"
    if not settings.received_by:
        timed = [hop for hop in chain if hop.at is not None]
        if timed:
            return timed[-1].at, f"Received: by {timed[-1].by or '?'} (the last hop)"
    if date is not None:
        return date, "Date: header"
    if date_text:
        raise DataError(f"not a date with a time zone: {date_text!r}, and no Received header of our "
                        "mail servers; give the time with `runbook incident open --received`",
                        source=source, field="Date")
    raise DataError("missing: the mail has no Date header and no Received header of our mail servers, so "
                    "when it arrived is unknown; give the time with `runbook incident open --received`",
                    source=source, field="Date")


def draft_from_mail(raw: bytes, customers: Sequence[Customer], *, source: str,
                    category: int | None = None, incident_id: str | None = None) -> Draft:
    """The draft of an incident from the bytes of one mail (an .eml file or an IMAP fetch).

    source: names the mail in messages (the file, or "imap:INBOX/42"); category: the
    engineer's choice, which wins over the rules; incident_id: the ID to give it (default
    ``<SLUG>-<yyyymmdd>-<HHMM>`` of the received time, local to the contract).
    """
    msg = read_mail(raw, source)
    address = sender(msg, source)
    text = body_text(msg)
    original = forwarded(msg, text)
    notes: list[str] = []
    settings = customer_of_domain(customers, address.rpartition("@")[2])
    by_forward = False
    if settings is None and original is not None and original.sender:
        settings = customer_of_domain(customers, original.sender.rpartition("@")[2])
        by_forward = settings is not None
    if settings is None:
        known = sorted({d for c in customers for d in mail_settings(c).domains})
        raise UnknownSender(f"sender {address}: no customer has the domain {address.rpartition('@')[2]} "
                        f"(customer.mail_domains or contacts.customer; known: {', '.join(known) or 'none'})",
                        source=source, field="From")
    reporter = header(msg, "From", source)
    if by_forward:
        assert original is not None
        notes.append(f"forwarded by {address}; the customer's original is from {original.sender}")
        reporter = original.sender or reporter
        received, received_from = _forwarded_time(original, settings, msg, source, notes)
    else:
        date_text = header(msg, "Date", source)
        received, received_from = received_time(settings, received_chain(msg, source), mail_date(date_text),
                                                date_text, source)
    raw_subject = header(msg, "Subject", source)
    subject = clean_subject(raw_subject)
    if not subject and original is not None:
        subject = clean_subject(original.subject)
    if category is None:
        # The subject as written: "[P1]" is a tag clean_subject drops from the summary.
        category, why = category_of(settings.category_rules,
                                    [raw_subject] + ([original.subject] if original else []),
                                    [text] + ([original.text] if original else []))
    else:
        why = "given with --category"
    for defect in msg.defects:
        notes.append(f"the mail is damaged: {type(defect).__name__}")
    ref = message_ref(raw, header(msg, "Message-ID", source))
    tz = settings.customer.contract.timezone
    wanted = incident_id or f"{settings.customer.slug.upper()}-{received.astimezone(tz):%Y%m%d-%H%M}"
    return Draft(id=wanted, customer=settings.customer, category=category, category_from=why,
                 received=received, received_from=received_from, channel="email",
                 summary=subject or "(no subject)",
                 source=IncidentSource(kind="email", ref=ref, reporter=reporter, original=ORIGINAL),
                 originals={ORIGINAL: raw}, notes=tuple(notes))


def _forwarded_time(original: Forwarded, settings: MailSettings, msg: EmailMessage, source: str,
                    notes: list[str]) -> tuple[datetime, str]:
    if original.date is not None:
        return original.date, f"Date of the forwarded original ({original.how})"
    if original.date_text:
        notes.append(f"the forwarded original's date {original.date_text!r} could not be read; "
                     "the forward's own time is used: correct it with `runbook incident edit` if needed")
    date_text = header(msg, "Date", source)
    return received_time(settings, received_chain(msg, source), mail_date(date_text), date_text, source)
