"""`runbook incident edit`: a typo in the received time or category, corrected on the record."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.incidents import IncidentStore
from tests.tickets.helpers import cli, record, write_inventory


def show(reports: Path, incident: str) -> dict:
    done = cli("incident", "show", incident, "--json", reports=reports)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_corrections_keep_old_new_and_who_and_the_sla_verdict_follows(tmp_path: Path) -> None:
    inventory = write_inventory(tmp_path / "acme.yml")
    reports = tmp_path / "reports"
    # Typed at night: category 3 instead of 1, received 09:00 instead of 10:30.
    opened = cli("incident", "open", "ACME-500", "-c", "3", "--received", "2026-11-25T09:00", "--channel",
                 "email", "-i", inventory, reports=reports)
    assert opened.returncode == 0, opened.stderr
    assert cli("incident", "react", "ACME-500", "--at", "2026-11-25T14:00", reports=reports).returncode == 0
    before = show(reports, "ACME-500")
    assert before["deadline"]["deadline"] == "2026-11-26T17:00:00+01:00" and before["sla_met"] is True

    # Category 1: four service hours from 09:00 is 13:00, the reaction at 14:00 was late.
    cat = cli("incident", "edit", "ACME-500", "--category", "1", "--reason", "Kunde: Kasse steht", reports=reports)
    assert cat.returncode == 0, cat.stderr
    assert "ACME-500: category 3 -> 1 (by " in cat.stdout
    assert "ACME-500: react by 2026-11-25 13:00 CET (service-hours); SLA MISSED" in cat.stdout
    assert show(reports, "ACME-500")["sla_met"] is False

    # Received 10:30: the deadline moves to 14:30 and the 14:00 reaction was in time after all.
    when = cli("incident", "edit", "ACME-500", "--received", "2026-11-25T10:30", reports=reports)
    assert when.returncode == 0, when.stderr
    assert "received 2026-11-25T09:00:00+01:00 -> 2026-11-25T10:30:00+01:00" in when.stdout
    after = show(reports, "ACME-500")
    assert after["deadline"]["deadline"] == "2026-11-25T14:30:00+01:00" and after["sla_met"] is True
    fixes = record(reports, "ACME-500")["corrections"]
    assert [(f["field"], f["old"], f["new"], f["reason"]) for f in fixes] == [
        ("category", 3, 1, "Kunde: Kasse steht"),
        ("received", "2026-11-25T09:00:00+01:00", "2026-11-25T10:30:00+01:00", "")]
    assert all("@" in f["by"] and f["at"] for f in fixes)
    shown = cli("incident", "show", "ACME-500", reports=reports).stdout
    assert "corrected:        category 3 -> 1 by " in shown and "(Kunde: Kasse steht)" in shown

    same = cli("incident", "edit", "ACME-500", "--category", "1", reports=reports)
    assert same.returncode == 0 and "nothing changed" in same.stdout
    assert len(record(reports, "ACME-500")["corrections"]) == 2


@pytest.mark.parametrize("args, code, says", [
    (("ACME-500",), 64, "edit: nothing to change: give --received, --category and/or --summary"),
    (("ACME-500", "--received", "gestern"), 64, "--received: "),
    (("ACME-500", "--received", "2099-11-25T09:00"), 64, "--received: 2099-11-25 09:00 CET is in the future"),
    (("ACME-404", "--category", "2"), 4, "unknown incident 'ACME-404'"),
    (("ACME-500", "--category", "7"), 64, "Invalid value for '--category'"),
])
def test_bad_edits_change_nothing(tmp_path: Path, args: tuple[str, ...], code: int, says: str) -> None:
    inventory = write_inventory(tmp_path / "acme.yml")
    reports = tmp_path / "reports"
    cli("incident", "open", "ACME-500", "-c", "3", "--received", "2026-11-25T09:00", "-i", inventory, reports=reports)
    before = record(reports, "ACME-500")
    done = cli("incident", "edit", *args, reports=reports)
    assert done.returncode == code and says in done.stderr, done.stderr
    assert record(reports, "ACME-500") == before


def test_two_engineers_correcting_at_once_both_are_kept(tmp_path: Path) -> None:
    from tests.support.reports import make_incident

    store = IncidentStore(tmp_path)
    store.open(make_incident(id="ACME-600"))
    at = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
    threads = [threading.Thread(target=store.correct, args=("ACME-600", change),
                                kwargs={"by": who, "at": at})
               for who, change in (("anna@oncall1", {"category": 2}), ("ben@oncall2", {"summary": "Kasse"}))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    incident = store.get("ACME-600")
    assert (incident.category, incident.summary) == (2, "Kasse")
    assert sorted(f.by for f in incident.corrections) == ["anna@oncall1", "ben@oncall2"]
    with pytest.raises(ConfigError, match="cannot edit channel"):
        store.correct("ACME-600", {"channel": "phone"}, by="x", at=at)
