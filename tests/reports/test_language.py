"""The customer's language throughout: every sentence from the catalogues, and a check that
finds the other catalogue's words in a report (tried on reports that have them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.incidents import Incident
from runbook.reports import Report, build_report, render_immediate, render_next_day
from tests.reports.journals import write_scenario
from tests.reports.test_reports_real_runs import readable
from tests.scenarios.language import foreign_in, foreign_text


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_check_is_made_of_the_catalogues(lang: str) -> None:
    phrases, words = foreign_text(lang)
    if lang == "de":
        assert "The agreed reaction time was met" in phrases and "Unreachable" in words and "Nov" in words
    else:
        assert "Die vereinbarte Reaktionszeit wurde eingehalten" in phrases and "Uhr" in words
    assert not words & {"OK", "SSH", "JIRA", "Log"}        # said the same in both: not foreign


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_report_in_one_language_has_none_of_the_other(report: Report, lang: str) -> None:
    for text in (readable(render_immediate(report, lang, "html"), "html"),
                 readable(render_next_day(report, lang, "html"), "html")):
        # the one change an old action journalled only in English ("Rotated ...") is quoted as it was
        assert foreign_in(text, lang, report) == (["Rotated"] if lang == "de" else [])


def test_the_check_finds_a_sentence_of_the_other_language(report: Report) -> None:
    german = readable(render_immediate(report, "de", "html"), "html")
    assert "We keep working on it" not in german
    assert "The agreed reaction time was met" in foreign_in(german + " The agreed reaction time was met.", "de", report)
    assert "Critical" in foreign_in(german + " Critical", "de", report)
    english = readable(render_immediate(report, "en", "html"), "html")
    assert "Uhr" in foreign_in(english.replace("02:50", "02:50 Uhr"), "en", report)


def test_server_text_and_the_customers_own_words_are_not_the_reports_language(report: Report) -> None:
    """A German summary in an English report is the customer's quote, not a slip."""
    english = readable(render_next_day(report, "en", "html"), "html")
    assert "Shop antwortet nicht" in english
    assert foreign_in(english, "en", report) == []


def test_an_internal_error_reads_as_a_step_we_look_into(tmp_path: Path, incident: Incident) -> None:
    """A failed step on a reachable host (here an analyser's usage text) is one customer
    sentence; the detail is for the internal version only."""
    scenario = write_scenario(tmp_path)
    journal = scenario.run / "journal.jsonl"
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    for event in events:
        if event["event"] == "host.end" and event.get("message") == "2 patterns":
            event.update(outcome="failed", message="usage: analyse [-h] FILE", data={}, error={
                "type": "ActionError", "layer": None,
                "message": "usage: analyse [-h] FILE\nanalyse: error: the following arguments are required"})
    journal.write_text("".join(json.dumps(e) + "\n" for e in events))
    report = build_report(scenario.run_dirs, incident)
    for lang, sentence in (("de", "Auf web1 konnte ein Prüfschritt (analysis.logs) nicht ausgeführt werden; "
                                  "wir prüfen das."),
                           ("en", "On web1, a check step (analysis.logs) could not be carried out; "
                                  "we are looking into it.")):
        for text in (render_immediate(report, lang, "text"), render_next_day(report, lang, "markdown")):
            assert sentence in " ".join(text.split())
            assert "usage:" not in text and "error: the following" not in text
        assert "usage: analyse [-h] FILE" in render_next_day(report, lang, "markdown", audience="internal")
