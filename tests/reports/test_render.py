"""What the customer reads: the immediate and next-day reports in both languages and all formats."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from runbook.incidents import Incident
from runbook.reports import Report, build_report, mail_subject, render_immediate, render_next_day, report_title
from runbook.reports.render import TEXT_WIDTH, markdown_code, markdown_text
from tests.support.reports import copy_runs
from tests.reports.journals import Scenario, write_scenario
from tests.support.reports import copy_runs

IMMEDIATE = [(lang, fmt) for lang in ("de", "en") for fmt in ("text", "markdown", "html")]
NEXT_DAY = [(lang, fmt) for lang in ("de", "en") for fmt in ("html", "markdown")]


def squash(text: str) -> str:
    """Text with its line wrapping undone, to look for whole sentences."""
    return " ".join(text.split())


@pytest.mark.parametrize(("lang", "fmt"), IMMEDIATE)
def test_immediate_report_renders_every_language_and_format(report: Report, lang: str, fmt: str) -> None:
    out = render_immediate(report, lang, fmt)
    assert report_title(report, "immediate", lang) in out
    assert all(h in out for h in ("web1", "web2", "db1"))


@pytest.mark.parametrize(("lang", "fmt"), NEXT_DAY)
def test_next_day_report_renders_every_language_and_format(report: Report, lang: str, fmt: str) -> None:
    out = render_next_day(report, lang, fmt)
    assert report_title(report, "next_day", lang) in out
    assert all(h in out for h in ("web1", "web2", "db1"))
    # what the engine did is for us, not for the customer
    assert "systemctl restart php8.2-fpm" not in out and "nginx-logs-20261125T0131.tar.gz" not in out
    internal = render_next_day(report, lang, fmt, audience="internal")
    assert "systemctl restart php8.2-fpm" in internal and "20261125T013000Z-0b02" in internal


def test_immediate_in_english_says_what_was_done(report: Report) -> None:
    text = squash(render_immediate(report, "en", "text"))
    assert "Your report: 25 Nov 2026, 02:14 by phone, category 1: “Shop antwortet nicht, Kasse hängt”" in text
    assert "Reaction: started 02:20, 54 min before the reaction deadline (03:14) – met." in text
    assert "web1: https://shop.acme.example/ answers with status 502 instead of 200" in text
    assert "db1: not reachable" in text
    assert "Measures (4)" in text
    assert "02:41 Restarted php-fpm on web1; the shop answers again." in text
    assert "/var on web1: 96% → 75% used, 4.2 GiB freed." in text
    assert "web1 and web2: OK (last checked at 02:50)." in text
    assert "db1 still cannot be reached; we stay on it." in text
    assert "You will receive the detailed report on Thursday, 26 Nov 2026." in text


def test_immediate_in_german_reads_like_german(report: Report) -> None:
    text = squash(render_immediate(report, "de", "text"))
    assert "Ihre Meldung: 25.11.2026, 02:14 Uhr telefonisch, Kategorie 1: „Shop antwortet nicht, Kasse hängt“" in text
    assert "Reaktion: Beginn 02:20 Uhr, 54 min vor Ablauf der Reaktionsfrist (03:14 Uhr) – eingehalten." in text
    assert "web1: https://shop.acme.example/ antwortet mit Status 502 statt 200" in text
    assert "02:41 php-fpm auf web1 neu gestartet; der Shop antwortet wieder." in text
    assert "02:30 Logs auf web1 gesichert (2 Dateien, Prüfsummen kontrolliert)." in text
    assert "/var auf web1: 96 % → 75 % belegt, 4,2 GiB freigegeben." in text
    assert "web1 und web2: in Ordnung (zuletzt geprüft 02:50 Uhr)." in text
    assert "db1 ist weiterhin nicht erreichbar; wir bleiben daran." in text
    assert "Den ausführlichen Bericht erhalten Sie am Donnerstag, 26.11.2026." in text


def test_a_change_journalled_without_a_message_id_is_framed(report: Report) -> None:
    """An action of an older version journalled only its English sentence: the report says
    whose change it was, and keeps the sentence as the action wrote it."""
    text = squash(render_immediate(report, "de", "text"))
    assert "02:45 Auf web2: Rotated /var/log/php8.2-fpm.log to /var/log/php8.2-fpm.log.1." in text


def test_immediate_text_fits_one_screen(report: Report) -> None:
    for lang in ("de", "en"):
        lines = render_immediate(report, lang, "text").splitlines()
        assert len(lines) <= 25
        assert max(len(line) for line in lines) <= TEXT_WIDTH


def test_a_missed_deadline_is_said_plainly(report: Report) -> None:
    assert report.sla is not None
    late = replace(report, sla=replace(report.sla, met=False, margin=-timedelta(minutes=16)))
    assert "16 min nach Ablauf der Reaktionsfrist (03:14 Uhr) – überschritten." in squash(
        render_immediate(late, "de", "text"))
    assert "The agreed reaction time was missed." in squash(render_next_day(late, "en", "markdown"))
    assert "16 min zu spät" in render_next_day(late, "de", "html")


def test_without_an_incident_the_report_covers_the_runs(scenario: Scenario) -> None:
    report = build_report(scenario.run_dirs, None)
    text = squash(render_immediate(report, "en", "text"))
    assert "This report covers 3 runs without a recorded incident." in text
    assert "We started work on 25 Nov 2026, 02:20." in text
    assert "detailed report on" not in text
    assert report_title(report, "immediate", "en") == "Immediate report"


def test_an_incident_before_any_run(incident: Incident) -> None:
    report = build_report([], incident)
    assert report.generated_at == incident.opened_at
    text = squash(render_immediate(report, "de", "text"))
    assert "Noch nicht begonnen; die Reaktionsfrist endet 03:14 Uhr." in text
    assert "Seit den Arbeiten hat noch keine Prüfung die Systeme kontrolliert." in text
    assert "Wir prüfen die Systeme und melden uns wieder." in text
    assert "in Ordnung" not in text
    assert "Reaktion begonnen</th><td>–</td>" in render_next_day(report, "de", "html")


def test_all_ok_now_says_so_and_nothing_else(scenario: Scenario, incident: Incident) -> None:
    report = build_report([scenario.run, scenario.sweep2], incident)
    healthy = replace(report, hosts=tuple(h for h in report.hosts if h.name != "db1"), open_points=())
    text = squash(render_immediate(healthy, "de", "text"))
    assert "Alle Systeme sind wieder in Ordnung." in text
    assert "wir bleiben daran" not in text and "melden uns wieder" not in text


def test_check_mode_changes_are_never_measures(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    journal = scenario.run / "journal.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    lines[0]["check"] = True
    journal.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines))
    report = build_report(scenario.run_dirs, incident)
    assert report.measures == () and len(report.planned) == 4
    text = squash(render_immediate(report, "de", "text"))
    assert "Maßnahmen (0)" in text and "neu gestartet" not in text and "php-fpm" not in text
    planned = squash(render_immediate(report, "de", "text", include_planned=True))
    assert "Geplant, nicht ausgeführt (Probelauf)" in planned
    assert "02:41 php-fpm auf web1 neu starten und prüfen, ob der Shop wieder antwortet" in planned
    html = render_next_day(report, "en", "html", include_planned=True)
    assert "Planned, not carried out (check mode)" in html
    assert "restart php-fpm on web1 and check that the shop answers again" in html
    assert "Planned, not carried out" not in render_next_day(report, "en", "html")


def test_next_day_tells_the_incident_as_a_story(report: Report) -> None:
    html = render_next_day(report, "de", "html")
    for section in ("summary", "story", "findings", "cause", "measures", "result", "evidence", "timeline", "sla",
                    "recommendations", "open"):
        assert f'id="{section}"' in html
    order = [html.index(f'id="{s}"') for s in ("summary", "findings", "cause", "measures", "result", "timeline",
                                                "sla", "recommendations", "open")]
    assert order == sorted(order)
    assert "Ausführlicher Störungsbericht – Störung ACME-412" in html
    assert "Nach unserer Einschätzung lag die Ursache bei web1: /var zu 96 % belegt" in html
    assert "Klären, was /var auf web1 gefüllt hat" in html
    assert "54 min vor Fristende" in html and "Donnerstag, 26.11.2026" in html
    assert "Schritt 2" not in html and "mmueller" not in html   # the engine's events stay internal


def test_the_memory_chart_shows_ram_and_swap_with_their_thresholds(report: Report) -> None:
    html = render_next_day(report, "de", "html")
    assert "Arbeitsspeicher von web1, vorher und nachher" in html
    chart = html[html.index('aria-label="Arbeitsspeicher von web1'):]
    chart = chart[:chart.index("</svg>")]
    assert "Arbeitsspeicher belegt" in chart and "Swap belegt" in chart
    assert "92,3 %" in chart and "37,2 %" in chart and "90 %" in chart and "10 %" in chart
    assert "Warnung 90 %" in chart and "kritisch 95 %" in chart


def test_the_disk_chart_labels_its_thresholds(report: Report) -> None:
    html = render_next_day(report, "en", "html")
    chart = html[html.index('aria-label="Disk usage of web1'):]
    chart = chart[:chart.index("</svg>")]
    assert ">/var<" in chart and "96%" in chart and "75.2%" in chart
    assert "warning 85%" in chart and "critical 90%" in chart
    assert "before (02:30)" in chart and "after (02:30)" in chart   # the clean-up's own evidence


def test_next_day_markdown_timeline_and_sla(report: Report) -> None:
    md = render_next_day(report, "en", "markdown")
    assert "| 25 Nov 2026 02:14 | Fault reported by phone |" in md
    assert "| 02:41 | Restarted php-fpm on web1; the shop answers again. |" in md
    assert "| 02:50 | The services on web1 answer again |" in md
    assert "| Deadline | 25 Nov 2026, 03:14 (on-call service) |" in md
    assert "| Verdict | met, 54 min early |" in md


def test_next_day_html_is_standalone_and_prints(report: Report) -> None:
    html = render_next_day(report, "en", "html")
    assert "<svg" in html and "<rect" in html           # the before/after chart, inline
    assert "@media print" in html and "break-inside: avoid" in html
    assert "overflow-wrap: anywhere" in html            # a long path wraps instead of leaving the page
    for fetch in ("<script", "<link", "@import", 'src="http', "href=\"http", "url("):
        assert fetch not in html
    assert "default-src 'none'" in html                  # nothing can load or run even by mistake


def test_same_journals_give_byte_identical_reports(scenario: Scenario, incident: Incident,
                                                    tmp_path: Path) -> None:
    again = build_report(copy_runs(scenario, tmp_path), incident)
    first = build_report(scenario.run_dirs, incident)
    for lang, fmt in IMMEDIATE:
        assert render_immediate(first, lang, fmt).encode() == render_immediate(again, lang, fmt).encode()
    for lang, fmt in NEXT_DAY:
        assert render_next_day(first, lang, fmt).encode() == render_next_day(again, lang, fmt).encode()


def test_unsupported_format_language_or_audience(report: Report) -> None:
    with pytest.raises(ValueError, match="text"):
        render_next_day(report, "de", "text")
    with pytest.raises(ValueError, match="pdf"):
        render_immediate(report, "de", "pdf")
    with pytest.raises(ValueError, match="fr"):
        render_immediate(report, "fr", "text")
    with pytest.raises(ValueError, match="boss"):
        render_next_day(report, "de", "html", audience="boss")


def test_customer_templates_override_the_package_ones(report: Report, tmp_path: Path) -> None:
    custom = tmp_path / "acme-templates"
    custom.mkdir()
    (custom / "immediate.txt.j2").write_text(
        "ACME-Vorlage: {{ title }}\n{% for l in view.follows %}{{ l }}\n{% endfor %}")
    (custom / "_layout.html.j2").write_text(
        (Path(__file__).parents[2] / "runbook/reports/templates/_layout.html.j2").read_text()
        .replace("<header>", '<header><p class="brand">ACME Hausfarben</p>'))
    out = render_immediate(report, "de", "text", template_dirs=[custom])
    assert out.startswith("ACME-Vorlage: Sofortbericht – Störung ACME-412\n")
    assert "db1 ist weiterhin nicht erreichbar" in out
    # the first matching directory wins; templates the customer did not override come from the package
    for html in (render_immediate(report, "de", "html", template_dirs=[custom]),
                 render_next_day(report, "de", "html", template_dirs=[custom])):
        assert "ACME Hausfarben" in html
    assert "ACME Hausfarben" not in render_next_day(report, "de", "html")
    untouched = render_next_day(report, "de", "markdown", template_dirs=[custom])
    assert untouched == render_next_day(report, "de", "markdown")


def test_a_misspelt_field_in_a_template_fails_loudly(report: Report, tmp_path: Path) -> None:
    (tmp_path / "immediate.txt.j2").write_text("{{ report.no_such_field }}")
    with pytest.raises(Exception, match="no_such_field"):
        render_immediate(report, "en", "text", template_dirs=[tmp_path])


def test_mail_subject_names_customer_and_incident(report: Report) -> None:
    assert mail_subject(report, "immediate", "de") == "ACME GmbH: Sofortbericht – Störung ACME-412"


@pytest.mark.parametrize(("raw", "expected"), [
    ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
    ("php_errors.log", "php\\_errors.log"),
    ("a | b", "a \\| b"),
    ("line one\nline two", "line one line two"),
])
def test_markdown_text_is_inert(raw: str, expected: str) -> None:
    assert markdown_text(raw) == expected


def test_markdown_code_spans_survive_backticks_and_pipes() -> None:
    assert markdown_code("echo `date`") == "`` echo `date` ``"
    assert markdown_code("ls -l") == "`ls -l`"
    assert markdown_code("a|b", cell=True) == "`a\\|b`"


@pytest.mark.parametrize(("lang", "word"), [("de", "abgebrochen"), ("en", "interrupted")])
def test_a_command_cut_short_shows_why_in_the_internal_appendix(tmp_path: Path, incident: Incident, lang: str,
                                                                word: str) -> None:
    """Ctrl-C during a restart: the command was sent and never came back. The internal
    appendix says so instead of showing an empty exit code; the customer sees no command."""
    scenario = write_scenario(tmp_path)
    journal = scenario.run / "journal.jsonl"
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    restart = next(e for e in events if e.get("command") == "systemctl restart php8.2-fpm")
    cut = dict(restart, seq=restart["seq"], command="systemctl restart nginx", exit_code=None,
               stderr="web1: command interrupted: systemctl restart nginx", cut_short="interrupted")
    journal.write_text(journal.read_text() + json.dumps(cut) + "\n")
    report = build_report(scenario.run_dirs, incident)
    (command,) = [c for c in report.commands if c.command == "systemctl restart nginx"]
    assert (command.exit_code, command.cut_short) == (None, "interrupted")
    assert "systemctl restart nginx" not in render_next_day(report, lang, "markdown")
    rows = [line for line in render_next_day(report, lang, "markdown", audience="internal").splitlines()
            if "systemctl restart nginx" in line]
    assert len(rows) == 2  # the events, and the appendix of commands
    assert "None" not in "".join(rows)
    events_row, appendix = rows
    assert word in events_row and f"| {word} |" in appendix
