"""Secret-named vars nested in mappings and lists (``db: {password: ...}``, ``tokens: [...]``)
are redacted wherever their values turn up: the journal, the terminal, `runs show`, `inventory
show` and the next-day report (also the internal one, which lists the commands)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.support.cli import isolate, run_dirs, run_main, write_playbook, write_yaml

SECRETS = ("hunter2-nested", "tok-aaaa1111", "tok-bbbb2222", "s3cr3t-deep-in-a-list", "from-the-command-line")


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("RUNBOOK_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("RUNBOOK_OPERATOR", "Eva Berger <eva@service.example>")
    return isolate(monkeypatch, tmp_path)


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_nested_secrets_are_redacted_in_journal_terminal_and_reports(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = write_yaml(tmp_path / "inv.yml", {
        "customer": {"name": "Geheim GmbH", "slug": "geheim"},
        "defaults": {"connection": "local"},
        "hosts": {"self1": {"roles": ["web"], "vars": {
            "db": {"user": "shop", "password": "hunter2-nested"},
            "tokens": ["tok-aaaa1111", "tok-bbbb2222"],
            "api": {"keys": [{"name": "deploy", "secret": "s3cr3t-deep-in-a-list"}]},
        }}},
    })
    playbook = write_playbook(tmp_path / "pb.yml", {
        "name": "connect", "action": "command",
        "params": {"cmd": "echo {{ db.password }} {{ tokens | join(' ') }} {{ api['keys'][0].secret }} "
                          "{{ extra.credentials.value }}; echo {{ db.password }} >&2; exit 3"}})
    received = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    code, _, err = run_main(capsys, "incident", "open", "GEH-1", "-c", "1", "--received", received, "-i", inventory)
    assert code == 0, err

    code, out, err = run_main(capsys, "run", playbook, "-i", inventory, "--incident", "GEH-1",
                              "-e", "extra={credentials: {value: from-the-command-line}}")

    assert code == 4, err
    assert "***" in out + err and leaked(out + err) == [], "the terminal"
    (run,) = run_dirs(hermetic)
    assert leaked((run / "journal.jsonl").read_text()) == [], "the journal, argv included"
    for args in (("runs", "show", run.name), ("runs", "show", run.name, "--json"),
                 ("inventory", "show", "self1", "-i", inventory),
                 ("report", "next-day", "--incident", "GEH-1", "-i", inventory, "-F", "markdown",
                  "--audience", "internal"),
                 ("report", "immediate", "--incident", "GEH-1", "-i", inventory)):
        code, out, err = run_main(capsys, *args)
        assert code == 0, (args, err)
        assert leaked(out + err) == [], args


def test_short_values_are_not_redacted_everywhere(hermetic: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # a "secret" of 1-3 characters would turn every such digit of the journal into ***
    inventory = write_yaml(tmp_path / "inv.yml", {"customer": {"name": "X"}, "defaults": {"connection": "local"},
                                                  "hosts": {"self1": {"vars": {"db": {"pin": 1, "password": "7"}}}}})
    playbook = write_playbook(tmp_path / "pb.yml", {"name": "count", "action": "command",
                                                    "params": {"cmd": "echo 1 2 7"}})

    code, out, err = run_main(capsys, "run", playbook, "-i", inventory)

    assert code == 0, err
    assert "1 2 7" in out + err
