"""Delivering a report: a real SMTP server (aiosmtpd) on loopback receives and we parse it."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from runbook.errors import ConfigError
from runbook.mail import MailError, SmtpSettings, build_message, send, write_eml
from runbook.reports import Report, mail_subject, render_immediate
from tests.support.smtp import Inbox, free_port

SENDER = "Bereitschaft Müller <oncall@provider.example>"
TO = ["it@acme.example", "leitung@acme.example"]
CC = ["ticket@provider.example"]
DATE = datetime(2026, 11, 25, 2, 55, tzinfo=timezone.utc)


def _start(inbox: Inbox, **kwargs: Any) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller, port = _start(inbox)
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a certificate for the STARTTLS server")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"oncall"
              and auth_data.password == b"s3cret-\xc3\xa4")
        if ok:
            inbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)   # handled=False: the server answers 535

    controller, port = _start(inbox, tls_context=context, require_starttls=True, auth_required=True,
                              authenticator=authenticator)
    try:
        yield inbox, port, cert
    finally:
        controller.stop()


def report_message(report: Report) -> EmailMessage:
    return build_message(mail_subject(report, "immediate", "de"), render_immediate(report, "de", "text"),
                         render_immediate(report, "de", "html"), sender=SENDER, to=TO, cc=CC, date=DATE,
                         message_id="<acme-412@provider.example>")


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_message_is_utf8_with_encoded_german_subject(report: Report) -> None:
    msg = report_message(report)
    raw = msg.as_bytes()
    head = raw.split(b"\n\n", 1)[0]
    head.decode("ascii")                        # every header is 7-bit on the wire
    assert b"=?utf-8?" in head                  # the Umlaut is RFC 2047-encoded
    back = parse(raw)
    assert back["Subject"] == "ACME GmbH: Sofortbericht – Störung ACME-412"
    assert back["From"] == SENDER
    assert back.get_content_type() == "multipart/alternative"
    text = back.get_body(("plain",))
    html = back.get_body(("html",))
    assert text.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "02:41 php-fpm auf web1 neu gestartet; der Shop antwortet wieder." in " ".join(text.get_content().split())
    assert "<h1>Sofortbericht – Störung ACME-412</h1>" in html.get_content()


def test_report_arrives_at_a_loopback_smtp_server(report: Report, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    send(report_message(report), SmtpSettings(host="127.0.0.1", port=port, starttls=False), timeout=10, env={})
    [(mail_from, rcpt, raw)] = inbox.messages
    assert mail_from == "oncall@provider.example"
    assert sorted(rcpt) == sorted(TO + CC)
    msg = parse(raw)
    assert msg["Subject"] == "ACME GmbH: Sofortbericht – Störung ACME-412"
    assert msg["To"] == ", ".join(TO) and msg["Cc"] == CC[0]
    assert "Bcc" not in msg
    body = " ".join(msg.get_body(("plain",)).get_content().split())
    assert "Den ausführlichen Bericht erhalten Sie am Donnerstag, 26.11.2026." in body
    assert "eingehalten" in msg.get_body(("html",)).get_content()


def test_starttls_and_login_with_the_password_from_the_environment(
        report: Report, tls_server: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = tls_server
    settings = SmtpSettings(host="127.0.0.1", port=port, starttls=True, user="oncall", cafile=str(cert))
    send(report_message(report), settings, timeout=10, env={"RUNBOOK_SMTP_PASSWORD": "s3cret-ä"})
    assert inbox.logins == ["oncall"]
    assert len(inbox.messages) == 1


def test_a_wrong_password_is_a_clear_error(report: Report, tls_server: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = tls_server
    settings = SmtpSettings(host="127.0.0.1", port=port, user="oncall", cafile=str(cert))
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port}: login as oncall refused: 535"):
        send(report_message(report), settings, timeout=10, env={"RUNBOOK_SMTP_PASSWORD": "wrong"})
    assert inbox.messages == []


def test_an_untrusted_certificate_is_refused(report: Report, tls_server: tuple[Inbox, int, Path]) -> None:
    _, port, _ = tls_server
    settings = SmtpSettings(host="127.0.0.1", port=port, user="oncall")   # no cafile: self-signed fails
    with pytest.raises(MailError, match="TLS failed|certificate"):
        send(report_message(report), settings, timeout=10, env={"RUNBOOK_SMTP_PASSWORD": "s3cret-ä"})


def test_nothing_listening_is_a_clear_error(report: Report) -> None:
    port = free_port()
    with pytest.raises(MailError, match=rf"127\.0\.0\.1:{port}: cannot connect"):
        send(report_message(report), SmtpSettings(host="127.0.0.1", port=port, starttls=False), timeout=5, env={})


def test_user_without_password_in_the_environment_fails_before_connecting(report: Report) -> None:
    settings = SmtpSettings(host="mail.provider.example", port=587, user="oncall")
    with pytest.raises(MailError, match=r"\$RUNBOOK_SMTP_PASSWORD is empty"):
        send(report_message(report), settings, timeout=5, env={})


def test_password_is_never_sent_without_starttls(report: Report) -> None:
    settings = SmtpSettings(host="mail.provider.example", port=25, starttls=False, user="oncall")
    with pytest.raises(MailError, match="without STARTTLS"):
        send(report_message(report), settings, timeout=5, env={"RUNBOOK_SMTP_PASSWORD": "x"})


def test_settings_from_the_inventory_and_the_environment() -> None:
    env = {"RUNBOOK_SMTP_HOST": "relay.provider.example", "RUNBOOK_SMTP_STARTTLS": "no",
           "RUNBOOK_SMTP_USER": "oncall"}
    assert SmtpSettings.from_mapping(None, env) == SmtpSettings(
        host="relay.provider.example", port=587, starttls=False, user="oncall")
    inv = SmtpSettings.from_mapping({"host": "mail.acme.example", "port": "2525", "password_env": "ACME_SMTP_PW"}, env)
    assert (inv.host, inv.port, inv.starttls, inv.password_env) == ("mail.acme.example", 2525, False, "ACME_SMTP_PW")
    assert inv.password({"ACME_SMTP_PW": "pw"}) == "pw" and inv.password({}) is None


@pytest.mark.parametrize(("data", "field"), [
    ({"host": "mail.acme.example", "password": "hunter2"}, "smtp.password"),
    ({"host": "mail.acme.example", "port": "abc"}, "smtp.port"),
    ({"host": "mail.acme.example", "starttls": "maybe"}, "smtp.starttls"),
    ({"host": "mail.acme.example", "tls": True}, "smtp"),
    ({}, "smtp.host"),
])
def test_bad_settings_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        SmtpSettings.from_mapping(data, {}, file="inventory/acme.yml")
    assert err.value.field == field and err.value.file == "inventory/acme.yml"


def test_write_eml_gives_a_file_mail_clients_open(report: Report, tmp_path: Path) -> None:
    path = write_eml(report_message(report), tmp_path / "out" / "ACME-412.eml")
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    msg = parse(raw)
    assert msg["Subject"] == "ACME GmbH: Sofortbericht – Störung ACME-412"
    assert msg["Date"] == "Wed, 25 Nov 2026 02:55:00 +0000"
    assert "web1 und web2: in Ordnung" in msg.get_body(("plain",)).get_content()
    assert not list(tmp_path.glob("out/*.tmp"))


def test_a_message_needs_a_recipient() -> None:
    with pytest.raises(MailError, match="recipient"):
        build_message("x", "y", sender="a@b.example", to=[])
