"""notify.hoster against the lab: down1 refuses connections, tarpit1 accepts TCP but never
speaks SSH, web1 answers; the notice goes through a real SMTP server (aiosmtpd) or as an .eml.

The promise: one message per outage and provider naming every affected host, from the
customer's ``smtp.from``, with our contact, callback number and customer number, times as the
provider's language writes them; never the same host twice for one outage.
"""

from __future__ import annotations

import email
import http.server
import json
import re
import socket
import threading
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.lab import Lab
from tests.lab.night import OPERATOR, SIGNATURE
from tests.lab.services import run_playbook
from tests.support.smtp import Inbox, free_port

NOTIFY = """
name: on-call reachability
steps:
  - name: health
    action: health.check
    params: {facts: [load]}
    on_failure: continue
  - name: notify
    action: notify.hoster
    params: {probe_timeout: 2s}
"""
SENDER = "Muster IT-Service Bereitschaft <bereitschaft@service.example>"
GERMAN_TIME = r"\d\d\.\d\d\.20\d\d, \d\d:\d\d Uhr \((MEZ|MESZ)\)"
ENGLISH_TIME = r"\d{1,2} [A-Z][a-z]{2} 20\d\d, \d\d:\d\d (CET|CEST) \(\d\d:\d\d UTC\)"


def _emls(runs: Path) -> list[Path]:
    return sorted(runs.glob("*/artifacts/*/hoster-notice-*.eml"))


