"""`runbook incident from-mail --imap` against a real Dovecot on loopback (TLS and STARTTLS)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.tickets.mailbox import imap_utf7
from tests.lab.imap import MailServer
from tests.tickets.helpers import MAIL, cli, imap_settings, incidents, record, write_inventory

GOOD = {  # the fixture mails a customer sent, and the incident each becomes
    "kategorie1-multipart.eml": ("ACME-20261125-0214", 1, "2026-11-25T02:14:09+01:00"),
    "html-only.eml": ("ACME-20261126-0742", 2, "2026-11-26T07:42:31+01:00"),
    "forwarded-attached.eml": ("ACME-20261125-0152", 1, "2026-11-25T01:52:10+01:00"),
    "forwarded-inline.eml": ("ACME-20261125-0305", 2, "2026-11-25T03:05:44+01:00"),
}
BAD = ("no-date.eml", "malformed.eml")


def fill(server: MailServer, folder: str, names: list[str]) -> None:
    server.empty(imap_utf7(folder))
    for name in names:
        server.deliver((MAIL / name).read_bytes(), imap_utf7(folder))


def test_the_mailbox_is_read_over_tls_and_each_customer_mail_opened(tmp_path: Path, mail_server: MailServer) -> None:
    folder = "Störungen"          # a folder name beyond ASCII travels as modified UTF-7
    fill(mail_server, folder, [*GOOD, "unknown-domain.eml", *BAD])
    inventory = write_inventory(tmp_path / "acme.yml", imap=imap_settings(mail_server, folder=folder))
    reports = tmp_path / "reports"
    env = {"RUNBOOK_IMAP_PASSWORD": mail_server.password}

    done = cli("incident", "from-mail", "--imap", "-i", inventory, "--since", "2026-01-01", "--yes",
               reports=reports, env=env)
    # Two mails could not be taken: that is said, and the exit status says so too (65).
    assert done.returncode == 65, done.stderr
    assert f"7 mail(s) in {folder} since 2026-01-01" in done.stderr
    assert "skipped, not from a customer: " in done.stderr and "max@example.org" in done.stderr
    assert "Date: missing" in done.stderr and "not an e-mail: no headers" in done.stderr
    assert incidents(reports) == sorted(i for i, _, _ in GOOD.values())
    for name, (incident, category, received) in GOOD.items():
        data = record(reports, incident)
        assert (data["category"], data["received"], data["channel"]) == (category, received, "email")
        kept = reports / "incidents" / incident / "original.eml"
        # Dovecot hands back the mail as it was delivered: byte for byte the customer's.
        assert kept.read_bytes() == (MAIL / name).read_bytes()
    # Read-only: no mail was marked as read, so the team's mail client still shows them new.
    assert not any(b"\\Seen" in flags for flags in mail_server.seen_flags(imap_utf7(folder)))

    again = cli("incident", "from-mail", "--imap", "-i", inventory, "--since", "2026-01-01", "--yes",
                reports=reports, env=env)
    assert "4 mail(s) taken already" in again.stderr
    assert incidents(reports) == sorted(i for i, _, _ in GOOD.values())


def test_starttls_and_without_a_terminal_nothing_is_opened(tmp_path: Path, mail_server: MailServer) -> None:
    folder = "Eingang-starttls"
    fill(mail_server, folder, ["kategorie1-multipart.eml", "html-only.eml"])
    inventory = write_inventory(tmp_path / "acme.yml",
                                imap=imap_settings(mail_server, security="starttls", folder=folder))
    reports = tmp_path / "reports"
    done = cli("incident", "from-mail", "--imap", "-i", inventory, "--since", "2026-01-01", reports=reports,
               env={"RUNBOOK_IMAP_PASSWORD": mail_server.password})
    assert done.returncode == 4, done.stderr
    assert "summary:   Störung Kategorie 1: Shop lädt nicht, Kasse hängt" in done.stdout
    assert "summary:   Langsame Antwortzeiten im Checkout - Bestellübersicht" in done.stdout
    assert "not a terminal: nothing opened (2 mail(s)); run with --yes to open them" in done.stderr
    assert incidents(reports) == []


@pytest.mark.parametrize("settings, env, says", [
    ({}, {"RUNBOOK_IMAP_PASSWORD": "wrong"}, "login as oncall refused: [AUTHENTICATIONFAILED]"),
    ({}, {}, "no password: set $RUNBOOK_IMAP_PASSWORD"),
    ({"cafile": None}, {"RUNBOOK_IMAP_PASSWORD": "x"}, "TLS failed: [SSL: CERTIFICATE_VERIFY_FAILED]"),
    ({"security": "plain"}, {"RUNBOOK_IMAP_PASSWORD": "x"}, "customer.mail.imap.security: must be tls or starttls"),
])
def test_mailbox_problems_are_one_clear_line(tmp_path: Path, mail_server: MailServer, settings: dict,
                                             env: dict, says: str) -> None:
    imap = {**imap_settings(mail_server), **settings}
    if imap["cafile"] is None:
        del imap["cafile"]
    inventory = write_inventory(tmp_path / "acme.yml", imap=imap)
    done = cli("incident", "from-mail", "--imap", "-i", inventory, "--yes", reports=tmp_path / "reports", env=env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode in (4, 78) and len(lines) == 1 and says in lines[0], done.stderr
    assert mail_server.password not in done.stderr


def test_the_mailbox_may_come_from_the_environment_alone(tmp_path: Path, mail_server: MailServer) -> None:
    folder = "Eingang-env"
    fill(mail_server, folder, ["forwarded-inline.eml"])
    inventory = write_inventory(tmp_path / "acme.yml")
    settings = imap_settings(mail_server, folder=folder)
    env = {f"RUNBOOK_IMAP_{key.upper()}": str(value) for key, value in settings.items()}
    env["RUNBOOK_IMAP_PASSWORD"] = mail_server.password
    done = cli("incident", "from-mail", "--imap", "-i", inventory, "--since", "2026-01-01", "--yes",
               reports=tmp_path / "reports", env=env)
    assert done.returncode == 0, done.stderr
    assert incidents(tmp_path / "reports") == ["ACME-20261125-0305"]
