"""The JIRA client against the loopback stand-in that serves JIRA's documented answers.

No JIRA server can run here (see tests/lab/fake_jira.py for what is served). The waits a
rate limit asks for are recorded instead of slept; everything else is real HTTPS on loopback.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from runbook.errors import ConfigError
from runbook.tickets.jira import JiraClient, JiraCredentials, JiraError, parse_jira_time
from tests.conftest import lab_subnet
from tests.lab.fake_jira import PASSWORD, TOKEN, USER, FakeJira


def client(jira: FakeJira, credentials: JiraCredentials | None = None, **kwargs) -> JiraClient:
    return JiraClient(jira.url, credentials or JiraCredentials("bearer", None, TOKEN), cafile=str(jira.cert.ca),
                      **kwargs)


def test_issue_is_read_with_the_bearer_token(jira: FakeJira) -> None:
    jira.add_issue("ACME-412", summary="Shop antwortet nicht", created="2026-11-25T02:14:07.000+0100")
    issue = client(jira).issue("ACME-412")
    assert issue["key"] == "ACME-412"
    assert issue["fields"]["priority"]["name"] == "Highest"
    assert parse_jira_time(issue["fields"]["created"]).isoformat() == "2026-11-25T02:14:07+01:00"
    sent = jira.requests()[-1]
    assert sent.method == "GET" and sent.path.startswith("/rest/api/2/issue/ACME-412?fields=")
    assert sent.authorization == f"Bearer {TOKEN}"


def test_basic_authentication_from_user_and_password(jira: FakeJira) -> None:
    jira.add_issue("ACME-1", summary="x", created="2026-11-25T02:14:07.000+0100")
    credentials = JiraCredentials.from_env({"RUNBOOK_JIRA_USER": USER, "RUNBOOK_JIRA_PASSWORD": PASSWORD})
    assert client(jira, credentials).issue("ACME-1")["key"] == "ACME-1"
    assert jira.requests()[-1].authorization.startswith("Basic ")
    assert PASSWORD not in repr(credentials)


def test_a_refused_token_says_which_variable_and_never_the_token(jira: FakeJira) -> None:
    jira.add_issue("ACME-1", summary="x", created="2026-11-25T02:14:07.000+0100")
    wrong = "pat-wrong-but-secret-0815"
    with pytest.raises(JiraError) as refused:
        client(jira, JiraCredentials("bearer", None, wrong)).issue("ACME-1")
    message = str(refused.value)
    assert refused.value.status == 401
    assert "JIRA refused the credentials (401; AUTHENTICATED_FAILED): check RUNBOOK_JIRA_TOKEN" in message
    assert wrong not in message


def test_an_unknown_issue_is_a_404_with_what_jira_said(jira: FakeJira) -> None:
    with pytest.raises(JiraError, match=r"ACME-999: not found, or not visible to this user \(404\): "
                                        r"Issue Does Not Exist"):
        client(jira).issue("ACME-999")


def test_rate_limit_waits_as_long_as_retry_after_says_then_succeeds(jira: FakeJira) -> None:
    jira.add_issue("ACME-1", summary="x", created="2026-11-25T02:14:07.000+0100")
    jira.rate_limit_next("2", "1")
    waits: list[float] = []
    assert client(jira, sleep=waits.append).issue("ACME-1")["key"] == "ACME-1"
    assert waits == [2.0, 1.0]
    assert len(jira.requests()) == 3


def test_a_rate_limit_longer_than_we_wait_fails_at_once(jira: FakeJira) -> None:
    jira.rate_limit_next("3600")
    waits: list[float] = []
    with pytest.raises(JiraError, match=r"rate limited \(429\); JIRA asks to wait 3600 s, longer than runbook "
                                        r"waits \(30 s\): try again later"):
        client(jira, sleep=waits.append).issue("ACME-1")
    assert waits == [] and len(jira.requests()) == 1


def test_comments_are_added_and_updated_and_transitions_performed(jira: FakeJira) -> None:
    jira.add_issue("ACME-1", summary="x", created="2026-11-25T02:14:07.000+0100")
    api = client(jira)
    created = api.add_comment("ACME-1", "h2. Sofortbericht")
    assert created["id"] and created["body"] == "h2. Sofortbericht"
    api.update_comment("ACME-1", created["id"], "h2. Sofortbericht (2)")
    assert [c["body"] for c in jira.comments("ACME-1")] == ["h2. Sofortbericht (2)"]
    names = [t["name"] for t in api.transitions("ACME-1")]
    assert names == ["Arbeit beginnen", "Schließen"]
    api.transition("ACME-1", "11")
    assert jira.status("ACME-1") == "In Arbeit"
    with pytest.raises(JiraError, match="JIRA answered 400: It seems that you have tried to perform a workflow"):
        api.transition("ACME-1", "11")


def test_credentials_only_over_https_except_to_loopback() -> None:
    token = JiraCredentials("bearer", None, TOKEN)
    with pytest.raises(ConfigError, match="refusing to send JIRA credentials over plain http to jira.example"):
        JiraClient("http://jira.example", token)
    JiraClient("http://127.0.0.1:9", token)   # a loopback tunnel is fine


def test_missing_credentials_name_both_ways() -> None:
    with pytest.raises(ConfigError, match="set RUNBOOK_JIRA_TOKEN .* or RUNBOOK_JIRA_USER and RUNBOOK_JIRA_PASSWORD"):
        JiraCredentials.from_env({"RUNBOOK_JIRA_USER": "me"})


@pytest.fixture
def silent_server() -> Iterator[tuple[str, int]]:
    """A TCP server on the test subnet that accepts and never answers (a hung JIRA)."""
    sock = socket.socket()
    sock.bind((f"{lab_subnet()}.62", 0))
    sock.listen(5)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        sock.close()


def test_a_jira_that_never_answers_fails_after_the_timeout(silent_server: tuple[str, int]) -> None:
    host, port = silent_server
    api = JiraClient(f"http://{host}:{port}", JiraCredentials("bearer", None, TOKEN), timeout=0.5)
    with pytest.raises(JiraError, match=r"no answer within 0.5 s \(GET ACME-1\)"):
        api.issue("ACME-1")
