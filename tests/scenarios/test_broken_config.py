"""A controlled restart must not take the shop down: a configuration that a service would refuse
at its next start is found before anything is stopped, and a start that fails anyway says why,
what is left down, and brings back what can come up."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.services import LabStack, http_get
from tests.scenarios.conftest import Night, outcomes

SERVICES = ("nginx", "gunicorn", "postgresql")


def _pids(stack: LabStack) -> dict[str, int | None]:
    return {name: stack.main_pid(name) for name in SERVICES}


@pytest.fixture
def broken_nginx(night: Night):
    conf = night.stack.web.root / "etc/nginx.conf"
    good = conf.read_text()
    conf.write_text(good.replace("events {", "shop_turbo on;\nevents {", 1))
    yield conf
    conf.write_text(good)


@pytest.fixture
def broken_postgres(night: Night):
    night.stack.break_postgres()
    yield
    night.stack.repair_postgres()


def test_a_broken_nginx_config_stops_the_restart_before_anything_is_stopped(night: Night, broken_nginx: Path) -> None:
    before = _pids(night.stack)
    for mode in ("--check", "--yes"):
        done, document = night.run_json("playbooks/restart-stack.yml", "-i", night.inventory, "-l", "shop", mode)
        assert done.returncode == 4, (mode, done.returncode, done.stderr[-3000:])
        restart = outcomes(document, "Restart in dependency order")
        assert restart["web1"]["outcome"] == "failed", restart["web1"]
        # the checker's own words, so the engineer sees what to fix
        assert 'unknown directive "shop_turbo"' in restart["web1"]["message"], restart["web1"]["message"]
        assert not [e for e in night.events(document) if e["event"] == "service" and e["op"] == "stop"]
        assert _pids(night.stack) == before
        assert http_get(night.stack.urls["web"], 3) == (200, "app ok\n")
    # the customer reads why nothing was restarted, and what is left to do
    run_id = Path(document["journal"]).parent.name
    for lang, refused, still_open in (
            ("de", "Auf web1 haben wir den kontrollierten Neustart nicht begonnen: die Konfiguration von nginx ist "
                   "fehlerhaft", "Die Konfiguration von nginx auf web1 ist fehlerhaft"),
            ("en", "On web1, we did not begin the controlled restart: the configuration of nginx has errors",
                   "The configuration of nginx on web1 has errors")):
        report = night.runbook("report", "immediate", run_id, "--lang", lang, "-i", night.inventory)
        assert report.returncode == 0, report.stderr
        text = " ".join(report.stdout.split())
        assert refused in text and still_open in text, text
        assert "shop_turbo" not in text and "could not be carried out" not in text


def test_a_broken_postgresql_config_stops_the_restart_before_anything_is_stopped(night: Night,
                                                                              broken_postgres: None) -> None:
    before = _pids(night.stack)
    done, document = night.run_json("playbooks/restart-stack.yml", "-i", night.inventory, "-l", "shop", "--yes")
    assert done.returncode == 4, (done.returncode, done.stderr[-3000:])
    restart = outcomes(document, "Restart in dependency order")
    assert restart["db1"]["outcome"] == "failed"
    assert "shared_buffers" in restart["db1"]["message"], restart["db1"]["message"]
    assert not [e for e in night.events(document) if e["event"] == "service" and e["op"] == "stop"]
    assert _pids(night.stack) == before
    assert http_get(night.stack.urls["web"], 3) == (200, "app ok\n")


@pytest.fixture
def broken_postgres_access(night: Night):
    night.stack.break_postgres_access()
    yield
    night.stack.repair_postgres()


def test_a_start_that_fails_is_told_on_the_host_it_failed_on(night: Night, broken_postgres_access: None) -> None:
    # pg_hba.conf is not what PostgreSQL's configuration check reads: the restart begins, and
    # PostgreSQL does not start again. The step fails on each host for its own services: db1
    # for the database, app1 and web1 for what was left down because it needs the database.
    done, document = night.run_json("playbooks/restart-stack.yml", "-i", night.inventory, "-l", "shop", "--yes")
    assert done.returncode == 4, (done.returncode, done.stderr[-3000:])
    restart = outcomes(document, "Restart in dependency order")
    assert {h: restart[h]["outcome"] for h in ("web1", "app1", "db1")} == dict.fromkeys(("web1", "app1", "db1"),
                                                                                   "failed")
    assert restart["db1"]["message"].startswith("health gate failed for db1:postgresql"), restart["db1"]
    assert "pg_hba.conf" in restart["db1"]["message"]
    assert restart["app1"]["message"].startswith("app1:gunicorn left down: needs db1:postgresql"), restart["app1"]
    assert restart["web1"]["message"].startswith("web1:nginx left down: needs app1:gunicorn"), restart["web1"]
    assert "pg_hba.conf" not in restart["web1"]["message"] + restart["app1"]["message"]
    # down1 (nothing listens) declares no services: the restart never logged in there, so it is
    # skipped, not "ok", and the report does not say it was checked
    assert restart["down1"]["outcome"] == "skipped", restart["down1"]
    # the customer reads per host what was done and how it ended, in the service's own words
    # for the database, and no general "could not be carried out" for any of them
    run_id = Path(document["journal"]).parent.name
    for lang, db_says, app_says, web_says, general, result in (
            ("de", "postgresql auf db1 für den Neustart angehalten; der Dienst ist nicht wieder angelaufen",
             "gunicorn auf app1 angehalten und nicht wieder gestartet, weil nicht alle Dienste laufen",
             "nginx auf web1 angehalten und nicht wieder gestartet, weil nicht alle Dienste laufen",
             "konnte ein Prüfschritt", "Ergebnis"),
            ("en", "Stopped postgresql on db1 for the restart; it did not start again and is down",
             "Stopped gunicorn on app1 and did not start it again, because not all services it needs are running",
             "Stopped nginx on web1 and did not start it again, because not all services it needs are running",
             "could not be carried out", "Result")):
        report = night.runbook("report", "immediate", run_id, "--lang", lang, "-i", night.inventory)
        assert report.returncode == 0, report.stderr
        text = " ".join(report.stdout.split())
        assert db_says in text and "pg_hba.conf" in text, text
        assert app_says in text and web_says in text, text
        # measures of one moment in the journal's order, as in the timeline of the next-day report
        assert text.index(web_says) < text.index(app_says) < text.index(db_says), text
        assert general not in text and "down1" not in text, text
        # every host is still open, so what follows says them all: no empty "Result" heading
        assert result not in report.stdout.splitlines(), report.stdout
