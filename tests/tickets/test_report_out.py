"""The immediate report back out: a JIRA comment (updated, never duplicated), a transition, a reply mail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from runbook.reports.render import jira_text
from tests.conftest import lab_subnet
from tests.lab.fake_jira import FakeJira
from tests.support.reports import copy_runs
from tests.reports.journals import Scenario, write_scenario
from tests.support.smtp import Inbox
from tests.tickets.helpers import MAIL, cli, jira_env, record, write_inventory


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """ACME-412's night as journals: a sweep, the disk-pressure run, a sweep (tests/reports/journals.py)."""
    return write_scenario(tmp_path_factory.mktemp("night"))


def ticket(tmp_path: Path, jira: FakeJira, night: Scenario) -> tuple[Path, Path]:
    """ACME-412 taken from JIRA, with the night's runs; (inventory, reports)."""
    jira.add_issue("ACME-412", summary="Shop antwortet nicht, Kasse hängt", created="2026-11-25T02:14:07.000+0100")
    inventory = write_inventory(tmp_path / "acme.yml", jira=jira)
    reports = tmp_path / "reports"
    taken = cli("incident", "from-jira", "ACME-412", "-i", inventory, "--yes", reports=reports, env=jira_env())
    assert taken.returncode == 0, taken.stderr
    (reports / "runs").mkdir()
    copy_runs(night, reports / "runs")
    return inventory, reports


def test_the_report_is_posted_once_and_updated_after(tmp_path: Path, jira: FakeJira, night: Scenario) -> None:
    inventory, reports = ticket(tmp_path, jira, night)
    post = ("report", "immediate", "--incident", "ACME-412", "-i", inventory, "--jira-comment")
    first = cli(*post, reports=reports, env=jira_env())
    assert first.returncode == 0, first.stderr
    [comment] = jira.comments("ACME-412")
    assert f"ACME-412: comment {comment['id']} posted" in first.stderr
    assert first.stdout == ""        # it went to JIRA; `--format jira` previews it on stdout
    body = comment["body"]
    # The same sentences as the Markdown/HTML report, in JIRA's wiki markup and the customer's language.
    assert body.startswith("h2. Sofortbericht – Störung ACME-412\n")
    assert "h3. Befund\n* web1: https://shop.acme.example/ antwortet mit Status 502 statt 200\n" in body
    assert "h3. Maßnahmen (4)\n" in body
    assert "* 02:41 php-fpm auf web1 neu gestartet; der Shop antwortet wieder.\n" in body
    assert "* /var auf web1: 96 % → 75 % belegt, 4,2 GiB freigegeben.\n" in body
    preview = cli("report", "immediate", "--incident", "ACME-412", "-i", inventory, "--format", "jira",
                  reports=reports)
    assert preview.stdout == body    # built from the same journals: the same text
    assert record(reports, "ACME-412")["posts"][0]["ref"] == comment["id"]

    second = cli(*post, "--lang", "en", reports=reports, env=jira_env())
    assert second.returncode == 0, second.stderr
    assert f"ACME-412: comment {comment['id']} updated" in second.stderr
    [updated] = jira.comments("ACME-412")
    assert updated["id"] == comment["id"] and updated["body"].startswith("h2. Immediate report – incident ACME-412")
    assert [r.method for r in jira.requests() if "/comment" in r.path] == ["POST", "PUT"]

    # Someone deleted it in JIRA: the next post adds a new comment and remembers that one.
    jira.delete_comment("ACME-412", comment["id"])
    third = cli(*post, reports=reports, env=jira_env())
    assert third.returncode == 0, third.stderr
    [again] = jira.comments("ACME-412")
    assert again["id"] != comment["id"] and "(the earlier one is gone)" in third.stderr
    # The record keeps what was posted, the gone comment too; the newest is the one updated next.
    posts = [p for p in record(reports, "ACME-412")["posts"] if p["kind"] == "jira-comment"]
    assert [p["ref"] for p in posts] == [comment["id"], again["id"]]
    fourth = cli(*post, reports=reports, env=jira_env())
    assert f"ACME-412: comment {again['id']} updated" in fourth.stderr and len(jira.comments("ACME-412")) == 1


def test_the_issue_is_moved_by_transition_or_target_status(tmp_path: Path, jira: FakeJira, night: Scenario) -> None:
    inventory, reports = ticket(tmp_path, jira, night)
    move = ("report", "immediate", "--incident", "ACME-412", "-i", inventory, "--jira-transition")
    done = cli(*move, "in arbeit", reports=reports, env=jira_env())
    assert done.returncode == 0, done.stderr
    assert "ACME-412: moved to In Arbeit (Arbeit beginnen)" in done.stderr
    assert jira.status("ACME-412") == "In Arbeit"
    again = cli(*move, "In Arbeit", reports=reports, env=jira_env())
    assert again.returncode == 0 and "ACME-412: already in status In Arbeit" in again.stderr
    wrong = cli(*move, "Gelöst", reports=reports, env=jira_env())
    assert wrong.returncode == 4
    assert "no transition 'Gelöst' from status In Arbeit (available: Zurückstellen (-> Offen), Schließen " \
           "(-> Erledigt))" in wrong.stderr


