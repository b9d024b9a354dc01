"""Reading customers' mails (pure logic, real .eml files): who, when, what, which category."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from runbook.errors import DataError
from runbook.inventory import load_inventory
from runbook.tickets.mail_intake import UnknownSender, category_of, draft_from_mail
from runbook.tickets.mailbox import imap_utf7
from runbook.tickets.mailtext import html_to_text, mail_date
from runbook.tickets.settings import mail_settings
from tests.tickets.helpers import MAIL, write_inventory


@pytest.fixture
def customers(tmp_path: Path) -> list:
    return list(load_inventory([write_inventory(tmp_path / "acme.yml")]).customers.values())


@pytest.mark.parametrize("name, received, received_from, category, category_from, summary, reporter", [
    # Thunderbird, multipart/alternative, RFC 2047 UTF-8 subject: the time our MX accepted it,
    # not the customer's Date (02:13:58) nor our mailbox delivery (02:16:41).
    ("kategorie1-multipart.eml", "2026-11-25T02:14:09+01:00", "Received: by mx1.provider.example", 1,
     "subject says 'Kategorie 1'", "Störung Kategorie 1: Shop lädt nicht, Kasse hängt",
     "Anna Schmidt <anna.schmidt@acme.example>"),
    # Outlook, HTML only, ISO-8859-1 subject and sender; "[P2]" stays a category tag.
    ("html-only.eml", "2026-11-26T07:42:31+01:00", "Received: by mx1.provider.example", 2,
     "subject says '[P2]'", "Langsame Antwortzeiten im Checkout - Bestellübersicht",
     "Jörg Weiß <joerg.weiss@acme.example>"),
    # A colleague forwarded the customer's mail as an attachment hours later: the customer's.
    ("forwarded-attached.eml", "2026-11-25T01:52:10+01:00", "Date of the forwarded original (attached)", 1,
     "subject says 'Prio: hoch'", "Prio: hoch – Datenbank nicht erreichbar", "it@acme.example"),
    ("forwarded-inline.eml", "2026-11-25T03:05:44+01:00", "Date of the forwarded original (inline)", 2,
     "subject says 'Kategorie 2'", "Kategorie 2: Newsletter-Versand bleibt hängen", "anna.schmidt@acme.example"),
])
def test_a_mail_becomes_a_draft_with_where_each_value_came_from(
        customers: list, name: str, received: str, received_from: str, category: int, category_from: str,
        summary: str, reporter: str) -> None:
    raw = (MAIL / name).read_bytes()
    draft = draft_from_mail(raw, customers, source=name)
    assert draft.customer.slug == "acme"
    assert draft.received == datetime.fromisoformat(received)
    assert draft.received_from == received_from
    assert (draft.category, draft.category_from) == (category, category_from)
    assert draft.summary == summary
    assert draft.source.reporter == reporter
    assert draft.source.kind == "email" and draft.source.ref.startswith("<")
    assert draft.originals == {"original.eml": raw}   # kept byte for byte
    assert draft.id == f"ACME-{draft.received:%Y%m%d-%H%M}"


def test_without_our_servers_named_the_last_hop_counts(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "acme.yml", mail={})
    customers = list(load_inventory([inventory]).customers.values())
    draft = draft_from_mail((MAIL / "kategorie1-multipart.eml").read_bytes(), customers, source="m")
    assert draft.received == datetime.fromisoformat("2026-11-25T02:16:41+01:00")
    assert draft.received_from == "Received: by imap.provider.example (the last hop)"


def test_the_html_only_body_is_read_as_text_without_its_script(customers: list) -> None:
    raw = (MAIL / "html-only.eml").read_bytes()
    # Without "[P2]" in the subject the body decides: it says "Prio: mittel", and its script
    # holds "Kategorie 3", which a reader never sees, so no rule may find it (else: ambiguous).
    draft = draft_from_mail(raw.replace(b"=5BP2=5D_", b""), customers, source="m")
    assert (draft.category, draft.category_from) == (2, "body says 'Prio: mittel'")
    text = html_to_text("<html><head><script>var x = 'Kategorie 3';</script></head><body><div>Prio: "
                        "mittel</div><p>Gr&uuml;&szlig;e<br>J&ouml;rg</p></body></html>")
    assert text == "Prio: mittel\nGrüße\nJörg"


@pytest.mark.parametrize("subject, body, category, why", [
    ("Kategorie 1: Shop down", "", 1, "subject says 'Kategorie 1'"),
    ("[P3] Tippfehler im Impressum", "", 3, "subject says '[P3]'"),
    ("Shop langsam", "Priorität: hoch, bitte sofort", 1, "body says 'Priorität: hoch'"),
    ("Kat. 2 Suche kaputt", "", 2, "subject says 'Kat. 2'"),
    ("Shop down", "nichts dazu gesagt", None, "no rule matched the subject or body"),
    ("Kategorie 1 oder Kategorie 2?", "", None, "the subject names several categories: 'Kategorie 1' (1), "
                                               "'Kategorie 2' (2)"),
    ("Kategorie 12 Artikel fehlen", "", None, "no rule matched the subject or body"),
])
def test_category_rules_subject_first_then_body_and_ambiguity_is_asked(
        customers: list, subject: str, body: str, category: int | None, why: str) -> None:
    rules = mail_settings(customers[0]).category_rules
    assert category_of(rules, [subject], [body]) == (category, why)


def test_the_inventory_rules_replace_the_defaults(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "acme.yml", mail={"category_rules": [
        {"match": r"\bSEV-?1\b", "category": 1}, {"match": "Kategorie 1", "category": 3}]})
    rules = mail_settings(next(iter(load_inventory([inventory]).customers.values()))).category_rules
    assert category_of(rules, ["SEV1: checkout"], []) == (1, "subject says 'SEV1'")
    assert category_of(rules, ["Kategorie 1"], []) == (3, "subject says 'Kategorie 1'")


@pytest.mark.parametrize("rules, field", [
    ([{"match": "([", "category": 1}], "customer.mail.category_rules[0].match"),
    ([{"match": "P1", "category": 4}], "customer.mail.category_rules[0].category"),
    ("Kategorie 1", "customer.mail.category_rules"),
])
def test_a_bad_rule_names_file_line_and_field(tmp_path: Path, rules: object, field: str) -> None:
    inventory = write_inventory(tmp_path / "acme.yml", mail={"category_rules": rules})
    customer = next(iter(load_inventory([inventory]).customers.values()))
    with pytest.raises(Exception) as raised:
        mail_settings(customer)
    assert f"{inventory}:" in str(raised.value) and field in str(raised.value)


def test_bad_mails_are_data_errors_naming_the_file_and_header(customers: list) -> None:
    with pytest.raises(DataError, match=r"^m\.eml: Date: missing"):
        draft_from_mail((MAIL / "no-date.eml").read_bytes(), customers, source="m.eml")
    with pytest.raises(UnknownSender, match=r"From: sender max@example\.org: no customer has the domain"):
        draft_from_mail((MAIL / "unknown-domain.eml").read_bytes(), customers, source="m.eml")
    with pytest.raises(DataError, match="not an e-mail"):
        draft_from_mail((MAIL / "malformed.eml").read_bytes(), customers, source="m.eml")
    with pytest.raises(DataError, match="empty file"):
        draft_from_mail(b"\r\n", customers, source="m.eml")


def test_a_mail_without_message_id_is_known_by_its_bytes(customers: list) -> None:
    raw = (MAIL / "kategorie1-multipart.eml").read_bytes().replace(b"Message-ID:", b"X-Old-Message-ID:")
    first = draft_from_mail(raw, customers, source="m")
    assert first.source.ref.startswith("sha256:")
    assert draft_from_mail(raw, customers, source="m").source.ref == first.source.ref


def test_mail_dates() -> None:
    assert mail_date("Wed, 25 Nov 2026 01:14:07 -0000") == datetime(2026, 11, 25, 1, 14, 7, tzinfo=timezone.utc)
    assert mail_date("Wed, 25 Nov 2026 02:14:07 +0100").utcoffset().total_seconds() == 3600
    assert mail_date("Wed, 25 Nov 2026 02:14:07") is None          # no zone: we would only guess
    assert mail_date("Mittwoch, 25. November 2026 02:14") is None


def test_imap_folder_names_in_modified_utf7() -> None:
    assert imap_utf7("INBOX") == "INBOX"
    assert imap_utf7("Störungen") == "St&APY-rungen"
    assert imap_utf7("Kunden/ACME & Co") == "Kunden/ACME &- Co"
    assert imap_utf7("日本語") == "&ZeVnLIqe-"
