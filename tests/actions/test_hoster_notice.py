"""The provider notice's text (runbook.actions.hoster_notice): pure, from fixed values.

The lab tests (test_notify_hoster.py) send real notices; here the wording is pinned where a
lab run cannot choose its values: a winter and a summer time, both languages, an address that
needs DNS, a probe that timed out.
"""

from __future__ import annotations

import string
from datetime import datetime, timezone

import pytest

from runbook.actions.hoster_notice import DownHost, LayerCheck, Notice, OurContact, draft
from runbook.facts.reachability import ProbeResult
from runbook.inventory.model import HosterContact
from runbook.reports.messages.notice import NOTICE

WINTER = datetime(2026, 12, 3, 1, 14, tzinfo=timezone.utc)
SUMMER = datetime(2026, 7, 3, 0, 14, tzinfo=timezone.utc)
CONTACT = OurContact(name="Eva Berger", company="Muster IT-Service GmbH", team="Bereitschaft",
                     email="bereitschaft@service.example", phone="+49 711 4000-0")


def _web1(since: datetime) -> DownHost:
    return DownHost("web1", "web1.shop.example", 22, since,
                    (LayerCheck("dns", True, "resolves", peer="10.0.0.11"),
                     LayerCheck("tcp", False, "TCP connect failed: timed out", reason="timed out")),
                    (ProbeResult("http", "https://shop.example/", True, "status 200", http_status=200),
                     ProbeResult("tcp", "10.0.0.11:443", False, "timed out", reason="timeout")),
                    server_id="vs-4711", probe_timeout=5.0)


def _notice(lang: str, since: datetime, tz: str | None = "Europe/Berlin") -> Notice:
    db1 = DownHost("db1", "10.0.0.13", 22, since, (LayerCheck("dns", True, "resolves", peer="10.0.0.13"),
                                                   LayerCheck("tcp", False, "refused", reason="Connection refused")))
    return Notice(HosterContact("Hostco", "noc@hostco.example"), "Shop GmbH", (_web1(since), db1), CONTACT, lang,
                  tz, number="KD-4711", incident="INC-20261203-1")


@pytest.mark.parametrize("lang, since, when", [
    ("de", WINTER, "03.12.2026, 02:14 Uhr (MEZ)"),
    ("de", SUMMER, "03.07.2026, 02:14 Uhr (MESZ)"),
    ("en", WINTER, "3 Dec 2026, 02:14 CET (01:14 UTC)"),
    ("en", SUMMER, "3 Jul 2026, 02:14 CEST (00:14 UTC)"),
])
def test_times_are_written_as_the_recipient_reads_them_in_the_contract_zone(lang: str, since: datetime,
                                                                            when: str) -> None:
    subject, body = draft(_notice(lang, since))
    assert subject.endswith(when)
    assert body.count(when) == 3    # the first sighting, and each host's


def test_without_a_contract_zone_times_are_utc() -> None:
    assert draft(_notice("de", WINTER, None))[0].endswith("03.12.2026, 01:14 Uhr (UTC)")
    assert draft(_notice("en", WINTER, None))[0].endswith("3 Dec 2026, 01:14 UTC")


def test_the_german_notice_says_each_host_and_who_we_are() -> None:
    subject, body = draft(_notice("de", WINTER))
    assert subject.startswith("Kundennummer KD-4711 – Störungsmeldung: web1 und db1 nicht erreichbar seit")
    assert "die folgenden 2 Server unseres Kunden Shop GmbH sind von uns aus nicht erreichbar" in body
    assert "Unsere Kundennummer bei Ihnen: KD-4711\nUnser Vorgang: INC-20261203-1" in body
    web1, db1 = body.split("\nServer db1")
    assert "Server web1 (Adresse web1.shop.example, Server-ID vs-4711)" in web1
    assert "DNS: web1.shop.example wird zu 10.0.0.11 aufgelöst" in web1
    assert "TCP: keine Verbindung zu Port 22 (keine Antwort innerhalb von 5 s)" in web1
    assert "antwortet noch:\n    https://shop.example/ (HTTP 200)" in web1
    assert "antwortet nicht:\n    Port 10.0.0.11:443: keine Antwort innerhalb von 5 s" in web1
    # an IP address needs no DNS line; the system's own words for the failure stay as they are
    assert "DNS" not in db1 and "TCP: keine Verbindung zu Port 22 (Connection refused)" in db1
    assert "Rückruf bitte unter +49 711 4000-0." in body
    assert body.endswith("Mit freundlichen Grüßen\nEva Berger\nMuster IT-Service GmbH, Bereitschaft\n"
                         "E-Mail: bereitschaft@service.example\nTelefon: +49 711 4000-0\n")


def test_one_host_is_said_in_the_singular_and_a_missing_contact_leaves_no_empty_lines() -> None:
    notice = Notice(HosterContact("Hostco", "noc@hostco.example"), "Shop GmbH", (_web1(WINTER),), OurContact(), "en")
    subject, body = draft(notice)
    assert subject == "Fault notice: web1 unreachable since 3 Dec 2026, 01:14 UTC"
    assert "the following server of our customer Shop GmbH cannot be reached from our side since" in body
    assert "call us back" not in body and "Customer number" not in body
    assert body.endswith("Kind regards\n")


def test_both_notice_catalogues_have_the_same_ids_and_fields() -> None:
    de, en = NOTICE["de"], NOTICE["en"]
    assert set(de) == set(en)

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    assert [k for k in en if k != "time" and fields(en[k]) != fields(de[k])] == []
    # German gives the contract's zone only; English adds UTC
    assert fields(de["time"]) == fields(en["time"]) - {"utc"}