class Relay:
    """A real SMTP server (aiosmtpd) on this run's loopback subnet."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.host = f"{lab_subnet()}.63"
        with socket.socket() as sock:
            sock.bind((self.host, 0))
            self.port = sock.getsockname()[1]
        self.controller = Controller(self.inbox, hostname=self.host, port=self.port)

    def env(self) -> dict[str, str]:
        return {"RUNBOOK_SMTP_HOST": self.host, "RUNBOOK_SMTP_PORT": str(self.port),
                "RUNBOOK_SMTP_STARTTLS": "false", "RUNBOOK_MAIL_FROM": "Bereitschaft <oncall@provider.example>"}


@pytest.fixture
def relay() -> Iterator[Relay]:
    server = Relay()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.mark.parametrize("language, words", [("de", "Sofortbericht"), ("en", "Immediate report")])
def test_the_reply_threads_under_the_customers_mail_in_their_language(
        tmp_path: Path, relay: Relay, language: str, words: str) -> None:
    inventory = write_inventory(tmp_path / "acme.yml", language=language)
    reports = tmp_path / "reports"
    taken = cli("incident", "from-mail", MAIL / "html-only.eml", "-i", inventory, "--yes", "--id", "ACME-77",
                reports=reports)
    assert taken.returncode == 0, taken.stderr
    # A real run joins the incident (the local host of the inventory), as the engineer's would.
    ran = cli("run", "playbooks/kernel-versions.yml", "-i", inventory, "--incident", "ACME-77", reports=reports)
    assert ran.returncode == 0, ran.stderr
    done = cli("report", "immediate", "--incident", "ACME-77", "-i", inventory, "--reply-to-mail",
               reports=reports, env=relay.env())
    assert done.returncode == 0, done.stderr
    [(mail_from, rcpt, raw)] = relay.inbox.messages
    reply = message_from_bytes(raw, policy=policy.default)
    assert rcpt == ["joerg.weiss@acme.example"] and mail_from == "oncall@provider.example"
    original_id = "<AM0PR07MB6417C2E4D1B0F6A0E5C3D9A1B8E40@AM0PR07MB6417.eurprd07.prod.outlook.com>"
    assert reply["In-Reply-To"] == original_id
    assert reply["References"] == f"<older-thread-1@acme.example> {original_id}"
    assert reply["Subject"] == "Re: Langsame Antwortzeiten im Checkout - Bestellübersicht"
    assert reply["Content-Language"] == language
    text = reply.get_body(("plain",)).get_content()
    html = reply.get_body(("html",)).get_content()
    assert text.startswith(f"{words} – ") and "ACME-77" in text and f"<h1>{words}" in html
    assert f"reply sent to Jörg Weiß <joerg.weiss@acme.example> via {relay.host}:{relay.port}" in done.stderr
    posts = record(reports, "ACME-77")["posts"]
    assert [(p["kind"], p["ref"]) for p in posts] == [("mail-reply", reply["Message-ID"])]


def test_no_reply_for_an_incident_that_came_by_ticket(tmp_path: Path, jira: FakeJira, night: Scenario,
                                                     relay: Relay) -> None:
    inventory, reports = ticket(tmp_path, jira, night)
    done = cli("report", "immediate", "--incident", "ACME-412", "-i", inventory, "--reply-to-mail",
               reports=reports, env=relay.env())
    assert done.returncode == 4
    assert "incident ACME-412 has no original mail to answer" in done.stderr
    assert relay.inbox.messages == []


@pytest.mark.parametrize("text, markup", [
    ("*fett* und _kursiv_", "\\*fett\\* und \\_kursiv\\_"),
    ("{code}rm -rf /{code}", "\\{code\\}rm \\-rf /\\{code\\}"),
    ("[klick|https://evil.example] !bild.png!", "\\[klick\\|https://evil.example\\] \\!bild.png\\!"),
    ("h1. Überschrift", "h1\\. Überschrift"),
    ("Shop (x) kaputt :)", "Shop \\(x) kaputt \\:)"),
    ("2026-11-25 -weg- 4,2 GiB", "2026-11-25 \\-weg\\- 4,2 GiB"),
])
def test_text_from_servers_and_customers_stays_text_in_jira_markup(text: str, markup: str) -> None:
    assert jira_text(text) == markup