def _read(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def _subject(msg: EmailMessage) -> str:
    # Python folds a long subject right after "Subject:" and keeps the fold's space when
    # parsing it back; a mail client shows the subject without it
    return str(msg["Subject"]).strip()


def _body(msg: EmailMessage) -> str:
    return str(msg.get_content()).replace("\r\n", "\n")


def _state(tmp_path: Path) -> list[dict[str, Any]]:
    return json.loads((tmp_path / "reports" / "state" / "hoster-notifications.json").read_text())["sent"]


def _closed_port() -> int:
    with socket.socket() as s:      # a port nothing listens on: "SSH is down"
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server on loopback; the inventory names it (``customer.smtp``)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def _shop_inventory(lab: Lab, path: Path, *, smtp_port: int | None = None, **hoster: Any) -> dict[str, Any]:
    """The lab inventory with our operator and signature, the provider's customer number and
    down1's server id; with ``smtp_port`` the customer's relay and ``smtp.from``."""
    document = yaml.safe_load(lab.write_inventory(path).read_text())
    document["customer"]["contacts"]["hoster"].update({"customer_number": "KD-4711", **hoster})
    if smtp_port is not None:
        document["customer"]["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "starttls": False, "from": SENDER}
    document["operator"] = OPERATOR
    document["signature"] = SIGNATURE
    document["hosts"]["down1"]["vars"] = {"hoster_server_id": "vServer 88213"}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return document


def test_two_hosts_down_are_one_notice_naming_both_and_a_later_one_its_own(lab: Lab, tmp_path: Path,
                                                                           smtp: tuple[int, Inbox]) -> None:
    port, inbox = smtp
    inventory = tmp_path / "inv.yml"
    document = _shop_inventory(lab, inventory, smtp_port=port)
    runs = tmp_path / "reports" / "runs"

    first, _ = run_playbook(inventory, NOTIFY, runs, limit="web1,down1,tarpit1")

    outcomes = {o.host: o for o in first.outcomes if o.step_name == "notify"}
    assert outcomes["down1"].outcome == "changed", outcomes["down1"].message
    assert outcomes["tarpit1"].outcome == "ok" and "with down1" in outcomes["tarpit1"].message
    assert outcomes["web1"].outcome == "ok" and "answers at the network level" in outcomes["web1"].message
    [(mail_from, rcpt, raw)] = inbox.messages
    msg = _read(raw)
    assert mail_from == "bereitschaft@service.example" and rcpt == ["noc@lab.example"]
    assert msg["From"] == SENDER and msg["To"] == "noc@lab.example"
    assert re.fullmatch(f"Kundennummer KD-4711 – Störungsmeldung: down1 und tarpit1 nicht erreichbar seit "
                        f"{GERMAN_TIME}", _subject(msg)), _subject(msg)
    body = _body(msg)
    down, tarpit = lab.unreachable[0], lab.tarpit[0]
    # each host with its address, server id, failing layer, since when and what still answers
    assert f"Server down1 (Adresse {down}, Server-ID vServer 88213)" in body
    assert f"Server tarpit1 (Adresse {tarpit})" in body
    down_block, tarpit_block = body.split("Server tarpit1")
    assert "Fehler auf Ebene: TCP" in down_block and "Connection refused" in down_block
    assert "Fehler auf Ebene: SSH" in tarpit_block and "Port 2222 nimmt Verbindungen an" in tarpit_block
    assert len(re.findall(f"nicht erreichbar seit: {GERMAN_TIME}", body)) == 2
    assert body.count("antwortet noch: nichts, was wir von außen prüfen können") == 2
    assert "web1" not in body
    # who we are and how to reach us
    assert "Unsere Kundennummer bei Ihnen: KD-4711" in body
    assert "Rückruf bitte unter +49 711 4000-0." in body
    assert body.rstrip().endswith("Eva Berger\nMuster IT-Service GmbH, Betrieb und Bereitschaft\n"
                                  "E-Mail: bereitschaft@service.example\nTelefon: +49 711 4000-0")
    assert [(e["host"], e["hosts"], e["via"]) for e in _state(tmp_path)] == [
        ("down1", ["down1", "tarpit1"], "smtp"), ("tarpit1", ["down1", "tarpit1"], "smtp")]

    # within the window, for the same outage: nothing
    second, _ = run_playbook(inventory, NOTIFY, runs, limit="web1,down1,tarpit1")
    again = {o.host: o for o in second.outcomes if o.step_name == "notify"}
    assert [again[h].outcome for h in ("down1", "tarpit1")] == ["ok", "ok"]
    assert all("already told" in again[h].message for h in ("down1", "tarpit1"))
    assert len(inbox.messages) == 1

    # a third host goes down later: a notice of its own, about it alone
    document["hosts"]["shop1"] = {"address": "127.0.0.1", "port": _closed_port(), "roles": ["web"]}
    inventory.write_text(yaml.safe_dump(document, sort_keys=False))
    third, _ = run_playbook(inventory, NOTIFY, runs, limit="down1,tarpit1,shop1")
    assert {o.host: o.outcome for o in third.outcomes if o.step_name == "notify"} == {
        "down1": "ok", "tarpit1": "ok", "shop1": "changed"}
    assert len(inbox.messages) == 2
    later = _read(inbox.messages[1][2])
    assert "shop1 nicht erreichbar" in _subject(later) and later["From"] == SENDER
    assert "Server shop1 (Adresse 127.0.0.1)" in _body(later)
    assert "down1" not in _body(later) and "tarpit1" not in _body(later)


def test_an_english_provider_reads_english_times_with_utc(lab: Lab, tmp_path: Path) -> None:
    inventory = tmp_path / "inv.yml"
    _shop_inventory(lab, inventory, language="en")      # the customer writes German, the provider English
    runs = tmp_path / "reports" / "runs"
    result, _ = run_playbook(inventory, NOTIFY, runs, limit="down1")
    assert result.last_for("down1").outcome == "changed"
    [eml] = _emls(runs)
    msg = _read(eml.read_bytes())
    assert re.fullmatch(f"Customer number KD-4711 – fault notice: down1 unreachable since {ENGLISH_TIME}",
                        _subject(msg)), _subject(msg)
    body = _body(msg)
    assert "failing layer: TCP" in body and "Please call us back on +49 711 4000-0." in body
    assert "Uhr" not in body and "Kundennummer" not in body
    # no relay configured: an .eml only, and runbook's own sender (no smtp.from to use)
    assert [e["via"] for e in _state(tmp_path)] == ["eml"]
    # a second run within the window prepares no second notice, and does not claim the provider
    # was told: the engineer reads where the prepared one waits to be sent
    again, _ = run_playbook(inventory, NOTIFY, runs, limit="down1")
    said = again.last_for("down1")
    assert said.outcome == "ok" and len(_emls(runs)) == 1
    assert said.message.startswith("a notice to Lab Hosting about this outage was already prepared at "), said.message
    assert f"not sent ({eml}): not again" in said.message and "told" not in said.message


@pytest.fixture
def http_only() -> Iterator[str]:
    """An HTTP server on a loopback port: a host whose web still answers while SSH does not."""
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"shop ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_by_smtp_from_the_environment_saying_what_still_answers(lab: Lab, tmp_path: Path, http_only: str,
                                                                smtp: tuple[int, Inbox],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    port, inbox = smtp
    monkeypatch.setenv("RUNBOOK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RUNBOOK_SMTP_PORT", str(port))
    monkeypatch.setenv("RUNBOOK_SMTP_STARTTLS", "false")
    path = lab.write_inventory(tmp_path / "inv.yml")
    document = yaml.safe_load(path.read_text())
    document["customer"]["language"] = "en"
    document["hosts"]["shop1"] = {"address": "127.0.0.1", "port": _closed_port(), "roles": ["web"],
                                  "http_checks": [http_only]}
    path.write_text(yaml.safe_dump(document))
    runs = tmp_path / "reports" / "runs"
    for _ in range(2):
        run_playbook(path, NOTIFY, runs, limit="shop1")
    [(_, _, raw)] = inbox.messages
    msg = _read(raw)
    body = _body(msg)
    assert _subject(msg).startswith("Fault notice: shop1 unreachable since")   # no customer number known
    assert f"still answers:\n    {http_only} (HTTP 200)" in body
    assert "does not answer" not in body
    assert [(e["host"], e["via"]) for e in _state(tmp_path)] == [("shop1", "smtp")]


def test_a_reachable_host_is_not_reported(lab: Lab, tmp_path: Path) -> None:
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    result, _ = run_playbook(inventory, NOTIFY, tmp_path / "runs", limit="web1")
    outcome = result.last_for("web1")
    assert outcome.outcome == "ok" and "answers at the network level" in outcome.message
    assert _emls(tmp_path / "runs") == []


def test_check_mode_shows_one_notice_and_sends_and_records_nothing(lab: Lab, tmp_path: Path) -> None:
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    runs = tmp_path / "reports" / "runs"
    result, _ = run_playbook(inventory, NOTIFY, runs, limit="down1,tarpit1", check=True)
    outcome = result.last_for("down1")
    assert outcome.outcome == "changed", outcome.message
    assert outcome.message.startswith("would: notify Lab Hosting <noc@lab.example>: down1, tarpit1 unreachable")
    assert result.last_for("tarpit1").outcome == "ok"
    assert _emls(runs) == [] and not (tmp_path / "reports" / "state").exists()


def test_a_provider_without_e_mail_fails_the_step_saying_whom_to_call(lab: Lab, tmp_path: Path) -> None:
    path = lab.write_inventory(tmp_path / "inv.yml")
    document = yaml.safe_load(path.read_text())
    del document["customer"]["contacts"]["hoster"]["email"]
    path.write_text(yaml.safe_dump(document))
    runs = tmp_path / "reports" / "runs"
    result, _ = run_playbook(path, NOTIFY, runs, limit="down1")
    outcome = result.last_for("down1")
    assert outcome.outcome == "failed"
    assert "no e-mail" in outcome.message and "call +49 711 000000 about down1" in outcome.message
    assert _emls(runs) == [] and not (tmp_path / "reports" / "state").exists()
