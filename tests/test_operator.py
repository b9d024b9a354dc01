"""Who did the work: the operator from RUNBOOK_OPERATOR or the inventory, recorded at the
start of every run, and notes and the resolution of an incident with who and when."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.incidents import IncidentStore
from runbook.inventory import load_inventory
from runbook.inventory.people import Person, Signature, parse_operator
from runbook.journal import iter_runs, read_events
from tests.support.cli import isolate, run_main, write_playbook, write_yaml

SHOP = {
    "customer": {"name": "Shop GmbH", "slug": "shop"},
    "operator": {"name": "Eva Berger", "email": "eva@service.example", "phone": "+49 711 4000-21"},
    "signature": {"company": "Muster IT-Service GmbH", "team": "Bereitschaft",
                  "on_call": {"phone": "+49 711 4000-0", "email": "oncall@service.example"}},
    "hosts": {"self": {"connection": "local"}},
}


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("RUNBOOK_OPERATOR", raising=False)
    monkeypatch.setenv("RUNBOOK_REPORTS_DIR", str(tmp_path / "reports"))
    return isolate(monkeypatch, tmp_path)


@pytest.mark.parametrize(("text", "person"), [
    ("Eva Berger <eva@service.example>, +49 711 4000-21", Person("Eva Berger", "eva@service.example",
                                                                "+49 711 4000-21")),
    ("Eva Berger <eva@service.example>", Person("Eva Berger", "eva@service.example")),
    ("Eva Berger, +49 711 4000-21", Person("Eva Berger", None, "+49 711 4000-21")),
    ("Eva Berger", Person("Eva Berger")),
])
def test_runbook_operator_is_name_email_and_phone(text: str, person: Person) -> None:
    assert parse_operator(text) == person


@pytest.mark.parametrize("text", ["", "<eva@service.example>", "  , 0711"])
def test_an_operator_without_a_name_is_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="Name <email>, phone"):
        parse_operator(text)


def test_the_inventory_names_operator_and_signature(tmp_path: Path) -> None:
    shop = load_inventory([write_yaml(tmp_path / "shop.yml", SHOP)]).customers["shop"]
    assert shop.operator == Person("Eva Berger", "eva@service.example", "+49 711 4000-21")
    assert shop.signature == Signature("Muster IT-Service GmbH", "Bereitschaft", "+49 711 4000-0",
                                       "oncall@service.example")


@pytest.mark.parametrize(("section", "bad", "field"), [
    ("operator", {"nmae": "Eva"}, "operator.nmae"),
    ("operator", {"email": "eva@service.example"}, "operator.name"),
    ("signature", {"team": "x"}, "signature.company"),
    ("signature", {"company": "M", "on_call": {"fax": "1"}}, "signature.on_call.fax"),
])
def test_a_bad_operator_or_signature_names_file_line_and_field(tmp_path: Path, section: str, bad: dict,
                                                               field: str) -> None:
    path = write_yaml(tmp_path / "shop.yml", {**SHOP, section: bad})
    with pytest.raises(ConfigError) as err:
        load_inventory([path])
    assert err.value.field == field and err.value.file == str(path) and err.value.line


def run_start(tmp_path: Path) -> dict:
    [run] = list(iter_runs(tmp_path / "runs"))
    return read_events(run / "journal.jsonl")[0]


def test_a_run_records_the_inventorys_operator(hermetic: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    inventory = write_yaml(tmp_path / "shop.yml", SHOP)
    book = write_playbook(tmp_path / "book.yml", {"name": "uptime", "action": "command", "params": {"cmd": "true"}})
    code, _, err = run_main(capsys, "run", book, "-i", inventory)
    assert code == 0, err
    start = run_start(tmp_path)
    assert start["operator"] == {"name": "Eva Berger", "email": "eva@service.example", "phone": "+49 711 4000-21"}
    assert start["user"] != "Eva Berger"   # the account is kept apart from the person


def test_runbook_operator_wins_and_a_bad_one_stops_the_run_before_it_starts(
        hermetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = write_yaml(tmp_path / "shop.yml", SHOP)
    book = write_playbook(tmp_path / "book.yml", {"name": "uptime", "action": "command", "params": {"cmd": "true"}})
    monkeypatch.setenv("RUNBOOK_OPERATOR", "<nobody@service.example>")
    code, _, err = run_main(capsys, "run", book, "-i", inventory)
    assert code == 78 and "RUNBOOK_OPERATOR" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not list(iter_runs(tmp_path / "runs"))   # no journal begun
    monkeypatch.setenv("RUNBOOK_OPERATOR", "Max Muster <max@service.example>, +49 711 4000-22")
    code, _, err = run_main(capsys, "run", book, "-i", inventory)
    assert code == 0, err
    assert run_start(tmp_path)["operator"]["name"] == "Max Muster"


def test_notes_and_resolution_with_who_and_when(hermetic: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    inventory = write_yaml(tmp_path / "shop.yml", SHOP)
    code, _, err = run_main(capsys, "incident", "open", "SHOP-1", "-c", "1", "--received", "2026-11-25T02:14",
                            "-i", inventory)
    assert code == 0, err
    # who: nobody named, no inventory given: refused, nothing recorded
    code, _, err = run_main(capsys, "incident", "note", "SHOP-1", "Provider angerufen")
    assert code == 78 and "--by" in err
    code, _, err = run_main(capsys, "incident", "note", "SHOP-1", "Provider angerufen, Ticket 4711",
                            "--at", "2026-11-25T02:47", "-i", inventory)
    assert code == 0, err
    code, _, err = run_main(capsys, "incident", "note", "SHOP-1", "psql: Verbindungen beendet",
                            "--at", "2026-11-25T02:31", "--by", "Max Muster <max@service.example>")
    assert code == 0, err
    code, _, err = run_main(capsys, "incident", "resolve", "SHOP-1", "--at", "2026-11-25T02:55",
                            "--summary", "Shop läuft wieder", "-i", inventory)
    assert code == 0, err
    incident = IncidentStore(tmp_path / "reports").get("SHOP-1")
    assert [(n.at.strftime("%H:%M"), n.by.name, n.text) for n in incident.notes] == [
        ("02:31", "Max Muster", "psql: Verbindungen beendet"), ("02:47", "Eva Berger", "Provider angerufen, Ticket 4711")]
    assert (incident.resolution.at.strftime("%H:%M"), incident.resolution.by.name,
            incident.resolution.summary) == ("02:55", "Eva Berger", "Shop läuft wieder")
    record = json.loads((tmp_path / "reports/incidents/SHOP-1/incident.json").read_text())
    assert record["notes"][1]["by"]["email"] == "eva@service.example"
    code, out, _ = run_main(capsys, "incident", "show", "SHOP-1")
    assert "Provider angerufen, Ticket 4711 (Eva Berger)" in out and "resolved:" in out


@pytest.mark.parametrize(("args", "field", "code"), [
    (("note", "SHOP-1", "x", "--at", "yesterday", "--by", "Eva"), "--at", 64),
    (("note", "SHOP-1", "  ", "--by", "Eva"), "TEXT", 64),
    (("resolve", "SHOP-1", "--at", "2026-11-24T02:00", "--by", "Eva"), "--at", 64),   # before it was received
    (("resolve", "SHOP-1", "--by", "<eva@x.example>"), "--by", 78),
])
def test_bad_notes_and_resolutions_are_refused(hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               args: tuple[str, ...], field: str, code: int) -> None:
    inventory = write_yaml(tmp_path / "shop.yml", SHOP)
    run_main(capsys, "incident", "open", "SHOP-1", "-c", "1", "--received", "2026-11-25T02:14", "-i", inventory)
    exit_code, _, err = run_main(capsys, "incident", *args)
    assert exit_code == code and f"{field}:" in err and "Traceback" not in err
    incident = IncidentStore(tmp_path / "reports").get("SHOP-1")
    assert incident.notes == () and incident.resolution is None


def test_old_incident_records_without_notes_still_read(hermetic: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    inventory = write_yaml(tmp_path / "shop.yml", SHOP)
    run_main(capsys, "incident", "open", "SHOP-1", "-c", "1", "--received", "2026-11-25T02:14", "-i", inventory)
    path = tmp_path / "reports/incidents/SHOP-1/incident.json"
    record = json.loads(path.read_text())
    for key in ("notes", "resolved", "sent"):
        record.pop(key)
    path.write_text(json.dumps(record))
    incident = IncidentStore(tmp_path / "reports").get("SHOP-1")
    assert incident.notes == () and incident.resolution is None and incident.sent == ()
