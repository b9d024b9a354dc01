"""A log analysis from runbook.analysis, as an action journals it, in the next-day report."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from runbook.analysis import analyze_paths
from runbook.reports import build_report, render_next_day
from tests.reports.journals import Clock, journal, local

TIMED_OUT = "upstream timed out (110: Connection timed out) while reading response header"
ERROR_LOG = "".join([
    f"2026/11/25 02:05:01 [error] 1234#1234: *1 {TIMED_OUT}, client: 203.0.113.5\n",
    f"2026/11/25 02:05:07 [error] 1234#1234: *2 {TIMED_OUT}, client: 203.0.113.9\n",
    f"2026/11/25 02:05:09 [error] 1234#1234: *5 {TIMED_OUT}, client: 203.0.113.7\n",
    "2026/11/25 02:06:00 [error] 1234#1234: *3 connect() to unix:/run/php/php8.2-fpm.sock failed "
    "(11: Resource temporarily unavailable) while connecting to upstream\n",
    '2026/11/25 02:07:00 [error] 1234#1234: *4 "><img src=x onerror=alert(1)> <script>alert(1)</script> x\n',
])


def analysis_run(tmp_path: Path) -> Path:
    log = tmp_path / "error.log"
    log.write_text(ERROR_LOG)
    result = analyze_paths([str(log)], fmt="nginx-error", naive_tz="+01:00").to_dict()
    clock = Clock()
    clock.at(local(2, 43))
    run_id = "20261125T014300Z-0e05"
    with journal(tmp_path / "runs", run_id, clock, kind="run", playbook="analyse", hosts=["web1"]) as j:
        j.write("step.start", step=0, name="Analyse nginx error log", action="logs.analyze", hosts=["web1"])
        j.write("host.end", step=0, host="web1", outcome="ok", message="3 patterns", changes=[],
                data={"analysis": result}, error=None, duration=0.4)
    return tmp_path / "runs" / run_id


def test_each_log_set_shows_its_most_frequent_patterns(tmp_path: Path) -> None:
    report = build_report([analysis_run(tmp_path)], None)
    [analysis] = report.hosts[0].analyses
    assert analysis.title.endswith("error.log (nginx-error)")
    assert analysis.columns == ("count", "severity", "template", "first_seen", "last_seen")
    count, severity, template, first, _ = analysis.rows[0]
    assert (count, severity) == (3, "error") and template.startswith("upstream timed out")
    assert first == local(2, 5, 1)

    assert "<th>Zeilenmuster</th>" not in render_next_day(report, "de", "html")   # the table is for us
    html = render_next_day(report, "de", "html", audience="internal")
    assert "<th>Zeilenmuster</th>" in html and "<th>Anzahl</th>" in html
    assert "25.11.2026, 02:05 Uhr" in html          # the pattern's first time, in Berlin time
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&lt;n&gt;)&lt;/script&gt;" in html

    md = render_next_day(report, "en", "markdown", audience="internal")
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert "<script" not in rendered and "<img" not in rendered


def test_the_log_timeline_puts_every_hosts_errors_in_one_order(tmp_path: Path) -> None:
    """web1's nginx errors and db1's PostgreSQL errors, analysed in two runs, in one table:
    local time, the minute buckets and first/last sightings, in the reader's language."""
    (tmp_path / "web").mkdir()
    web_run = analysis_run(tmp_path / "web")
    pg = tmp_path / "postgresql.log"
    pg.write_text("2026-11-25 02:05:30.100 CET [77] shop@shop ERROR:  relation \"orders_x\" does not exist"
                  " at character 15\n2026-11-25 02:05:30.100 CET [77] shop@shop STATEMENT:  select * from orders_x\n")
    clock = Clock()
    clock.at(local(2, 44))
    run_id = "20261125T014400Z-0e06"
    with journal(tmp_path / "db" / "runs", run_id, clock, kind="run", playbook="analyse", hosts=["db1"]) as j:
        j.write("step.start", step=0, name="Analyse PostgreSQL", action="logs.analyze", hosts=["db1"])
        j.write("host.end", step=0, host="db1", outcome="ok", message="1 pattern", changes=[],
                data={"analysis": analyze_paths([str(pg)], fmt="postgres").to_dict()}, error=None, duration=0.2)
    report = build_report([web_run, tmp_path / "db" / "runs" / run_id], None)

    rows = [(e.time, e.host, e.kind) for e in report.log_timeline]
    assert rows == sorted(rows, key=lambda r: r[0]) and {h for _, h, _ in rows} == {"web1", "db1"}
    assert ("db1", "first") in {(h, k) for _, h, k in rows}
    md = render_next_day(report, "de", "markdown")
    section = md[md.index("## Logs aller Systeme im Zeitverlauf"):]
    assert "| 02:05:00 | db1 | postgresql.log | Fehler | Einträge: 1, davon Fehlermeldungen: 1 |" in section
    assert "| 02:05:00 | web1 | error.log | Fehler | Einträge: 3, davon Fehlermeldungen: 3 |" in section
    assert "| 02:05:30 | db1 | postgresql.log | Fehler | erstmals: relation" in section
    html = render_next_day(report, "en", "html")
    assert "Logs of all servers over time" in html and "first seen: upstream timed out" in html
    assert "<script" not in html
    # the likely cause reads the same timeline: first error per host, the database first at a tie
    assert [(s.host, s.log) for s in report.cause.steps] == [("db1", "postgresql.log"), ("web1", "error.log")]
    assert "The first errors in the logs, in order: db1 at 02:05 and web1 at 02:05." in " ".join(html.split())


def test_when_only_the_logs_point_somewhere_the_advice_says_where(tmp_path: Path) -> None:
    """No finding explains the fault by itself: the assessment and the advice name the host
    whose logs showed the first errors."""
    report = build_report([analysis_run(tmp_path)], None)
    assert report.cause.assessment is not None and report.cause.assessment.id == "cause.logs"
    assert [r.id for r in report.recommendations] == ["rec.first_errors"]
    text = " ".join(render_next_day(report, "de", "markdown").split())
    assert "Nach unserer Einschätzung begann die Störung am Webserver web1" in text
    assert "Die ersten Fehler zeigten sich in den Logs von web1" in text
