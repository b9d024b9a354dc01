"""Command-line values that are not allowed: exit 64 with the allowed values named, before any
journal, incident or host is looked at (issue 11 items 10 and 11, issue 12's CLI failures)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.cli import isolate, local_inventory, run_main, write_playbook, command_step

USAGE = 64


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("RUNBOOK_OPERATOR", raising=False)
    monkeypatch.setenv("RUNBOOK_REPORTS_DIR", str(tmp_path / "reports"))
    return isolate(monkeypatch, tmp_path)


@pytest.mark.parametrize(("args", "says"), [
    (("report", "immediate", "--incident", "X-1", "-F", "pdf"), "--format: 'pdf' is not one of: text, markdown, html, jira"),
    (("report", "next-day", "--incident", "X-1", "-F", "text"), "--format: 'text' is not one of: html, markdown"),
    (("report", "next-day", "--incident", "X-1", "--lang", "fr"), "--lang: 'fr' is not one of: de, en"),
    (("report", "immediate", "--incident", "X-1", "--audience", "boss"), "--audience: 'boss' is not one of"),
    (("report", "daily", "--date", "2026-12-01", "-F", "pdf"), "--format: 'pdf' is not one of: text, markdown, html"),
    (("report", "daily", "--date", "gestern"), "--date: not a date: 'gestern'"),
    (("report", "next-day"), "name run ids or --incident ID"),
    (("sweep", "--json", "--nagios"), "--json/--nagios: choose one"),
    (("sweep", "--alert-to", "ops@example.org"), "--alert-to: needs --alert"),
    (("history", "--since", "yesterday"), "--since: 'yesterday' is neither a duration"),
], ids=["immediate-pdf", "next-day-text", "lang", "audience", "daily-pdf", "daily-date", "no-runs", "json-nagios",
        "alert-to", "history-since"])
def test_a_value_not_allowed_is_a_usage_error_naming_what_is(hermetic: Path, capsys: pytest.CaptureFixture[str],
                                                             args: tuple[str, ...], says: str) -> None:
    code, out, err = run_main(capsys, *args)

    assert code == USAGE, err
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("runbook: error: ") and says in line, line


def test_a_limit_that_matches_nothing_names_what_there_is(hermetic: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    playbook = write_playbook(tmp_path / "pb.yml", command_step("true"))

    code, _, err = run_main(capsys, "run", playbook, "-i", inventory, "-l", "self1,slef2")

    assert code == USAGE
    assert "--limit: pattern 'slef2' matches no host, role or customer (hosts self1, self2; roles web, db; " \
           "customers local)" in err
    assert not (tmp_path / "runs").exists(), "nothing ran"


# -- incident times (issue 11, item 11) ------------------------------------------------------------

def _open(capsys: pytest.CaptureFixture[str], inventory: Path, received: str) -> tuple[int, str]:
    code, _, err = run_main(capsys, "incident", "open", "ACME-9", "-c", "1", "--received", received, "-i", inventory)
    return code, err


def test_an_incident_received_in_the_future_is_refused(hermetic: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    code, err = _open(capsys, inventory, tomorrow)

    assert code == USAGE and "--received: " in err and "is in the future" in err, err
    assert not (tmp_path / "reports" / "incidents" / "ACME-9").exists()


@pytest.mark.parametrize("received", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_year_no_fault_lies_in_is_refused_not_an_overflow(hermetic: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str], received: str) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")

    code, _, err = run_main(capsys, "sla", "deadline", "-c", "1", "--received", received, "-i", inventory)

    assert code == USAGE and "is not plausible" in err and "internal error" not in err, err


def test_a_reaction_before_the_fault_or_in_the_future_is_refused(hermetic: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    received = datetime.now(timezone.utc) - timedelta(hours=2)
    code, err = _open(capsys, inventory, received.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert code == 0, err
    record = tmp_path / "reports" / "incidents" / "ACME-9" / "incident.json"
    before = record.read_text()

    for at, says in ((received - timedelta(hours=5), "is before the fault was received"),
                     (received + timedelta(days=2), "is in the future")):
        code, _, err = run_main(capsys, "incident", "react", "ACME-9", "--at", at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert code == USAGE and f"--at: " in err and says in err, err
        assert record.read_text() == before, "a refused time changes nothing"

    # a plausible time is taken, and the SLA verdict counts from it
    code, _, err = run_main(capsys, "incident", "react", "ACME-9", "--at",
                            (received + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert code == 0, err
    assert json.loads(record.read_text())["reaction_started"] is not None
