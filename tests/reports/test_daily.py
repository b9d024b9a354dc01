"""The daily summary of unattended sweeps, per customer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from runbook.reports import build_daily, render_daily
from tests.reports.journals import Clock, Scenario, journal, local, ok_checks, sweep_host, unreachable, write_scenario


def midnight_sweep(runs_dir: Path) -> Path:
    """A sweep at 00:30 on 26.11. in Berlin (23:30 UTC on the 25th), over two customers."""
    clock = Clock()
    clock.at(local(0, 30, day=26))
    run_id = "20261125T233000Z-0d04"
    with journal(runs_dir, run_id, clock, kind="sweep", playbook="health-check", hosts=["web1", "shop1"],
                 incident=None, user="runbook", customers={"acme": "ACME GmbH", "beta": "Beta Bäckerei KG"},
                 host_customer={"shop1": "beta"}) as j:
        j.write("step.start", step=0, name="Health check", action="health.check", hosts=["web1", "shop1"])
        sweep_host(j, "web1", ok_checks())
        unreachable(j, "shop1")
    return runs_dir / run_id


def test_a_day_of_sweeps_per_customer(scenario: Scenario) -> None:
    daily = build_daily(scenario.run_dirs, date(2026, 11, 25))
    [acme] = daily.customers
    assert (acme.customer, acme.sweeps) == ("ACME GmbH", 2)
    assert (acme.first, acme.last) == (local(2, 20), local(2, 50))
    assert {h.host: (h.worst, h.sweeps, h.unreachable) for h in acme.hosts} == {
        "web1": ("CRITICAL", 2, 0), "web2": ("OK", 2, 0), "db1": ("UNREACHABLE", 2, 2)}
    checks = {(c.host, c.key): c for c in acme.checks}
    assert set(checks) == {("web1", "disk:/var"), ("web1", "http:https://shop.acme.example/"), ("db1", "reachability")}
    disk = checks[("web1", "disk:/var")]
    assert (disk.worst, disk.times) == ("CRITICAL", 1)
    assert disk.first_seen == disk.last_seen == local(2, 20, 4)
    gone = checks[("db1", "reachability")]
    assert (gone.times, gone.first_seen, gone.last_seen) == (2, local(2, 20, 9), local(2, 50, 9))


def test_runs_that_are_not_sweeps_are_left_out(scenario: Scenario) -> None:
    daily = build_daily([scenario.run], date(2026, 11, 25))
    assert daily.customers == ()
    assert "No unattended sweeps ran on this day." in render_daily([scenario.run], date(2026, 11, 25), "en", "text")


def test_the_day_is_the_local_day_and_customers_are_apart(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    late = midnight_sweep(tmp_path)
    runs = scenario.run_dirs + [late]
    assert [c.sweeps for c in build_daily(runs, date(2026, 11, 25)).customers] == [2]
    next_day = build_daily(runs, date(2026, 11, 26))
    assert [(c.customer, c.sweeps) for c in next_day.customers] == [("ACME GmbH", 1), ("Beta Bäckerei KG", 1)]
    text = render_daily(runs, date(2026, 11, 26), "de", "text")
    assert "Beta Bäckerei KG: ein Prüflauf um 00:30 Uhr." in text
    assert "shop1: Nicht erreichbar" in text
    assert "nicht erreichbar (keine Netzwerkverbindung)" in text


def test_daily_german_text(scenario: Scenario) -> None:
    text = render_daily(scenario.run_dirs, date(2026, 11, 25), "de", "text")
    assert text.startswith("Tagesübersicht der Prüfläufe – 25.11.2026\n")
    assert "ACME GmbH: 2 Prüfläufe zwischen 02:20 und 02:50 Uhr." in text
    assert "web1: Kritisch (Prüfläufe: 2)" in text
    assert "/var zu 96 % belegt, 860,0 MiB frei (Warnung ab 85 %, kritisch ab 90 %)" in text
    # when a problem was seen: a span over several sweeps, one time when one sweep saw it
    assert "db1: Nicht erreichbar, 02:20–02:50 (2×)" in text
    assert "web1: Kritisch, 02:20 (1×)" in text and "02:20–02:20" not in text


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_daily_renders_every_language_and_format(scenario: Scenario, lang: str, fmt: str) -> None:
    day = date(2026, 11, 25)
    out = render_daily(scenario.run_dirs, day, lang, fmt)
    assert "ACME GmbH" in out and "db1" in out
    assert out == render_daily(list(reversed(scenario.run_dirs)), day, lang, fmt)


def test_an_explicit_host_map_wins(scenario: Scenario) -> None:
    daily = build_daily(scenario.run_dirs, date(2026, 11, 25), customers={"db1": "Datenbank-Team"})
    assert [c.customer for c in daily.customers] == ["ACME GmbH", "Datenbank-Team"]


def test_one_customers_day_shows_none_of_the_others_hosts(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    runs = scenario.run_dirs + [midnight_sweep(tmp_path)]
    for who in ("beta", "Beta Bäckerei KG"):
        [beta] = build_daily(runs, date(2026, 11, 26), customer=who).customers
        assert (beta.customer, [h.host for h in beta.hosts]) == ("Beta Bäckerei KG", ["shop1"])
    text = render_daily(runs, date(2026, 11, 26), "de", "text", customer="beta")
    assert "shop1" in text and "web1" not in text and "ACME" not in text


def test_our_own_access_problem_is_not_the_customers_server_down(tmp_path: Path) -> None:
    """A refused host key or login is counted apart and worded as our access, never as the
    server being unreachable."""
    clock = Clock()
    clock.at(local(3, 0))
    with journal(tmp_path, "20261125T020000Z-0e05", clock, kind="sweep", playbook="health-check", hosts=["web1"],
                 incident=None, user="runbook") as j:
        j.write("step.start", step=0, name="Health check", action="health.check", hosts=["web1"])
        j.write("host.start", step=0, host="web1")
        j.write("host.end", step=0, host="web1", outcome="unreachable", message="web1: auth: Authentication failed",
                changes=[], data={"status": "UNKNOWN", "layer": "auth", "probes": [], "facts": {}, "checks": [
                    {"name": "reachability", "status": "UNKNOWN", "code": 3, "layer": "auth",
                     "message": "auth layer failed: Authentication failed", "msg": "unreachable",
                     "args": {"layer": "auth", "answering": []}}]},
                error={"type": "ConnectError", "layer": "auth", "message": "web1: auth: Authentication failed"},
                duration=0.2)
    daily = build_daily([tmp_path / "20261125T020000Z-0e05"], date(2026, 11, 25))
    [web1] = daily.customers[0].hosts
    assert (web1.worst, web1.unreachable, web1.no_access) == ("UNKNOWN", 0, 1)
    for lang, words, never in (("de", "unser Zugang ist gestört", "Nicht erreichbar: 1"),
                               ("en", "our access is disturbed", "Unreachable: 1")):
        text = render_daily([tmp_path / "20261125T020000Z-0e05"], date(2026, 11, 25), lang, "text")
        assert words in text and never not in text
