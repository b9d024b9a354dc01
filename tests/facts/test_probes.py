"""Service probes from here (TCP and HTTP) say why they failed in a word a report can word:
against real servers on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runbook.facts.reachability import probe_http, probe_tcp


class _Shop(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        status = 503 if self.path == "/down" else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"maintenance" if status == 503 else b"app ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def shop() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung application)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_probe_that_answers(shop: str) -> None:
    probe = probe_http({"url": f"{shop}/", "contains": "app ok"}, 2.0)
    assert (probe.ok, probe.reason, probe.http_status) == (True, None, 200)


def test_the_wrong_status_says_which_and_what_was_expected(shop: str) -> None:
    probe = probe_http({"url": f"{shop}/down"}, 2.0)
    assert (probe.ok, probe.reason, probe.http_status, probe.expected) == (False, "status", 503, 200)
    assert probe.to_json()["reason"] == "status"


def test_a_missing_text_is_its_own_reason(shop: str) -> None:
    assert probe_http({"url": f"{shop}/", "contains": "db ok"}, 2.0).reason == "body"


def test_no_answer_in_time_is_a_timeout(silent: int) -> None:
    assert probe_http({"url": f"http://127.0.0.1:{silent}/", "timeout": 0.5}, 0.5).reason == "timeout"


def test_nothing_listening_is_no_connection() -> None:
    port = free_port()
    assert probe_http({"url": f"http://127.0.0.1:{port}/"}, 1.0).reason == "connect"
    assert probe_tcp("127.0.0.1", port, 1.0).reason == "connect"
