"""The report model, built from journals only."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.incidents import Incident
from runbook.reports import Report, build_report
from tests.reports.journals import FREED, GIB, RUN, SWEEP_1, SWEEP_2, Scenario, local, write_scenario
from tests.support.reports import copy_runs, make_incident


def host(report: Report, name: str):
    return next(h for h in report.hosts if h.name == name)


def test_runs_are_ordered_by_start_whatever_the_order_given(scenario: Scenario, incident: Incident) -> None:
    report = build_report(list(reversed(scenario.run_dirs)), incident)
    assert [r.id for r in report.runs] == [SWEEP_1, RUN, SWEEP_2]
    assert [r.kind for r in report.runs] == ["sweep", "run", "sweep"]
    run = report.runs[1]
    assert (run.playbook, run.operator, run.status, run.incident) == ("disk-pressure", "mmueller", "completed",
                                                                       "ACME-412")
    assert run.started == local(2, 30)
    assert report == build_report(scenario.run_dirs, incident)


def test_hosts_in_order_of_first_appearance(report: Report) -> None:
    assert [h.name for h in report.hosts] == ["web1", "web2", "db1"]


def test_findings_are_the_checks_that_were_not_ok(report: Report) -> None:
    web1 = host(report, "web1")
    assert [(f.check, f.status) for f in web1.findings] == [
        ("disk:/var", "CRITICAL"), ("http:https://shop.acme.example/", "CRITICAL")]
    disk = web1.findings[0]
    assert disk.first_seen == local(2, 20, 4) and disk.value == 96.0 and disk.crit == 90.0
    assert disk.details["mount"] == "/var" and disk.unit == "%"
    assert host(report, "web2").findings == ()


def test_unreachable_host_is_a_failure_with_its_layer_not_a_duplicate_finding(report: Report) -> None:
    db1 = host(report, "db1")
    assert [(f.outcome, f.layer) for f in db1.failures] == [("unreachable", "tcp"), ("unreachable", "tcp")]
    assert db1.findings == ()


def test_a_health_step_failing_on_critical_is_a_finding_not_a_failure(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    journal = scenario.sweep1 / "journal.jsonl"
    text = journal.read_text().replace('"host": "web1", "outcome": "ok"', '"host": "web1", "outcome": "failed"')
    journal.write_text(text)
    web1 = host(build_report([scenario.sweep1], incident), "web1")
    assert web1.failures == () and len(web1.findings) == 2


def test_measures_carry_host_time_and_wording(report: Report) -> None:
    web1 = host(report, "web1")
    assert [m.msgid for m in web1.measures] == ["logs_archived", "logs_deleted", "service_restarted_healthy"]
    restart = web1.measures[2]
    assert restart.ts.astimezone(local(0, 0).tzinfo).strftime("%H:%M") == "02:41"
    assert restart.args["check"] == {"en": "the shop", "de": "der Shop"}
    [rotate] = host(report, "web2").measures
    assert rotate.msgid is None and rotate.text.startswith("Rotated /var/log/php8.2-fpm.log")
    assert len(report.measures) == 4


def test_evidence_pairs_before_and_after(report: Report) -> None:
    disk, mem = host(report, "web1").evidence
    assert disk.kind == "disk" and disk.before_ts < disk.after_ts
    var = next(d for d in disk.disks if d.mount == "/var")
    assert (var.used_before, var.used_after, var.freed) == (96.0, 75.2, FREED)
    assert disk.values == ()                       # disk evidence is all mounts
    assert mem.kind == "memory" and mem.disks == ()
    values = {v.name: (v.before, v.after) for v in mem.values}
    assert values["swap_used_percent"] == (90.0, 10.0)
    assert values["available_bytes"] == (int(0.6 * GIB), int(4.9 * GIB))


def test_artifacts_keep_their_manifest(report: Report) -> None:
    [archive] = host(report, "web1").artifacts
    assert archive.kind == "log-archive" and archive.bytes == 52_428_800 and archive.sha256 == "3" * 64
    assert [(f.path, f.sha256) for f in archive.files] == [
        ("/var/log/nginx/access.log.1", "1" * 64), ("/var/log/nginx/access.log.2.gz", "2" * 64)]


def test_analyses_become_a_summary_table(report: Report) -> None:
    [analysis] = host(report, "web1").analyses
    assert analysis.title == "nginx error log"
    assert analysis.columns == ("message", "count")
    assert analysis.rows[0][1] == 412


def test_commands_for_the_appendix(report: Report) -> None:
    commands = report.commands
    assert len(commands) == 9
    curl = next(c for c in commands if c.command.startswith("curl"))
    assert (curl.host, curl.exit_code, curl.duration, curl.output_tail) == ("web1", 0, 0.42, "200")


def test_current_state_comes_from_the_last_sweep(report: Report) -> None:
    states = {h.name: h.current for h in report.hosts}
    assert {n: s.status for n, s in states.items()} == {"web1": "OK", "web2": "OK", "db1": "UNREACHABLE"}
    assert states["db1"].layer == "tcp" and states["db1"].run_id == SWEEP_2
    assert report.last_sweep is not None and report.last_sweep.id == SWEEP_2


def test_current_state_of_a_sweep_that_found_problems(scenario: Scenario, incident: Incident) -> None:
    report = build_report([scenario.sweep1], incident)
    web1 = host(report, "web1").current
    assert web1.status == "CRITICAL"
    assert [f.check for f in web1.not_ok] == ["disk:/var", "http:https://shop.acme.example/"]


def test_timeline_holds_every_event_sorted(scenario: Scenario, report: Report) -> None:
    lines = sum(len((d / "journal.jsonl").read_text().splitlines()) for d in scenario.run_dirs)
    assert len(report.timeline) == lines
    assert [e.ts for e in report.timeline] == sorted(e.ts for e in report.timeline)
    assert report.timeline[0].event == "run.start" and report.timeline[-1].event == "run.end"


def test_generated_at_is_the_last_event_not_now(report: Report) -> None:
    assert report.generated_at == report.timeline[-1].ts


def test_same_journals_elsewhere_give_the_same_report(scenario: Scenario, incident: Incident,
                                                       tmp_path: Path) -> None:
    assert build_report(copy_runs(scenario, tmp_path), incident) == build_report(scenario.run_dirs, incident)


def test_sla_verdict_and_report_due(report: Report) -> None:
    sla = report.sla
    assert sla is not None
    assert (sla.category, sla.basis, sla.met) == (1, "on-call", True)
    assert sla.deadline == local(3, 14)
    assert sla.reaction_started == local(2, 20)   # the first run of the incident
    assert sla.margin == timedelta(minutes=54)
    assert sla.report_due == date(2026, 11, 26)
    assert report.customer == "ACME GmbH" and report.timezone == "Europe/Berlin"


def test_sla_missed_when_the_explicit_reaction_came_late(scenario: Scenario) -> None:
    late = make_incident(reaction_started=local(3, 30))
    sla = build_report(scenario.run_dirs, late).sla
    assert sla is not None and sla.met is False and sla.margin == -timedelta(minutes=16)


def test_recommendations_follow_from_findings(report: Report) -> None:
    recs = {(r.msgid, r.args.get("host")) for r in report.recommendations}
    assert ("rec.disk", "web1") in recs
    assert ("rec.service", "web1") in recs
    assert ("rec.unreachable", "db1") in recs
    assert ("rec.still_open", "db1") in recs


def test_full_disk_after_the_clean_up_asks_for_capacity(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    journal = scenario.run / "journal.jsonl"
    journal.write_text(journal.read_text().replace('"used_percent": 75.2', '"used_percent": 88.0'))
    recs = build_report(scenario.run_dirs, incident).recommendations
    assert any(r.msgid == "rec.disk_capacity" and r.args["mount"] == "/var" and r.args["used"] == 88.0
               for r in recs)


def test_a_torn_last_line_is_skipped(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    with open(scenario.sweep2 / "journal.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"seq": 99, "ts": "2026-11-25T01:59:00.000Z", "event": "host.e')
    assert build_report(scenario.run_dirs, incident).last_sweep is not None


def test_a_directory_without_journal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no journal.jsonl"):
        build_report([tmp_path], None)


def test_without_incident_there_is_no_sla_and_the_customer_comes_from_the_journal(scenario: Scenario) -> None:
    report = build_report(scenario.run_dirs, None)
    assert report.incident is None and report.sla is None
    assert report.customer == "ACME GmbH"
    assert replace(report, customer="Other").customer == "Other"
