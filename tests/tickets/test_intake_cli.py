"""`runbook incident from-mail FILE` and `from-jira KEY` as the engineer runs them, as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lab.fake_jira import TOKEN, FakeJira
from tests.support.cli import REPO, cli_env
from tests.tickets.helpers import MAIL, TICKET_ENV, cli, incidents, jira_env, record, write_inventory


def test_a_mail_opens_an_incident_and_keeps_the_original(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "acme.yml")
    reports = tmp_path / "reports"
    done = cli("incident", "from-mail", MAIL / "kategorie1-multipart.eml", "-i", inventory, "--yes", reports=reports)
    assert done.returncode == 0, done.stderr
    # What was read is shown before it is opened, with where each value came from.
    assert "received:  2026-11-25 02:14:09 CET (Received: by mx1.provider.example)" in done.stdout
    assert "category:  1 (subject says 'Kategorie 1')" in done.stdout
    assert "incident ACME-20261125-0214 opened: category 1, received 2026-11-25 02:14 CET; react by " \
           "2026-11-25 13:00 CET (service-hours)" in done.stdout
    data = record(reports, "ACME-20261125-0214")
    assert data["received"] == "2026-11-25T02:14:09+01:00" and data["channel"] == "email"
    assert data["summary"] == "Störung Kategorie 1: Shop lädt nicht, Kasse hängt"
    assert data["source"] == {"kind": "email", "ref": "<5c1e9a7e-2b7d-4f0e-9d57-acme-412@acme.example>",
                              "url": None, "reporter": "Anna Schmidt <anna.schmidt@acme.example>",
                              "original": "original.eml"}
    kept = reports / "incidents" / "ACME-20261125-0214" / "original.eml"
    assert kept.read_bytes() == (MAIL / "kategorie1-multipart.eml").read_bytes()
    shown = cli("incident", "show", "ACME-20261125-0214", reports=reports)
    assert "from:             email <5c1e9a7e-2b7d-4f0e-9d57-acme-412@acme.example> (Anna Schmidt" in shown.stdout

    # The same mail again (say, saved twice): recognised by its Message-ID, nothing new.
    again = cli("incident", "from-mail", MAIL / "kategorie1-multipart.eml", "-i", inventory, "--yes", reports=reports)
    assert again.returncode == 0
    assert "was taken already: incident ACME-20261125-0214; nothing opened" in again.stderr
    assert incidents(reports) == ["ACME-20261125-0214"]


def test_without_a_terminal_and_without_yes_nothing_is_opened(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "acme.yml")
    reports = tmp_path / "reports"
    done = cli("incident", "from-mail", MAIL / "html-only.eml", "-i", inventory, reports=reports)
    assert done.returncode == 4
    assert "summary:   Langsame Antwortzeiten im Checkout - Bestellübersicht" in done.stdout
    assert "not a terminal: nothing opened; run with --yes to open it" in done.stderr
    assert incidents(reports) == []


def test_no_category_in_the_mail_needs_one_from_the_engineer(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "acme.yml")
    reports = tmp_path / "reports"
    mail = tmp_path / "plain.eml"
    mail.write_bytes((MAIL / "kategorie1-multipart.eml").read_bytes().replace(b"Kategorie", b"Thema"))
    done = cli("incident", "from-mail", mail, "-i", inventory, "--yes", reports=reports)
    assert done.returncode == 65
    assert "category: no category: no rule matched the subject or body; give it with --category 1|2|3" in done.stderr
    given = cli("incident", "from-mail", mail, "-i", inventory, "--yes", "-c", "2", "--id", "ACME-9",
                reports=reports)
    assert given.returncode == 0, given.stderr
    assert "category:  2 (given with --category)" in given.stdout
    assert record(reports, "ACME-9")["category"] == 2


def test_on_a_terminal_the_engineer_is_asked_for_the_category_and_to_confirm(tmp_path: Path) -> None:
    """A real pseudo-terminal: the questions appear and the answers typed are what counts."""
    inventory = write_inventory(tmp_path / "acme.yml")
    reports = tmp_path / "reports"
    mail = tmp_path / "plain.eml"
    mail.write_bytes((MAIL / "kategorie1-multipart.eml").read_bytes().replace(b"Kategorie", b"Thema"))
    env = {k: v for k, v in cli_env().items() if k not in TICKET_ENV}
    env["RUNBOOK_REPORTS_DIR"] = str(reports)
    for answers, opened in (("2\nn\n", False), ("x\n3\ny\n", True)):
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "runbook", "incident", "from-mail", str(mail), "-i",
                                     str(inventory)], cwd=REPO, env=env, stdin=slave, stdout=slave, stderr=slave)
            os.close(slave)
            os.write(master, answers.encode())
            out = b""
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            proc.wait(timeout=60)
        finally:
            os.close(master)
        text = out.decode("utf-8", "replace")
        assert "Category (1, 2 or 3)?" in text and "Open incident ACME-20261125-0214? [y/N]" in text
        assert proc.returncode == (0 if opened else 4), text
        assert incidents(reports) == (["ACME-20261125-0214"] if opened else [])
    assert record(reports, "ACME-20261125-0214")["category"] == 3


def test_a_ticket_opens_an_incident_with_jiras_created_time(tmp_path: Path, jira: FakeJira) -> None:
    jira.add_issue("ACME-412", summary="Shop antwortet nicht, Kasse hängt", created="2026-11-25T02:14:07.000+0100",
                   priority="High")
    inventory = write_inventory(tmp_path / "acme.yml", jira=jira)
    reports = tmp_path / "reports"
    done = cli("incident", "from-jira", "ACME-412", "-i", inventory, "--yes", reports=reports, env=jira_env())
    assert done.returncode == 0, done.stderr
    assert "category:  2 (JIRA priority High)" in done.stdout
    assert "note:      JIRA status: Offen" in done.stdout
    data = record(reports, "ACME-412")
    assert (data["received"], data["category"], data["channel"]) == ("2026-11-25T02:14:07+01:00", 2, "jira")
    assert data["source"]["url"] == jira.url
    assert data["source"]["reporter"] == "Anna Schmidt <anna.schmidt@acme.example>"
    kept = json.loads((reports / "incidents" / "ACME-412" / "jira-issue.json").read_text(encoding="utf-8"))
    assert kept["fields"]["priority"]["name"] == "High"
    again = cli("incident", "from-jira", "ACME-412", "-i", inventory, "--yes", reports=reports, env=jira_env())
    assert again.returncode == 0 and "was taken already: incident ACME-412" in again.stderr
    assert [r.method for r in jira.requests()] == ["GET"]    # the second time JIRA was not even asked


@pytest.mark.parametrize("case, code, says", [
    ("ticket without priority", 65, "JIRA ACME-7: fields.priority: missing: the ticket has no priority"),
    ("unknown project", 78, "acme.yml: customer.jira.project: no customer of the inventory has JIRA project 'SHOP' "
                            "(known projects: ACME)"),
    ("unmapped priority", 78, "customer.jira.category_by_priority: JIRA priority 'Lowest' of ACME-8 maps to no "
                              "category"),
    ("mail from an unknown domain", 65, "unknown-domain.eml: From: sender max@example.org: no customer has the "
                                        "domain example.org"),
    ("mail without Date", 65, "no-date.eml: Date: missing: the mail has no Date header and no Received header"),
    ("malformed mail", 65, "malformed.eml: not an e-mail: no headers"),
    ("no such file", 65, "nothing.eml: cannot read: No such file or directory"),
    ("wrong token", 4, "JIRA refused the credentials (401; AUTHENTICATED_FAILED): check RUNBOOK_JIRA_TOKEN"),
])
def test_bad_input_one_clear_line_its_exit_code_and_nothing_opened(
        tmp_path: Path, jira: FakeJira, case: str, code: int, says: str) -> None:
    jira.add_issue("ACME-7", summary="Shop down", created="2026-11-25T02:14:07.000+0100", priority=None)
    jira.add_issue("ACME-8", summary="Shop down", created="2026-11-25T02:14:07.000+0100", priority="Lowest")
    inventory = write_inventory(tmp_path / "acme.yml", jira=jira)
    reports = tmp_path / "reports"
    env = jira_env()
    args: tuple[object, ...] = {
        "ticket without priority": ("from-jira", "ACME-7"),
        "unknown project": ("from-jira", "SHOP-1"),
        "unmapped priority": ("from-jira", "ACME-8"),
        "mail from an unknown domain": ("from-mail", MAIL / "unknown-domain.eml"),
        "mail without Date": ("from-mail", MAIL / "no-date.eml"),
        "malformed mail": ("from-mail", MAIL / "malformed.eml"),
        "no such file": ("from-mail", tmp_path / "nothing.eml"),
        "wrong token": ("from-jira", "ACME-7"),
    }[case]
    if case == "wrong token":
        env = jira_env(RUNBOOK_JIRA_TOKEN="pat-not-the-right-one-4711")
    done = cli("incident", *args, "-i", inventory, "--yes", reports=reports, env=env)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("runbook: error: ") and says in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert "pat-not-the-right-one-4711" not in done.stdout + done.stderr
    assert incidents(reports) == []


def test_the_token_is_in_no_file_and_no_output(tmp_path: Path, jira: FakeJira) -> None:
    """Everything the ticket round trip writes is searched for the token (and its basic form)."""
    jira.add_issue("ACME-412", summary="Shop antwortet nicht", created="2026-11-25T02:14:07.000+0100")
    inventory = write_inventory(tmp_path / "acme.yml", jira=jira)
    reports = tmp_path / "reports"
    outputs = []
    for args in (("incident", "from-jira", "ACME-412", "-i", inventory, "--yes"),
                 ("run", "playbooks/kernel-versions.yml", "-i", inventory, "--incident", "ACME-412"),
                 ("report", "immediate", "--incident", "ACME-412", "-i", inventory, "--jira-comment"),
                 ("report", "immediate", "--incident", "ACME-412", "-i", inventory, "--jira-comment",
                  "--jira-transition", "In Arbeit"),
                 ("incident", "show", "ACME-412", "--json")):
        done = cli(*args, reports=reports, env=jira_env())
        assert done.returncode == 0, (args, done.stderr)
        outputs.append(done.stdout + done.stderr)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "journal.jsonl" for p in files) and any(p.name == "incident.json" for p in files)
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path
    assert all(TOKEN not in out for out in outputs)
