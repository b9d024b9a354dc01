"""The report model, built from journals only (and the incident record)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from runbook.errors import ConfigError
from runbook.incidents import Incident, IncidentNote, Resolution
from runbook.inventory.people import Person
from runbook.reports import Report, build_report
from runbook.reports.model import Message
from tests.reports.journals import FREED, RUN, SWEEP_1, SWEEP_2, Scenario, local, write_scenario
from tests.support.reports import copy_runs, make_incident


def host(report: Report, name: str):
    return next(h for h in report.hosts if h.name == name)


def test_runs_are_ordered_by_start_whatever_the_order_given(scenario: Scenario, incident: Incident) -> None:
    report = build_report(list(reversed(scenario.run_dirs)), incident)
    assert [r.id for r in report.runs] == [SWEEP_1, RUN, SWEEP_2]
    assert [r.kind for r in report.runs] == ["sweep", "run", "sweep"]
    run = report.runs[1]
    assert (run.playbook, run.account, run.status, run.incident) == ("disk-pressure", "mmueller", "completed",
                                                                      "ACME-412")
    assert run.operator is None   # a journal from before run.start named the person
    assert run.started == local(2, 30)
    assert report == build_report(scenario.run_dirs, incident)


def test_hosts_in_order_of_first_appearance(report: Report) -> None:
    assert [h.name for h in report.hosts] == ["web1", "web2", "db1"]


def test_findings_are_the_aspects_that_were_not_ok_once_each(report: Report) -> None:
    web1 = host(report, "web1")
    assert [(f.key, f.status, f.sightings) for f in web1.findings] == [
        ("disk:/var", "CRITICAL", 1), ("http:https://shop.acme.example/", "CRITICAL", 1)]
    disk = web1.findings[0]
    assert disk.first_seen == local(2, 20, 4) and disk.worst.value == 96.0 and disk.worst.crit == 90.0
    # a journal from before checks named their message: read from the check's own fields
    assert disk.message == Message("check.disk", {"mount": "/var", "used_percent": 96.0,
                                                  "free_bytes": 860 * 1024 ** 2})
    probe = web1.findings[1].message
    assert (probe.id, probe.args["reason"], probe.args["http_status"]) == ("check.probe", "status", 502)
    assert host(report, "web2").findings == ()


def test_an_unreachable_host_is_one_finding_with_its_layer(report: Report) -> None:
    [finding] = host(report, "db1").findings
    assert (finding.key, finding.status, finding.area, finding.sightings) == ("reachability", "UNREACHABLE",
                                                                               "reach", 2)
    assert finding.message.args["layer"] == "tcp"


def test_a_health_step_failing_on_critical_is_a_finding_not_a_problem(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    journal = scenario.sweep1 / "journal.jsonl"
    text = journal.read_text().replace('"host": "web1", "outcome": "ok"', '"host": "web1", "outcome": "failed"')
    journal.write_text(text)
    web1 = host(build_report([scenario.sweep1], incident), "web1")
    assert web1.problems == () and len(web1.findings) == 2


def test_a_step_that_failed_on_a_reached_host_is_a_problem_not_a_finding(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    journal = scenario.run / "journal.jsonl"
    text = journal.read_text().replace('"outcome": "ok", "message": "2 patterns"',
                                       '"outcome": "failed", "message": "usage: analyse [-h] FILE"')
    journal.write_text(text)
    web1 = host(build_report(scenario.run_dirs, incident), "web1")
    [problem] = web1.problems
    assert (problem.action, problem.detail) == ("analysis.logs", "usage: analyse [-h] FILE")


def test_measures_are_catalogue_messages_with_the_host(report: Report) -> None:
    web1 = host(report, "web1")
    assert [m.message.id for m in web1.measures] == ["measure.logs_archived", "measure.logs_deleted",
                                                     "measure.service_restarted_healthy"]
    restart = web1.measures[2]
    assert restart.ts.astimezone(local(0, 0).tzinfo).strftime("%H:%M") == "02:41"
    assert restart.message.args["check"] == {"en": "the shop", "de": "der Shop"}
    assert restart.message.args["host"] == "web1"
    [rotate] = host(report, "web2").measures
    assert rotate.message.id == "measure.text" and rotate.text.startswith("Rotated /var/log/php8.2-fpm.log")
    assert len(report.measures) == 4 and report.planned == ()


def test_disks_pair_the_first_before_with_the_last_after(report: Report) -> None:
    [var] = [d for d in host(report, "web1").disks if d.mount == "/var"]
    assert (var.used_before, var.used_after, var.freed) == (96.0, 75.2, FREED)
    assert (var.warn, var.crit) == (85.0, 90.0)   # from the disk check of that mount


def test_memory_pair_has_ram_and_swap_in_use(report: Report) -> None:
    mem = host(report, "web1").memory
    assert mem is not None
    assert (round(mem.ram_before), round(mem.ram_after)) == (92, 37)
    assert (mem.swap_before, mem.swap_after) == (90.0, 10.0)
    assert (mem.ram_warn, mem.ram_crit) == (90.0, 95.0)   # the memory check: available below 10 / 5 %


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


def test_commands_for_the_internal_appendix(report: Report) -> None:
    commands = report.commands
    assert len(commands) == 9
    curl = next(c for c in commands if c.command.startswith("curl"))
    assert (curl.host, curl.exit_code, curl.duration, curl.output_tail) == ("web1", 0, 0.42, "200")


def test_the_state_now_is_each_hosts_newest_look(report: Report) -> None:
    states = {h.name: h.state for h in report.hosts}
    assert {n: s.status for n, s in states.items()} == {"web1": "OK", "web2": "OK", "db1": "UNREACHABLE"}
    assert [o.key for o in states["db1"].not_ok] == ["reachability"]
    assert states["web1"].checked_at.astimezone(local(0, 0).tzinfo).strftime("%H:%M") == "02:50"


def test_the_state_of_a_night_that_found_problems(scenario: Scenario, incident: Incident) -> None:
    web1 = host(build_report([scenario.sweep1], incident), "web1").state
    assert web1.status == "CRITICAL"
    assert [o.key for o in web1.not_ok] == ["disk:/var", "http:https://shop.acme.example/"]


def test_a_later_step_that_reached_the_host_counts_for_its_reachability(tmp_path: Path,
                                                                       incident: Incident) -> None:
    """Without the second sweep, the run's steps are the newest look: web1 was reached, but
    no check looked at its disk again, so the disk finding still stands."""
    scenario = write_scenario(tmp_path)
    web1 = host(build_report([scenario.sweep1, scenario.run], incident), "web1").state
    assert web1.status == "CRITICAL" and "disk:/var" in [o.key for o in web1.not_ok]
    assert web1.checked_at > local(2, 40)


def test_the_event_stream_holds_every_event_sorted(scenario: Scenario, report: Report) -> None:
    lines = sum(len((d / "journal.jsonl").read_text().splitlines()) for d in scenario.run_dirs)
    assert len(report.events) == lines
    assert [e.ts for e in report.events] == sorted(e.ts for e in report.events)
    assert report.events[0].event == "run.start" and report.events[-1].event == "run.end"


def test_generated_at_is_the_last_event_not_now(report: Report) -> None:
    assert report.generated_at == report.events[-1].ts


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


def test_recovery_is_when_the_customer_visible_probe_answered_again(report: Report) -> None:
    assert report.recovery is not None
    assert (report.recovery.basis, report.recovery.hosts) == ("probe", ("web1",))
    assert report.recovery.at.astimezone(local(0, 0).tzinfo).strftime("%H:%M") == "02:50"


def test_the_likely_cause_is_the_deepest_finding_that_explains_a_fault(report: Report) -> None:
    assert report.cause.assessment is not None and report.cause.assessment.id == "cause.finding"
    assert report.cause.assessment.args["host"] == "web1"
    assert report.cause.assessment.args["finding"].id == "check.disk"


def test_recommendations_follow_the_findings_and_the_state_now(report: Report) -> None:
    recs = {(r.id, r.args.get("host")) for r in report.recommendations}
    assert recs == {("rec.disk_rotation", "web1"), ("rec.service", "web1")}
    assert [(p.id, p.args["host"]) for p in report.open_points] == [("open.unreachable", "db1")]


def test_a_disk_still_full_after_the_work_asks_for_capacity(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    for run in scenario.run_dirs:   # the clean-up and the last sweep both see 88 %
        journal = run / "journal.jsonl"
        journal.write_text(journal.read_text().replace("75.2", "88.0"))
    recs = build_report(scenario.run_dirs, incident).recommendations
    assert any(r.id == "rec.disk_capacity" and r.args["mount"] == "/var" and r.args["used_percent"] == 88.0
               for r in recs)


def test_no_capacity_advice_when_the_disk_is_fine_now(report: Report) -> None:
    assert not any(r.id == "rec.disk_capacity" for r in report.recommendations)


def test_notes_and_the_resolution_come_from_the_incident_record(scenario: Scenario) -> None:
    eva = Person("Eva Berger", "eva@service.example", "+49 711 1")
    incident = make_incident(notes=(IncidentNote(local(2, 47), eva, "Provider angerufen, Ticket 4711"),),
                             resolution=Resolution(local(2, 55), eva, "Shop läuft wieder"))
    report = build_report(scenario.run_dirs, incident)
    assert [(n.at, n.by, n.text) for n in report.notes] == [(local(2, 47), eva, "Provider angerufen, Ticket 4711")]
    assert report.resolved is not None and report.resolved.at == local(2, 55)
    assert report.generated_at == local(2, 55)    # the newest thing the report tells
    assert [r.message.id for r in report.story][-2:] == ["story.recovered.probe", "story.resolved.by"]
    assert "story.note.by" in [r.message.id for r in report.story]


def test_a_torn_last_line_is_skipped(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    with open(scenario.sweep2 / "journal.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"seq": 99, "ts": "2026-11-25T01:59:00.000Z", "event": "host.e')
    assert [r.id for r in build_report(scenario.run_dirs, incident).runs][-1] == SWEEP_2


def test_a_directory_without_journal_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no journal.jsonl"):
        build_report([tmp_path], None)


def test_without_incident_there_is_no_sla_and_the_customer_comes_from_the_journal(scenario: Scenario) -> None:
    report = build_report(scenario.run_dirs, None)
    assert report.incident is None and report.sla is None
    assert report.customer == "ACME GmbH"
    assert replace(report, customer="Other").customer == "Other"
