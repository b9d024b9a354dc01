"""A category-1 night on the real lab, worked exactly as an engineer works it, and the reports
the customer gets from it.

The shop (nginx on web1 -> gunicorn on app1 -> PostgreSQL on db1) breaks the way shops do:
PostgreSQL refuses logins, the app's only worker hangs so web1 answers 504, and the shop
application's log filesystem on web1 runs full; down1 and tarpit1 cannot be reached at all.
Then, every step a ``runbook`` process: the incident is opened, ``on-call.yml`` runs with
``--check`` and then for real, ``disk-pressure.yml`` on web1 (check, then real), a note of
the call to the hosting provider is recorded, and the incident is resolved. The immediate
and next-day reports are made in German and English through the CLI and read as the
customer reads them: the measures are the real changes, the disk's before/after line has
the journal's figures, the state is the final check's, no English in the German report (and
the other way round), nothing of our machine, one screen for the immediate report and at
most six printed pages for the next-day one.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from runbook.incidents import IncidentStore
from runbook.inventory import load_inventory
from runbook.journal import iter_runs, parse_ts, read_events
from runbook.reports import Report, build_report
from runbook.reports.i18n import format_bytes
from runbook.reports.render import TEXT_WIDTH
from tests.lab.night import OPERATOR, SIGNATURE, write_night
from tests.lab.services import LabStack
from tests.reports.test_reports_real_runs import readable
from tests.scenarios.breakage import (database_errors, full_shop_log_mount, hang_shop, judge_shop_mount,
                                      shop_answers, used_percent)
from tests.scenarios.language import foreign_in
from tests.support.cli import REPO, cli_env

pytestmark = pytest.mark.lab

BERLIN = ZoneInfo("Europe/Berlin")
INCIDENT = "SHOP-4711"
SUMMARY = "Shop antwortet nicht"
NOTE = "Hosting-Provider Lab Hosting angerufen: Ticket LH-20931, down1 und tarpit1 werden geprüft."
RESOLVED = "Shop antwortet wieder"
PLAYBOOKS = REPO / "playbooks"
MAX_PAGES = 6
MAX_LINES = 25


@dataclass(frozen=True)
class Night:
    """What the night left: its reports root, inventory, the mount that ran full, every run's
    journal events (check-mode runs marked), and the reports as the CLI printed them."""

    reports: Path
    inventory: Path
    mount: Path
    runs: dict[str, list[dict[str, Any]]]
    texts: dict[tuple[str, str, str], str]     # (kind, lang, audience) -> document
    model: Report

    def real_runs(self) -> list[list[dict[str, Any]]]:
        return [events for events in self.runs.values() if not events[0].get("check")]

    def report(self, *args: object) -> str:
        return runbook(self.reports, "report", *args, "--incident", INCIDENT, "-i", self.inventory).stdout


def runbook(reports: Path, *args: object, expect: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """``python -m runbook ARGS`` as the engineer types it (RUNBOOK_REPORTS_DIR set, no operator
    in the environment: the inventory names her)."""
    env = cli_env()
    for name in ("RUNBOOK_OPERATOR", "RUNBOOK_RUNS_DIR", "RUNBOOK_SMTP_HOST"):
        env.pop(name, None)
    env["RUNBOOK_REPORTS_DIR"] = str(reports)
    done = subprocess.run([sys.executable, "-m", "runbook", *map(str, args)], cwd=REPO, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300, check=False)
    assert done.returncode in expect, f"runbook {' '.join(map(str, args))}: exit {done.returncode}\n" \
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def night(lab_stack: LabStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    if os.geteuid() != 0:
        pytest.skip("the night's full log filesystem is a small ext4 mount, which needs root")
    stack = lab_stack
    stack.ensure_running()
    stack.fresh_logs()
    base = tmp_path_factory.mktemp("oncall-night")
    reports = base / "reports"
    inventory = write_night(stack, base / "night")
    try:
        with full_shop_log_mount(stack.web.root) as mount:
            assert used_percent(mount) > 90
            judge_shop_mount(inventory / "shop.yml", mount)
            received = datetime.now(BERLIN).replace(second=0, microsecond=0) - timedelta(minutes=2)
            database_errors(stack)
            hang_shop(stack)
            assert not shop_answers(stack)
            yield _work(reports, inventory, mount, received)
    finally:
        stack.stop_helpers()
        stack.ensure_running()


def _work(reports: Path, inventory: Path, mount: Path, received: datetime) -> Night:
    """The night as the engineer works it, then every report as the customer gets it."""
    runbook(reports, "incident", "open", INCIDENT, "-c", "1", "--received", received.strftime("%Y-%m-%dT%H:%M"),
            "--channel", "jira", "--summary", SUMMARY, "-i", inventory, "--customer", "shop")
    oncall = PLAYBOOKS / "on-call.yml"
    pressure = PLAYBOOKS / "disk-pressure.yml"
    # exit 5: down1 and tarpit1 cannot be reached, whatever else happens
    runbook(reports, "run", oncall, "-i", inventory, "-l", "shop:*", "--incident", INCIDENT, "--check", expect=(5,))
    runbook(reports, "run", oncall, "-i", inventory, "-l", "shop:*", "--incident", INCIDENT, "--yes", expect=(5,))
    # in check mode the disk stays full: the re-check judges the plan's "before", and does not fail it
    runbook(reports, "run", pressure, "-i", inventory, "-l", "web1", "--incident", INCIDENT, "--check", expect=(0,))
    runbook(reports, "run", pressure, "-i", inventory, "-l", "web1", "--incident", INCIDENT, "--yes")
    runbook(reports, "incident", "note", INCIDENT, NOTE, "-i", inventory)
    runbook(reports, "incident", "resolve", INCIDENT, "--summary", RESOLVED, "-i", inventory)
    runs = {path.name: read_events(path / "journal.jsonl") for path in iter_runs(reports / "runs")}

    def cli(kind: str, lang: str, audience: str) -> str:
        fmt = "text" if kind == "immediate" else "html"
        return runbook(reports, "report", kind, "--incident", INCIDENT, "-i", inventory, "--lang", lang,
                       "--format", fmt, "--audience", audience).stdout

    texts = {(kind, lang, audience): cli(kind, lang, audience) for kind in ("immediate", "next-day")
             for lang in ("de", "en") for audience in ("customer", "internal")}
    incident = IncidentStore(reports).get(INCIDENT)
    shop = load_inventory([inventory]).customers["shop"]
    model = build_report(list(iter_runs(reports / "runs")), incident, signature=shop.signature)
    return Night(reports, inventory, mount, runs, texts, model)


def customer_texts(night: Night) -> dict[tuple[str, str], str]:
    """(kind, lang) -> what the customer reads (the HTML as a browser shows it)."""
    return {(kind, lang): readable(text, "text" if kind == "immediate" else "html")
            for (kind, lang, audience), text in night.texts.items() if audience == "customer"}


def real_changes(night: Night) -> list[dict[str, Any]]:
    """The changes the real runs journalled, as the customer counts them (a step inside a
    bigger measure, "internal", is part of that measure)."""
    return [change for events in night.real_runs() for e in events
            if e["event"] == "host.end" and e["outcome"] == "changed"
            for change in e["changes"] if not (isinstance(change, dict) and change.get("msg") == "internal")]


def local(ts: str) -> str:
    return parse_ts(ts).astimezone(BERLIN).strftime("%H:%M")


# -- the night happened ---------------------------------------------------------------------------

def test_the_night_was_worked_for_real(night: Night) -> None:
    assert len(night.runs) == 4 and sum(1 for r in night.runs.values() if r[0]["check"]) == 2
    assert all(r[0]["operator"]["name"] == OPERATOR["name"] for r in night.runs.values())
    assert used_percent(night.mount) < 50                          # the clean-up freed the disk
    kinds = {c["msg"] for c in real_changes(night)}
    assert {"logs_archived", "provider_notice_written", "process_killed", "logs_deleted"} <= kinds, kinds


# -- the measures are what really happened ------------------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_measures_are_the_real_changes_and_no_plan(night: Night, lang: str) -> None:
    changes = real_changes(night)
    assert len(night.model.measures) == len(changes) and night.model.planned
    texts = customer_texts(night)
    heading = "Maßnahmen" if lang == "de" else "Measures"
    assert f"{heading} ({len(changes)})" in texts[("next-day", lang)]
    # the immediate report says measures of a kind on several hosts in one line (the logs of
    # web1, app1 and db1 secured), and its heading counts the lines the customer sees under it
    lines = night.texts[("immediate", lang, "customer")].splitlines()
    [at] = [i for i, line in enumerate(lines) if line.startswith(f"{heading} (")]
    items = list(itertools.takewhile(lambda line: line.startswith(" "), lines[at + 1:]))
    said = [line for line in items if line.startswith("  - ") and not re.match(r"  - \d\d:\d\d (Von Hand|By hand):", line)]
    assert lines[at] == f"{heading} ({len(said)})" and 0 < len(said) < len(changes), lines
    rows = re.findall(r"<tr(?: class=\"note\")?><td class=\"time\">", night.texts[("next-day", lang, "customer")]
                      [night.texts[("next-day", lang, "customer")].index('id="measures"'):
                       night.texts[("next-day", lang, "customer")].index('id="result"')])
    assert len(rows) == len(changes) + 1                             # and the note of work done by hand
    for text in texts.values():                                      # a check run never did anything
        assert "Probelauf" not in text.replace("Bestandsaufnahme ohne Änderungen (Probelauf)", "") \
            and "check mode" not in text.replace("Survey without changes (check mode)", "")


def test_the_plans_are_shown_only_when_asked_for_and_labelled(night: Night) -> None:
    planned = readable(night.report("next-day", "--lang", "de", "--include-planned"), "html")
    assert "Geplant, nicht ausgeführt (Probelauf)" in planned
    assert "Ein Probelauf hat vorab gezeigt, was geändert würde." in planned
    assert "Geplant, nicht ausgeführt" not in customer_texts(night)[("next-day", "de")]


# -- the figures --------------------------------------------------------------------------------------

def disk_figures(night: Night) -> tuple[float, float, int]:
    """The shop mount on web1: the first "before" and the last "after" of the night, and what was freed."""
    seen = [(parse_ts(e["ts"]), e["phase"], m) for events in night.runs.values() for e in events
            if e["event"] == "evidence" and e["host"] == "web1" and e["kind"] == "disk"
            for m in e["data"]["mounts"] if m["mount"] == str(night.mount)]
    before = min((s for s in seen if s[1] == "before"), key=lambda s: s[0])[2]
    after = max((s for s in seen if s[1] == "after"), key=lambda s: s[0])[2]
    return before["used_percent"], after["used_percent"], after["free_bytes"] - before["free_bytes"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_disk_is_told_once_before_and_after_with_the_journals_figures(night: Night, lang: str) -> None:
    before, after, freed = disk_figures(night)
    assert before > 90 and after < 50 and freed > 10 * 1024 ** 2
    line = (f"{night.mount} auf web1: {before:.0f} % → {after:.0f} % belegt, {format_bytes(freed, 'de')} freigegeben."
            if lang == "de" else
            f"{night.mount} on web1: {before:.0f}% → {after:.0f}% used, {format_bytes(freed, 'en')} freed.")
    for kind in ("immediate", "next-day"):
        assert line in customer_texts(night)[(kind, lang)], kind
    assert customer_texts(night)[("immediate", lang)].count(line) == 1


# -- the state now is the last check's ------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_state_is_the_final_checks(night: Night, lang: str) -> None:
    last = max(parse_ts(e["ts"]) for events in night.real_runs() for e in events
               if e["event"] == "host.end" and e["host"] in ("web1", "app1", "db1") and e["outcome"] != "skipped")
    states = {h.name: h.state.status for h in night.model.hosts}
    assert states == {"web1": "OK", "app1": "OK", "db1": "OK", "down1": "UNREACHABLE", "tarpit1": "UNREACHABLE"}
    at = last.astimezone(BERLIN).strftime("%H:%M")
    for kind in ("immediate", "next-day"):
        text = customer_texts(night)[(kind, lang)]
        assert (f"web1, app1 und db1: in Ordnung (zuletzt geprüft {at} Uhr)." if lang == "de"
                else f"web1, app1 and db1: OK (last checked at {at}).") in text, kind
        # the notice was written for the engineer to pass on (the provider takes no mail from
        # us): the measures say it was prepared, and what follows does not claim the provider knows
        assert ("down1 und tarpit1 sind weiterhin nicht erreichbar; wir bleiben daran." if lang == "de"
                else "down1 and tarpit1 still cannot be reached; we stay on it.") in text, text
        assert "ist informiert" not in text and "has been informed" not in text
        # and nothing that contradicts it: no "still full", no "we are on it" for the shop
        for wrong in ("mehr Platz einplanen", "Plan more capacity", "noch kein Prüflauf", "No sweep has checked"):
            assert wrong not in text, wrong


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_story_the_cause_the_note_and_who(night: Night, lang: str) -> None:
    text = customer_texts(night)[("next-day", lang)]
    de = lang == "de"
    assert (f"Ihre Beschreibung: „{SUMMARY}“" if de else f"Your description: “{SUMMARY}”") in text
    assert ("Nach unserer Einschätzung lag die Ursache bei app1: ein hängender Prozess von gunicorn." if de else
            "In our assessment, the cause lay with app1: a hung process of gunicorn.") in text
    assert re.search(r"Die ersten Fehler in den Logs, der Reihe nach: db1 um \d\d:\d\d Uhr und web1 um \d\d:\d\d Uhr"
                     if de else r"The first errors in the logs, in order: db1 at \d\d:\d\d and web1 at \d\d:\d\d",
                     text), text
    [note] = night.model.notes
    assert (f"{note.at.astimezone(BERLIN):%H:%M} Von Hand ({OPERATOR['name']}): „{NOTE}“" if de
            else f"{note.at.astimezone(BERLIN):%H:%M} By hand ({OPERATOR['name']}): “{NOTE}”") in text
    assert (f"bestätigt von {OPERATOR['name']}): „{RESOLVED}“" if de
            else f"confirmed by {OPERATOR['name']}): “{RESOLVED}”") in text
    assert OPERATOR["phone"] in text and SIGNATURE["company"] in text and SIGNATURE["on_call"]["phone"] in text
    assert ("Die vereinbarte Reaktionszeit wurde eingehalten." if de else "The agreed reaction time was met.") in text


# -- the customer's language, and nothing of ours ------------------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", ["immediate", "next-day"])
def test_no_word_of_the_other_language(night: Night, kind: str, lang: str) -> None:
    text = customer_texts(night)[(kind, lang)]
    assert foreign_in(text, lang, night.model) == []


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("kind", ["immediate", "next-day"])
def test_nothing_internal_reaches_the_customer(night: Night, kind: str, lang: str) -> None:
    text = customer_texts(night)[(kind, lang)]
    events = [e for events in night.runs.values() for e in events]
    for internal in [str(night.reports), "artifacts/", ".tar.gz", ".eml", "journal", "export LC_ALL", "printf",
                     "Traceback", "usage:", *night.runs]:                     # our paths, shell lines, run ids
        assert internal not in text, internal
    for command in {e["command"] for e in events if e["event"] == "command"}:
        assert command[:40] not in text, command[:40]
    pids = {str(h["pid"]) for e in events if e["event"] == "host.end" and isinstance(e.get("data"), dict)
            for h in e["data"].get("hung") or ()}
    assert pids and not any(re.search(rf"(?<![\d.,]){pid}(?![\d.,])", text.replace(NOTE, "")) for pid in pids)
    assert "PID" not in text
    assert not re.search(r"(?<![\w/.-])root(?![\w/.-])", text)     # the account runbook ran under


# -- one screen, six pages -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_immediate_report_fits_one_screen(night: Night, lang: str) -> None:
    lines = night.texts[("immediate", lang, "customer")].splitlines()
    assert len(lines) <= MAX_LINES, "\n".join(lines)
    assert max(len(line) for line in lines) <= TEXT_WIDTH


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_next_day_report_prints_on_at_most_six_pages(night: Night, lang: str, tmp_path: Path,
                                                          chromium: str) -> None:
    page = tmp_path / f"next-day-{lang}.html"
    page.write_text(night.texts[("next-day", lang, "customer")], encoding="utf-8")
    pdf = tmp_path / f"next-day-{lang}.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    page.as_uri()], capture_output=True, timeout=120, check=True)
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))
    assert 1 <= pages <= MAX_PAGES, pages


def test_the_internal_version_has_what_the_customer_does_not(night: Night) -> None:
    internal = readable(night.texts[("next-day", "de", "internal")], "html")
    assert "Interne Fassung" in internal and "Ausgeführte Befehle" in internal
    assert all(run_id in internal for run_id in night.runs)
