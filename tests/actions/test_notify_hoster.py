"""notify.hoster against the lab: down1 is unreachable (nothing listens), web1 answers."""

from __future__ import annotations

import email
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
import yaml

from tests.lab import Lab
from tests.lab.services import run_playbook

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


def _emls(runs: Path) -> list[Path]:
    return sorted(runs.glob("*/artifacts/*/hoster-notice-*.eml"))


def test_unreachable_host_gets_one_notice_not_two(lab: Lab, tmp_path: Path) -> None:
    inventory = lab.write_inventory(tmp_path / "inv.yml", extra_vars={"hoster_reference": "KD-4711"})
    runs = tmp_path / "reports" / "runs"
    first, _ = run_playbook(inventory, NOTIFY, runs, limit="down1")
    outcome = first.last_for("down1")
    assert outcome.step_name == "notify" and outcome.outcome == "changed", outcome.message
    [eml] = _emls(runs)
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "noc@lab.example"
    assert "down1 nicht erreichbar (TCP)" in msg["Subject"] and msg["Subject"].startswith("KD-4711:")
    body = msg.get_content()
    assert f"der Server down1 ({lab.unreachable[0]})" in body
    assert "TCP  FEHLER" in body and "Connection refused" in body
    assert "Kundenreferenz: KD-4711" in body
    state = json.loads((tmp_path / "reports" / "state" / "hoster-notifications.json").read_text())
    assert [e["host"] for e in state["sent"]] == ["down1"] and state["sent"][0]["layers"] == ["tcp"]

    second, _ = run_playbook(inventory, NOTIFY, runs, limit="down1")
    again = second.last_for("down1")
    assert again.outcome == "ok" and "already told" in again.message
    assert len(_emls(runs)) == 1
    # the outage started with the first run's failure, and the second run knows it
    assert again.data["since"] == outcome.data["since"]


def test_a_reachable_host_is_not_reported(lab: Lab, tmp_path: Path) -> None:
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    result, _ = run_playbook(inventory, NOTIFY, tmp_path / "runs", limit="web1")
    outcome = result.last_for("web1")
    assert outcome.outcome == "ok" and "answers at the network level" in outcome.message
    assert _emls(tmp_path / "runs") == []


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


@pytest.fixture
def smtp_server() -> Iterator[tuple[str, int, list]]:
    from aiosmtpd.controller import Controller

    received: list = []

    class Collect:
        async def handle_DATA(self, server, session, envelope):
            received.append(email.message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, received
    finally:
        controller.stop()


def test_by_smtp_saying_what_still_answers(lab: Lab, tmp_path: Path, http_only: str, smtp_server,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    host, port, received = smtp_server
    monkeypatch.setenv("RUNBOOK_SMTP_HOST", host)
    monkeypatch.setenv("RUNBOOK_SMTP_PORT", str(port))
    monkeypatch.setenv("RUNBOOK_SMTP_STARTTLS", "false")
    path = lab.write_inventory(tmp_path / "inv.yml")
    document = yaml.safe_load(path.read_text())
    with socket.socket() as s:      # a port nothing listens on: "SSH is down"
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    document["customer"]["language"] = "en"
    document["hosts"]["shop1"] = {"address": "127.0.0.1", "port": closed, "roles": ["web"],
                                  "http_checks": [http_only]}
    path.write_text(yaml.safe_dump(document))
    runs = tmp_path / "reports" / "runs"
    for _ in range(2):
        run_playbook(path, NOTIFY, runs, limit="shop1")
    assert len(received) == 1
    body = received[0].get_content().replace("\r\n", "\n")
    assert received[0]["Subject"].startswith("Lab GmbH: shop1 unreachable (TCP) since")
    assert f"What still answers:\n  http {http_only}: status 200" in body
    assert "What does not answer" not in body
    sent = json.loads((runs.parent / "state" / "hoster-notifications.json").read_text())["sent"]
    assert [(e["host"], e["via"]) for e in sent] == [("shop1", "smtp")]


def test_check_mode_sends_and_records_nothing(lab: Lab, tmp_path: Path) -> None:
    inventory = lab.write_inventory(tmp_path / "inv.yml")
    runs = tmp_path / "reports" / "runs"
    result, _ = run_playbook(inventory, NOTIFY, runs, limit="down1", check=True)
    outcome = result.last_for("down1")
    assert outcome.outcome == "changed" and outcome.message.startswith("would: notify Lab Hosting")
    assert _emls(runs) == [] and not (tmp_path / "reports" / "state").exists()
