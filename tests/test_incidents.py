"""Incidents on disk and the SLA verdict on them."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from runbook.errors import ConfigError, RunbookError
from runbook.incidents import Incident, IncidentStore, report_due, sla_verdict
from runbook.sla import contract_from_mapping, parse_time, reaction_deadline

CONTRACT = contract_from_mapping(None)
PERMANENT = contract_from_mapping({"on_call": {"mode": "permanent", "reaction": {1: "1h"}}})
CHRISTMAS = contract_from_mapping({"on_call": {
    "mode": "periods", "reaction": {1: "1h"},
    "periods": [{"from": "2026-12-23T17:00", "to": "2027-01-02T09:00"}]}})


def t(text: str) -> datetime:
    return parse_time(text, CONTRACT)


def incident(id: str = "ACME-412", at: str = "2026-11-20T16:30", **changes) -> Incident:
    """ACME's incident received at local time ``at``; ``changes`` replace fields."""
    base = Incident(id=id, customer="ACME GmbH", category=1, received=t(at),
                    channel="phone", summary="Shop antwortet nicht, Kasse hängt", opened_at=t(at),
                    reaction_started=None, contract=CONTRACT)
    return replace(base, **changes)


def test_open_writes_incident_json_and_get_reads_it_back(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    opened = store.open(incident(contract=CHRISTMAS))
    path = tmp_path / "incidents" / "ACME-412" / "incident.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["received"] == "2026-11-20T16:30:00+01:00"
    assert data["summary"] == "Shop antwortet nicht, Kasse hängt"
    assert "hängt" in path.read_text(encoding="utf-8")  # readable UTF-8, not \u00e4 escapes
    assert data["reaction_started"] is None
    assert data["contract"]["on_call"]["periods"] == [
        {"from": "2026-12-23T17:00:00+01:00", "to": "2027-01-02T09:00:00+01:00"}]
    assert store.get("ACME-412") == opened
    # Only the record (and no temporary file) is left in the directory.
    assert sorted(p.name for p in path.parent.iterdir()) == ["incident.json"]


def test_contract_snapshot_recomputes_the_same_deadline(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    store.open(incident(at="2026-12-23T16:30", contract=CHRISTMAS))
    again = store.get("ACME-412")
    deadline = reaction_deadline(again.contract, again.category, again.received)
    # 0.5h of service hours, then the on-call period from 17:00: 17:30.
    assert deadline.deadline.isoformat() == "2026-12-23T17:30:00+01:00"
    assert deadline.basis == "on-call"


def test_open_refuses_an_existing_id_and_keeps_the_first(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    store.open(incident(summary="first"))
    with pytest.raises(RunbookError, match="incident ACME-412 exists already"):
        store.open(incident(summary="second"))
    assert store.get("ACME-412").summary == "first"


def test_two_simultaneous_opens_of_one_id_one_wins(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    outcomes: list[str] = []

    def open_one(n: int) -> None:
        try:
            store.open(incident(summary=f"opener {n}"))
            outcomes.append(f"opener {n}")
        except RunbookError:
            outcomes.append("refused")

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "refused"]
    assert len(winners) == 1
    assert store.get("ACME-412").summary == winners[0]


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "", ".hidden", "..", "ACME 412",
                                    "ACME-412\n", "x" * 101])
def test_bad_ids_are_refused_before_touching_disk(tmp_path: Path, bad_id: str) -> None:
    store = IncidentStore(tmp_path / "reports")
    with pytest.raises(ConfigError, match="invalid incident id"):
        store.get(bad_id)
    with pytest.raises(ConfigError, match="invalid incident id"):
        incident(id=bad_id)
    assert not (tmp_path / "reports").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("good_id", ["ACME-412", "acme_2026.11.20", "7", "JIRA-OPS-1"])
def test_good_ids(tmp_path: Path, good_id: str) -> None:
    store = IncidentStore(tmp_path)
    store.open(incident(id=good_id))
    assert store.get(good_id).id == good_id


def test_get_unknown_incident(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match=r"unknown incident 'ACME-9' \(no .*incidents/ACME-9/"
                                           r"incident.json\); open it first"):
        IncidentStore(tmp_path).get("ACME-9")


@pytest.mark.parametrize(("changes", "field"), [
    ({"category": 4}, "category"),
    ({"category": True}, "category"),
    ({"channel": "fax"}, "channel"),
    ({"received": datetime(2026, 11, 20, 16, 30)}, "received"),
])
def test_invalid_incident_fields(changes: dict, field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        incident(**changes)
    assert caught.value.field == field


def test_damaged_record_names_the_file(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    store.open(incident())
    path = store.path("ACME-412")
    path.write_text('{"id": "ACME-412",\n "customer": ', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"incident.json:2: damaged incident record"):
        store.get("ACME-412")
    path.write_text(json.dumps({"id": "ACME-412"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="incident.json: damaged incident record: missing"):
        store.get("ACME-412")


def test_react_sets_the_start_once_first_wins(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    store.open(incident())
    first = store.react("ACME-412", t("2026-11-23T09:10"))
    assert first.reaction_started == t("2026-11-23T09:10")
    later = store.react("ACME-412", t("2026-11-23T08:00"))
    assert later.reaction_started == t("2026-11-23T09:10")
    assert store.get("ACME-412").reaction_started == t("2026-11-23T09:10")


def test_concurrent_reacts_agree_on_one_start(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    store.open(incident())
    results: list[datetime | None] = []

    def react(minute: int) -> None:
        results.append(store.react("ACME-412", t(f"2026-11-23T09:{minute:02d}")).reaction_started)

    threads = [threading.Thread(target=react, args=(m,)) for m in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = store.get("ACME-412").reaction_started
    assert stored is not None
    assert results == [stored] * 10


def test_react_on_unknown_incident(tmp_path: Path) -> None:
    with pytest.raises(RunbookError, match="unknown incident 'NOPE-1'"):
        IncidentStore(tmp_path).react("NOPE-1", t("2026-11-23T09:10"))
    assert not (tmp_path / "incidents" / "NOPE-1").exists()


def test_list_is_ordered_by_received(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    assert store.list() == []
    store.open(incident(id="B-2", at="2026-11-21T10:00"))
    store.open(incident(id="A-1", at="2026-11-22T10:00"))
    store.open(incident(id="C-3", at="2026-11-20T10:00"))
    (tmp_path / "incidents" / "half-opened").mkdir()  # crash between mkdir and write
    assert [i.id for i in store.list()] == ["C-3", "B-2", "A-1"]


# -- SLA verdict ---------------------------------------------------------------------------
# ACME-412: cat 1, received Fri 20 Nov 16:30 -> deadline Mon 23 Nov 12:30 (0.5h + 3.5h).

def test_verdict_met_from_the_first_run() -> None:
    verdict = sla_verdict(incident(), t("2026-11-23T09:05"))
    assert verdict.deadline.deadline == t("2026-11-23T12:30")
    assert verdict.reaction_started == t("2026-11-23T09:05")
    assert (verdict.met, verdict.margin) == (True, timedelta(hours=3, minutes=25))


def test_verdict_missed_by_how_much() -> None:
    verdict = sla_verdict(incident(), t("2026-11-23T13:15"))
    assert (verdict.met, verdict.margin) == (False, -timedelta(minutes=45))


def test_verdict_at_the_deadline_itself_is_met() -> None:
    verdict = sla_verdict(incident(), t("2026-11-23T12:30"))
    assert (verdict.met, verdict.margin) == (True, timedelta(0))


def test_explicit_reaction_beats_the_first_run() -> None:
    # The engineer phoned the customer at 09:00; the first run only came at 14:00.
    reacted = incident(reaction_started=t("2026-11-23T09:00"))
    verdict = sla_verdict(reacted, t("2026-11-23T14:00"))
    assert verdict.reaction_started == t("2026-11-23T09:00")
    assert verdict.met is True


def test_verdict_open_in_time_and_open_too_late() -> None:
    pending = sla_verdict(incident(), None, now=t("2026-11-23T10:00"))
    assert (pending.met, pending.margin, pending.reaction_started) == (None, None, None)
    late = sla_verdict(incident(), None, now=t("2026-11-23T13:00"))
    assert (late.met, late.margin) == (False, -timedelta(minutes=30))


def test_verdict_margin_is_real_time_across_the_autumn_dst_change() -> None:
    # Permanent on-call, 1h: received 02:30 CEST (00:30 UTC) -> due 02:30 CET (01:30 UTC).
    # Started 02:45 CEST = 00:45 UTC: 45 minutes early, although 02:45 "looks" after 02:30.
    case = incident(at="2026-10-25T02:30+02:00", contract=PERMANENT)
    verdict = sla_verdict(case, parse_time("2026-10-25T02:45+02:00", PERMANENT))
    assert verdict.deadline.deadline.isoformat() == "2026-10-25T02:30:00+01:00"
    assert (verdict.met, verdict.margin) == (True, timedelta(minutes=45))


@pytest.mark.parametrize(("received", "due"), [
    ("2026-11-20T16:30", date(2026, 11, 23)),   # Friday -> Monday
    ("2026-04-02T20:00", date(2026, 4, 7)),     # Maundy Thursday -> Tuesday after Easter
    ("2026-12-24T11:00", date(2026, 12, 28)),   # Christmas Eve -> Monday 28 Dec
    ("2026-12-23T23:30Z", date(2026, 12, 28)),  # 00:30 on 24 Dec in Berlin -> 28 Dec
    ("2026-12-31T23:00", date(2027, 1, 4)),     # New Year's Eve -> Monday 4 Jan
])
def test_report_due_is_the_next_business_day(received: str, due: date) -> None:
    assert report_due(incident(at=received)) == due


def test_verdict_refuses_a_naive_first_run_time() -> None:
    # A naive time would silently be read in the machine's timezone.
    with pytest.raises(ValueError, match="offset"):
        sla_verdict(incident(), datetime(2026, 11, 23, 9, 5))
