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
