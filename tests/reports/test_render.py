"""What the customer reads: the immediate and next-day reports in both languages and all formats."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from runbook.incidents import Incident
from runbook.reports import Report, build_report, mail_subject, render_immediate, render_next_day, report_title
from runbook.reports.render import markdown_code, markdown_text
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
    assert "nginx-logs-20261125T0131.tar.gz" in out and "1" * 64 in out
    assert "systemctl restart php8.2-fpm" in out


def test_immediate_in_english_says_what_was_done(report: Report) -> None:
    text = squash(render_immediate(report, "en", "text"))
    assert "A category 1 fault was reported on 25 Nov 2026, 02:14 by phone." in text
    assert ("We started work on 25 Nov 2026, 02:20, 54 min before the reaction deadline "
            "(25 Nov 2026, 03:14, on-call service). The agreed reaction time was met.") in text
    assert "Restarted php-fpm on web1 at 02:41; the shop answers again." in text
    assert "/var on web1 was 96% full and is now at 75%; 4.2 GiB freed." in text
    assert "Critical: /var: 96% used, 860.0 MiB free (warning from 85%, critical from 90%)" in text
    assert "db1 could not be reached (network connection: connection refused)." in text
    assert "db1: Unreachable" in text and "web1 and web2: OK" in text
    assert "We keep working on db1 until everything is OK again." in text
    assert "You will receive the detailed report on Thursday, 26 Nov 2026." in text


def test_immediate_in_german_reads_like_german(report: Report) -> None:
    text = squash(render_immediate(report, "de", "text"))
    assert "Eine Störung der Kategorie 1 ging am 25.11.2026, 02:14 Uhr telefonisch bei uns ein." in text
    assert "Ihre Meldung: „Shop antwortet nicht, Kasse hängt“" in text
    assert "Die vereinbarte Reaktionszeit wurde eingehalten." in text
    assert "54 min vor Ablauf der Reaktionsfrist (25.11.2026, 03:14 Uhr, Rufbereitschaft)" in text
    assert "php-fpm auf web1 um 02:41 Uhr neu gestartet; der Shop antwortet wieder." in text
    assert "/var auf web1 war zu 96 % belegt und liegt jetzt bei 75 %; 4,2 GiB freigegeben." in text
    assert ("2 Logdateien aus /var/log/nginx auf web1 um 02:30 Uhr archiviert "
            "(50,0 MiB, Prüfsumme kontrolliert).") in text
    assert "Kritisch: https://shop.acme.example/ antwortet nicht wie erwartet" in text
    assert "db1 war nicht erreichbar (Netzwerkverbindung: connection refused)." in text
    assert "db1: Nicht erreichbar (Netzwerkverbindung: connection refused)" in text
    assert "web1 und web2: OK" in text
    assert "Den ausführlichen Bericht erhalten Sie am Donnerstag, 26.11.2026." in text


def test_a_plain_change_sentence_is_kept_and_framed(report: Report) -> None:
    text = squash(render_immediate(report, "de", "text"))
    assert "Auf web2 um 02:45 Uhr: Rotated /var/log/php8.2-fpm.log to /var/log/php8.2-fpm.log.1." in text


def test_immediate_text_fits_one_screen(report: Report) -> None:
    for lang in ("de", "en"):
        lines = render_immediate(report, lang, "text").splitlines()
        assert len(lines) <= 50
        assert max(len(line) for line in lines) <= 80


def test_a_missed_deadline_is_said_plainly(report: Report) -> None:
    assert report.sla is not None
    late = replace(report, sla=replace(report.sla, met=False, margin=-timedelta(minutes=16)))
    assert "16 min nach Ablauf der Reaktionsfrist" in squash(render_immediate(late, "de", "text"))
    assert "Die vereinbarte Reaktionszeit wurde überschritten." in squash(render_immediate(late, "de", "text"))
    assert "The agreed reaction time was missed." in squash(render_immediate(late, "en", "markdown"))
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
    assert ("Die Arbeit hat noch nicht begonnen; die Reaktionsfrist endet am 25.11.2026, 03:14 Uhr "
            "(Rufbereitschaft).") in text
    assert "Es wurde noch kein System geprüft." in text
    assert "Wir kümmern uns darum und melden uns wieder." in text
    assert "in Ordnung" not in text
    assert "Reaktion begonnen</th><td>–</td>" in render_next_day(report, "de", "html")


def test_all_ok_at_the_last_sweep(scenario: Scenario, incident: Incident) -> None:
    report = build_report([scenario.run, scenario.sweep2], incident)
    healthy = replace(report, hosts=tuple(h for h in report.hosts if h.name != "db1"))
    text = squash(render_immediate(healthy, "de", "text"))
    assert "Alle Systeme sind wieder in Ordnung." in text


def test_check_mode_changes_are_marked_as_planned(tmp_path: Path, incident: Incident) -> None:
    scenario = write_scenario(tmp_path)
    journal = scenario.run / "journal.jsonl"
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    lines[0]["check"] = True
    journal.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in lines))
    text = squash(render_immediate(build_report(scenario.run_dirs, incident), "de", "text"))
    assert "Nur geplant, nicht ausgeführt (Probelauf): php-fpm auf web1 um 02:41 Uhr neu gestartet" in text


def test_next_day_has_every_section(report: Report) -> None:
    html = render_next_day(report, "de", "html")
    for section in ("summary", "timeline", "findings", "evidence", "archives", "analyses", "sla",
                    "recommendations", "commands"):
        assert f'<section id="{section}"' in html
    assert "Ausführlicher Störungsbericht – Störung ACME-412" in html
    assert "Klären, was /var auf web1 füllt" in html
    assert "54 min vor Fristende" in html and "Donnerstag, 26.11.2026" in html
    assert "Schritt 2 „Restart php-fpm“ (services.restart) gestartet" in html.replace("&#34;", '"')
    assert "upstream timed out" in html


def test_memory_evidence_is_shown_with_its_units(report: Report) -> None:
    html = render_next_day(report, "de", "html")
    assert "web1: Arbeitsspeicher (02:41:00 → 02:41:04)" in html
    assert '<td>verfügbar</td><td class="num">614,4 MiB</td><td class="num">4,9 GiB</td>' in html
    assert '<td>Swap belegt (Anteil)</td><td class="num">90 %</td><td class="num">10 %</td>' in html
    md = render_next_day(report, "en", "markdown")
    assert "| available | 614.4 MiB | 4.9 GiB |" in md


def test_next_day_markdown_timeline_and_sla(report: Report) -> None:
    md = render_next_day(report, "en", "markdown")
    assert "| 25 Nov 2026 02:20:00 | 1 |  | Sweep of 3 hosts started by mmueller |" in md
    assert "| Deadline | 25 Nov 2026, 03:14 |" in md
    assert "| Verdict | met |" in md
    assert "| `systemctl restart php8.2-fpm` | 0 | 1.80 s |" in md


def test_next_day_html_is_standalone_and_prints(report: Report) -> None:
    html = render_next_day(report, "en", "html")
    assert "<svg" in html and "<rect" in html           # the before/after chart, inline
    assert "@media print" in html and "break-before: page" in html
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


def test_unsupported_format_or_language(report: Report) -> None:
    with pytest.raises(ValueError, match="text"):
        render_next_day(report, "de", "text")
    with pytest.raises(ValueError, match="pdf"):
        render_immediate(report, "de", "pdf")
    with pytest.raises(ValueError, match="fr"):
        render_immediate(report, "fr", "text")


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
    assert "An db1 arbeiten wir weiter" in out
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
def test_a_command_cut_short_shows_why_in_the_appendix(tmp_path: Path, incident: Incident, lang: str,
                                                       word: str) -> None:
    """Ctrl-C during a restart: the command was sent and never came back. The appendix says so
    instead of showing an empty exit code."""
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
    rows = [line for line in render_next_day(report, lang, "markdown").splitlines()
            if "systemctl restart nginx" in line]
    assert len(rows) == 2  # the timeline, and the appendix of commands
    assert "None" not in "".join(rows)
    timeline, appendix = rows
    assert word in timeline and f"| {word} |" in appendix


def test_the_german_timeline_words_changes_in_german(report: Report) -> None:
    """The action's own message is English ("restarted php-fpm"); where it named catalogue
    sentences for its changes, the timeline uses them in the report's language."""
    rows = [line for line in render_next_day(report, "de", "markdown").splitlines() if "02:41:03" in line]
    assert len(rows) == 1
    assert "geändert – php-fpm auf web1 um 02:41 Uhr neu gestartet; der Shop antwortet wieder." in rows[0]
    assert "restarted php-fpm" not in rows[0]
    english = [line for line in render_next_day(report, "en", "markdown").splitlines() if "02:41:03" in line]
    assert "Restarted php-fpm on web1 at 02:41; the shop answers again." in english[0]
