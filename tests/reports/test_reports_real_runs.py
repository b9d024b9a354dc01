"""Customer reports from the journals of REAL lab runs, end to end through the CLI.

One night on the SSH lab, every step a ``runbook`` subprocess: an incident is opened (its
summary carries markup), a sweep finds every reachable host CRITICAL (judged with a 2 % disk
limit on /, so that the two sweeps differ) and down1/tarpit1 unreachable, a playbook on web1
analyses, archives, cleans and rotates real nginx logs (one log line and one log file name carry
markup), and a second sweep with the normal limits finds the reachable hosts OK. Then the
immediate report (de/en x text/Markdown/HTML), the next-day report (de/en x HTML/Markdown),
the daily overview, the mail to a loopback SMTP server and the .eml are made from those
journals and checked for what the customer reads; the HTML pages are opened in headless
Chromium, which must render them and run nothing from the hostile input.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from aiosmtpd.controller import Controller
from markdown_it import MarkdownIt

from runbook.journal import parse_ts, read_events
from runbook.reports.i18n import format_bytes
from tests.lab import Lab
from tests.support.chromium import CSP, chromium_dom, title_of
from tests.support.cli import runbook_cli
from tests.support.smtp import Inbox, free_port
from tests.support.sweep import DEFAULT_DISK, extra_vars, judge_only


BERLIN = ZoneInfo("Europe/Berlin")
INCIDENT = "LAB-1"
CUSTOMER = "Lab GmbH"
SUMMARY = "<script>alert(1)</script> Shop down"
# In a request of the access log, as nginx writes it (a " in the request becomes \x22); the
# archive must hold it byte for byte ...
ACCESS_PAYLOAD = "\\x22><img src=x onerror=alert(1)>"
# ... and where the reports show it: an error log line (nginx does not escape there; its
# pattern is in the next-day analyses) and a log file's name (in the analyses). It would show
# in the DOM (the title) if a browser ever ran it.
DOM_PAYLOAD = "\"><img src=x onerror=document.title='PWNED'>"
# The analysis groups lines by pattern: numbers become <n>, quoted strings <q>; the report
# shows each varying part as "…".
ERROR_PATTERN = "upstream timed out \"><img src=x onerror=document.title='\u2026'>"
HOSTILE_LOG = f"shop{DOM_PAYLOAD}-access.log"
OLD_ROTATED = {"access.log.2.gz": 40, "access.log.3.gz": 50}   # name: age in days (max_age 30d)
PLAYBOOK = """\
name: Secure and rotate the nginx logs
steps:
  - name: Analyse the nginx logs
    action: logs.analyze
    params: {sets: [nginx-access, nginx-error]}
  - name: Secure the nginx logs
    action: logs.archive
    params: {sets: [nginx-access]}
  - name: Delete old rotated logs (verified archive only)
    action: logs.clean
    params: {sets: [nginx-access]}
  - name: Rotate the access logs
    action: logs.rotate
    params: {sets: [nginx-access], method: builtin}
"""
WEEKDAYS = {"de": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
            "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]}
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
TITLES = {("immediate", "de"): "Sofortbericht – Störung LAB-1",
          ("immediate", "en"): "Immediate report – incident LAB-1",
          ("next-day", "de"): "Ausführlicher Störungsbericht – Störung LAB-1",
          ("next-day", "en"): "Detailed incident report – incident LAB-1"}
FORMATS = {"immediate": ("text", "markdown", "html"), "next-day": ("html", "markdown")}
# The SMTP settings and the sender a developer may have exported must not leak into the test.
SMTP_ENV = ("RUNBOOK_SMTP_HOST", "RUNBOOK_SMTP_PORT", "RUNBOOK_SMTP_STARTTLS", "RUNBOOK_SMTP_USER",
            "RUNBOOK_SMTP_PASSWORD", "RUNBOOK_MAIL_FROM", "RUNBOOK_REPORTS_DIR", "RUNBOOK_RUNS_DIR")


Rendered = dict[tuple[str, str, str], str]   # (kind, lang, format) -> the CLI's output


# -- what a customer reads ------------------------------------------------------------------------

def de_time(ts: datetime) -> str:
    local = ts.astimezone(BERLIN)
    return f"{local:%d.%m.%Y}, {local:%H:%M} Uhr"


def en_time(ts: datetime) -> str:
    local = ts.astimezone(BERLIN)
    return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}, {local:%H:%M}"


def when(ts: datetime, lang: str) -> str:
    return de_time(ts) if lang == "de" else en_time(ts)


def due_day(day: date, lang: str) -> str:
    shown = f"{day:%d.%m.%Y}" if lang == "de" else f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[lang][day.weekday()]}, {shown}"


def next_business_day(received: datetime) -> date:
    """Worked out here with the holidays package itself, not with runbook's calendar."""
    day = received.astimezone(BERLIN).date()
    bw = holidays.country_holidays("DE", subdiv="BW", years=range(day.year, day.year + 2))
    day += timedelta(days=1)
    while day.weekday() >= 5 or day in bw:
        day += timedelta(days=1)
    return day


class _Text(HTMLParser):
    """The text a reader sees: character data outside <head>, <style> and <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("head", "style", "script"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def readable(output: str, fmt: str) -> str:
    """The report as a customer reads it, whitespace-normalised: the Markdown as a viewer
    shows it (CommonMark with tables), the HTML as a browser shows it."""
    if fmt == "markdown":
        output = MarkdownIt("commonmark").enable("table").render(output)
    if fmt in ("markdown", "html"):
        return html_text(output)
    return " ".join(output.split())


# -- the night on the lab ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Night:
    """The journals of one night on the lab and what is needed to check reports made from them."""

    reports: Path
    inventory: Path
    nginx: Path
    received: datetime
    deadline: datetime
    first_sweep: dict[str, Any]
    run: dict[str, Any]
    last_sweep: dict[str, Any]

    def run_dir(self, run_id: str) -> Path:
        return self.reports / "runs" / run_id

    def events(self, run_id: str) -> list[dict[str, Any]]:
        return read_events(self.run_dir(run_id) / "journal.jsonl")

    def cli(self, *args: object, env: dict[str, str] | None = None) -> str:
        """``runbook ARGS --reports-dir REPORTS`` as a subprocess; its stdout, after exit 0."""
        done = runbook_cli(*args, "--reports-dir", self.reports, env=env)
        assert done.returncode == 0, f"runbook {' '.join(map(str, args))}: {done.returncode}\n" \
                                     f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def report(self, kind: str, lang: str, fmt: str, *extra: object) -> str:
        return self.cli("report", kind, "--incident", INCIDENT, "-i", self.inventory, "--lang", lang,
                        "--format", fmt, *extra)


def _write_logs(nginx: Path) -> None:
    """Real nginx logs: a live access log with a hostile request, yesterday's rotation, two
    rotated logs past max_age, an error log with a hostile line, and a log with a hostile name."""
    nginx.mkdir(parents=True, exist_ok=True)
    fine = '10.0.0.7 - - [25/Nov/2026:02:40:00 +0100] "GET /shop/ HTTP/1.1" 200 5120 "-" "Mozilla/5.0"\n'
    hostile = (f'10.0.0.9 - - [25/Nov/2026:02:41:00 +0100] "GET /search?q={ACCESS_PAYLOAD} HTTP/1.1" '
               '500 512 "-" "Mozilla/5.0"\n')
    (nginx / "access.log").write_text(fine * 200 + hostile * 5)
    (nginx / "error.log").write_text(
        f"2026/11/25 02:41:00 [error] 812#812: *4 upstream timed out {DOM_PAYLOAD}, client: 10.0.0.9\n" * 3)
    (nginx / HOSTILE_LOG).write_text(fine * 10)
    yesterday = nginx / "access.log.1"
    yesterday.write_text(fine * 100)
    _age(yesterday, 1)
    for name, days in OLD_ROTATED.items():
        (nginx / name).write_bytes(gzip.compress(fine.encode() * 50))
        _age(nginx / name, days)


def _age(path: Path, days: float) -> None:
    then = path.stat().st_mtime - days * 86400
    os.utime(path, (then, then))


@pytest.fixture(scope="module")
def night(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    with pytest.MonkeyPatch.context() as env:
        for name in SMTP_ENV:
            env.delenv(name, raising=False)
        yield _night(lab, tmp_path_factory.mktemp("real-night"))


def _night(lab: Lab, base: Path) -> Night:
    reports = base / "reports"
    inventory = base / "inventory.yml"
    # The lab machine's load is whatever the rest of the suite makes it: not this test's subject.
    # What other tests mount under /tmp (their own labs) is no lab host's disk.
    lab.write_inventory(inventory, extra_vars={"load_warn": 50, "load_crit": 100, "disk_ignore": ["/tmp/*"]})
    document = yaml.safe_load(inventory.read_text())
    web1 = document["hosts"]["web1"]["vars"]
    log_root = Path(web1["lab_root"]) / base.name      # this module's own logs on web1
    web1["log_root"] = str(log_root)
    inventory.write_text(yaml.safe_dump(document, sort_keys=False))
    nginx = log_root / "var/log/nginx"
    _write_logs(nginx)
    playbook = base / "nginx-logs.yml"
    playbook.write_text(PLAYBOOK)

    received = datetime.now(BERLIN).replace(second=0, microsecond=0) - timedelta(minutes=3)
    opened = runbook_cli("incident", "open", INCIDENT, "-c", "1", "--received", received.isoformat(),
                         "--summary", SUMMARY, "-i", inventory, "--reports-dir", reports)
    assert opened.returncode == 0, opened.stdout + opened.stderr

    def sweep(*limits: str) -> dict[str, Any]:
        done = runbook_cli("sweep", "-i", inventory, "--incident", INCIDENT, "--json", "--connect-timeout", "2",
                           *limits, "--reports-dir", reports)
        assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]   # CRITICAL: down1, tarpit1
        return json.loads(done.stdout)

    # The lab is this machine: judge / alone, never a mount another test session filled meanwhile.
    first = sweep(*extra_vars(judge_only({"/": {**DEFAULT_DISK, "warn": 1, "crit": 2}})))
    ran = runbook_cli("run", playbook, "-i", inventory, "-l", "web1", "--incident", INCIDENT, "--yes", "--json",
                      "--reports-dir", reports)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    last = sweep(*extra_vars(judge_only({"/": DEFAULT_DISK})))
    return Night(reports, inventory, nginx, received, _deadline(inventory, received), first,
                json.loads(ran.stdout), last)


def _deadline(inventory: Path, received: datetime) -> datetime:
    done = runbook_cli("sla", "deadline", "-c", "1", "--received", received.isoformat(), "-i", inventory, "--json")
    assert done.returncode == 0, done.stderr
    return datetime.fromisoformat(json.loads(done.stdout)["deadline"])


@pytest.fixture(scope="module")
def rendered(night: Night) -> Rendered:
    """Every report in every language and format, made by the CLI (in parallel: each is a process)."""
    wanted = [(kind, lang, fmt) for kind, formats in FORMATS.items() for lang in ("de", "en") for fmt in formats]
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(lambda key: night.report(*key), wanted))
    return dict(zip(wanted, outputs))


# -- helpers on the journals ---------------------------------------------------------------------------

def host_statuses(sweep: dict[str, Any]) -> dict[str, str]:
    """What the customer must read per host: UNREACHABLE for a host we could not reach."""
    return {h["name"]: "UNREACHABLE" if not h["reachable"] else h["status"] for h in sweep["hosts"]}


def changes_on_web1(night: Night) -> list[tuple[datetime, Any]]:
    return [(parse_ts(e["ts"]), change) for e in night.events(night.run["run_id"])
            if e.get("event") == "host.end" and e.get("host") == "web1" and e.get("outcome") == "changed"
            for change in e.get("changes") or ()]


def measure_sentences(night: Night, lang: str) -> list[tuple[str, str]]:
    """What the reports say web1's changes did, as the catalogue words them, with their times."""
    steps = {e["step"]: e for e in night.events(night.run["run_id"])
             if e.get("event") == "host.end" and e.get("host") == "web1" and e.get("outcome") == "changed"}
    archived, deleted, rotated = (parse_ts(steps[step]["ts"]).astimezone(BERLIN).strftime("%H:%M")
                                  for step in (1, 2, 3))
    [archive] = [e for e in night.events(night.run["run_id"]) if e.get("event") == "artifact"]
    size, freed = format_bytes(archive["bytes"], lang), format_bytes(steps[2]["data"]["deleted_bytes"], lang)
    if lang == "de":
        return [(archived, f"5 Logdateien aus {night.nginx} auf web1 gesichert ({size}, Prüfsummen kontrolliert)."),
                (deleted, f"2 gesicherte alte Logdateien in {night.nginx} auf web1 gelöscht; {freed} frei geworden."),
                (rotated, f"2 Logdateien in {night.nginx} auf web1 rotiert.")]
    return [(archived, f"Secured 5 log files from {night.nginx} on web1 ({size}, checksums verified)."),
            (deleted, f"Deleted 2 secured old log files in {night.nginx} on web1; {freed} freed."),
            (rotated, f"Rotated 2 log files in {night.nginx} on web1.")]


def sweep_start(night: Night, sweep: dict[str, Any]) -> datetime:
    return parse_ts(next(e for e in night.events(sweep["run_id"]) if e["event"] == "run.start")["ts"])


# -- the runs really happened ------------------------------------------------------------------------------

def test_the_changing_run_changed_web1_and_secured_the_logs_first(night: Night) -> None:
    assert night.run["status"] == "completed", night.run
    outcomes = [r["outcome"] for r in sorted(night.run["results"], key=lambda r: r["step"])]
    assert outcomes == ["ok", "changed", "changed", "changed"]
    clean = next(r for r in night.run["results"] if r["step"] == 2)
    assert sorted(d["path"] for d in clean["data"]["delete"]) == sorted(str(night.nginx / n) for n in OLD_ROTATED)
    # access.log.2.gz is yesterday's log now (the rotation shifted it there); .3.gz is gone
    assert not (night.nginx / "access.log.3.gz").exists()
    assert (night.nginx / "access.log.2.gz").stat().st_mtime > (datetime.now() - timedelta(days=2)).timestamp()
    assert (night.nginx / "access.log").stat().st_size == 0                     # copytruncate
    assert ACCESS_PAYLOAD in (night.nginx / "access.log.1").read_text()         # copied before the truncate
    assert (night.nginx / f"{HOSTILE_LOG}.1").exists()
    [archive] = (night.run_dir(night.run["run_id"]) / "artifacts" / "web1").glob("logs-*.tar.gz")
    with tarfile.open(archive) as tar:
        members = {Path(m.name).name: m for m in tar.getmembers()}
        assert set(OLD_ROTATED) <= set(members)                                  # deleted only once secured
        access = tar.extractfile(members["access.log"])
        assert access is not None and ACCESS_PAYLOAD.encode() in access.read()


def test_the_two_sweeps_differ_so_the_report_must_pick_the_last(night: Night) -> None:
    first, last = host_statuses(night.first_sweep), host_statuses(night.last_sweep)
    assert first["down1"] == last["down1"] == first["tarpit1"] == last["tarpit1"] == "UNREACHABLE"
    assert {first[h] for h in ("web1", "app1", "db1", "spare1")} == {"CRITICAL"}
    assert first["web1"] != last["web1"]


# -- the immediate report ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS["immediate"])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_immediate_report_tells_the_customer_what_happened(night: Night, rendered: Rendered, lang: str,
                                                           fmt: str) -> None:
    text = readable(rendered[("immediate", lang, fmt)], fmt)
    de = lang == "de"
    assert text.startswith(TITLES[("immediate", lang)]), text[:200]
    assert (f"Kunde: {CUSTOMER}" if de else f"Customer: {CUSTOMER}") in text
    # what was reported, and when (German dates and "Uhr")
    received = when(night.received, lang)
    assert (f"Ihre Meldung: {received} über JIRA, Kategorie 1: „{SUMMARY}“" if de
            else f"Your report: {received} via JIRA, category 1: “{SUMMARY}”") in text
    # the SLA verdict: work started with the first run of the incident, before the deadline
    started = re.escape(when(sweep_start(night, night.first_sweep), lang).split(", ")[1])
    deadline = re.escape(when(night.deadline, lang))
    verdict = (rf"Reaktion: Beginn {started}, [^(]+ vor Ablauf der Reaktionsfrist \({deadline}\) – eingehalten\."
               if de else rf"Reaction: started {started}, [^(]+ before the reaction deadline \({deadline}\) – met\.")
    assert re.search(verdict, text), text
    # every measure on web1, counted as the journal's real changes (one per directory): the
    # archive, the 2 old logs deleted, the 2 live logs rotated
    changes = changes_on_web1(night)
    assert len([c for _, c in changes if c.get("msg") != "internal"]) == 3
    assert ("Maßnahmen (3)" if de else "Measures (3)") in text
    for sentence in (("Logs auf web1 gesichert (5 Dateien, Prüfsummen kontrolliert).",
                      "Gesicherte alte Logs auf web1 gelöscht (2 Dateien,", "Logs auf web1 rotiert (2 Dateien).")
                     if de else ("Secured the logs on web1 (5 files, checksums verified).",
                                 "Deleted secured old logs on web1 (2 files,", "Rotated the logs on web1 (2 files).")):
        assert sentence in text, sentence
    for _, change in changes:                     # the actions' own English lines are not shown
        assert " ".join(change["sentence"].split()) not in text
    # what was found: the unreachable hosts by name, and the first sweep's disk verdict
    assert ("down1 und tarpit1: nicht erreichbar" if de else "down1 and tarpit1: not reachable") in text
    assert re.search(r"app1, db1 und spare1: / zu \d+(,\d)? % belegt" if de
                     else r"app1, db1 and spare1: / \d+(\.\d)?% full", text), text
    # web1's disk was worked on: its finding is told as its before/after line
    assert re.search(r"/ auf web1: \d+ % → \d+ % belegt" if de else r"/ on web1: \d+% → \d+% used", text), text
    # the state now, from the LAST sweep (whose hosts are OK again)
    last = host_statuses(night.last_sweep)
    result = text[text.index("Ergebnis" if de else "Result"):]
    ok = [h for h in ("web1", "app1", "db1", "spare1") if last[h] == "OK"]
    # the time these hosts were last checked (the unreachable ones end later, at their timeout)
    checked = max(parse_ts(e["ts"]) for e in night.events(night.last_sweep["run_id"])
                  if e["event"] == "host.end" and e["host"] in ok)
    assert ok == ["web1", "app1", "db1", "spare1"], last     # the lab's hosts are healthy
    assert (f"web1, app1, db1 und spare1: in Ordnung (zuletzt geprüft {checked.astimezone(BERLIN):%H:%M} Uhr)."
            if de else f"web1, app1, db1 and spare1: OK (last checked at {checked.astimezone(BERLIN):%H:%M}).") \
        in result
    assert "Kritisch" not in result and "Critical" not in result
    # what follows, and when the detailed report comes
    assert ("down1 und tarpit1 sind weiterhin nicht erreichbar; wir bleiben daran." if de
            else "down1 and tarpit1 still cannot be reached; we stay on it.") in result
    due = due_day(next_business_day(night.received), lang)
    assert (f"Den ausführlichen Bericht erhalten Sie am {due}." if de
            else f"You will receive the detailed report on {due}.") in result


def test_immediate_markup_is_escaped_where_it_would_be_markup(rendered: Rendered) -> None:
    for lang in ("de", "en"):
        html = rendered[("immediate", lang, "html")]
        assert "<script" not in html.lower() and "<img" not in html.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Shop down" in html
        markdown = MarkdownIt("commonmark", {"html": True}).enable("table").render(
            rendered[("immediate", lang, "markdown")]).lower()
        assert "<script" not in markdown and "<img" not in markdown      # raw HTML allowed, still text
        assert SUMMARY in rendered[("immediate", lang, "text")]            # plain text: nothing to escape


# -- the next-day report ------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS["next-day"])
@pytest.mark.parametrize("lang", ["de", "en"])
def test_next_day_report_has_the_whole_night(night: Night, rendered: Rendered, lang: str, fmt: str) -> None:
    text = readable(rendered[("next-day", lang, fmt)], fmt)
    de = lang == "de"
    assert text.startswith(TITLES[("next-day", lang)]), text[:200]
    received = when(night.received, lang)
    assert (f"Am {received} meldeten Sie über JIRA eine Störung der Kategorie 1. Ihre Beschreibung: „{SUMMARY}“"
            if de else f"On {received} you reported a category 1 fault via JIRA. Your description: “{SUMMARY}”") \
        in text
    assert ("Die vereinbarte Reaktionszeit wurde eingehalten." if de else "The agreed reaction time was met.") in text
    assert when(night.deadline, lang) in text
    for at, sentence in measure_sentences(night, lang):
        assert f"{at} {sentence}" in text, sentence
    assert ("nicht erreichbar (keine Netzwerkverbindung)" if de else "not reachable (no network connection)") in text
    assert ERROR_PATTERN in text                          # the hostile line's pattern, in the log timeline
    assert (f"web1: 5 Logdateien aus {night.nginx} gesichert" if de
            else f"web1: secured 5 log files from {night.nginx}") in text
    # what the engine did, and our machine's side, is not the customer's
    for internal in (night.first_sweep["run_id"], night.run["run_id"], night.last_sweep["run_id"],
                     "Secure and rotate the nginx logs", "logs-", ".tar.gz", str(night.reports)):
        assert internal not in text, internal
    # the state from the LAST sweep: the first one found web1 CRITICAL (its 2 % disk limit)
    assert re.search(r"Kritisch: / zu \d+(,\d)? % belegt" if de else r"Critical: / \d+(\.\d)?% full", text), text
    assert ("down1 und tarpit1 sind weiterhin nicht erreichbar" if de else "down1 and tarpit1 still cannot be reached") \
        in text
    assert "\x00" not in rendered[("next-day", lang, fmt)]  # command output with NULs (find -print0)
    internal = readable(night.report("next-day", lang, fmt, "--audience", "internal"), fmt)
    assert night.run["run_id"] in internal and "Secure and rotate the nginx logs" in internal
    assert f"{night.nginx}/{HOSTILE_LOG}" in internal       # a hostile file name, in the analyses


def test_next_day_html_escapes_log_lines_and_file_names(night: Night, rendered: Rendered) -> None:
    for lang in ("de", "en"):
        for html in (rendered[("next-day", lang, "html")],
                     night.report("next-day", lang, "html", "--audience", "internal")):
            assert "<script" not in html.lower() and "<img" not in html.lower()
            assert "upstream timed out &#34;&gt;&lt;img src=x onerror=document.title=&#39;\u2026&#39;&gt;" in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt; Shop down" in html
        internal = night.report("next-day", lang, "html", "--audience", "internal")
        assert "shop&#34;&gt;&lt;img src=x onerror=document.title=&#39;PWNED&#39;&gt;-access.log" in internal


# -- rebuilt from the journals ---------------------------------------------------------------------------------

def test_the_same_journals_give_byte_identical_reports_later_and_elsewhere(night: Night, rendered: Rendered,
                                                                           tmp_path: Path) -> None:
    assert night.report("immediate", "de", "html") == rendered[("immediate", "de", "html")]
    assert night.report("next-day", "en", "markdown") == rendered[("next-day", "en", "markdown")]
    # the reports root copied away (an archive of the case): same bytes, nothing depends on paths
    elsewhere = dataclasses.replace(night, reports=tmp_path / "case-LAB-1")
    shutil.copytree(night.reports, elsewhere.reports)
    assert elsewhere.report("next-day", "de", "html") == rendered[("next-day", "de", "html")]
    assert elsewhere.report("immediate", "en", "text") == rendered[("immediate", "en", "text")]
    # and -o writes the same document
    out = tmp_path / "immediate.md"
    night.report("immediate", "de", "markdown", "-o", out)
    assert out.read_text(encoding="utf-8") == rendered[("immediate", "de", "markdown")]


# -- in a real browser -------------------------------------------------------------------------------------------

def test_chromium_renders_every_html_report_and_runs_nothing_hostile(chromium: str, rendered: Rendered,
                                                                    tmp_path: Path) -> None:
    pages = []
    for kind in ("immediate", "next-day"):
        for lang in ("de", "en"):
            html = rendered[(kind, lang, "html")]
            assert CSP.search(html), "the reports set a Content-Security-Policy"
            for csp, page_html in (("as-rendered", html), ("without-csp", CSP.sub("", html))):
                # without the CSP, escaping alone must keep the page inert
                page = tmp_path / f"{kind}-{lang}-{csp}.html"
                page.write_text(page_html, encoding="utf-8")
                pages.append((kind, lang, page))
    with ThreadPoolExecutor(max_workers=4) as pool:
        doms = list(pool.map(lambda p: chromium_dom(chromium, p[2], tmp_path / f"profile-{p[2].stem}"), pages))
    for (kind, lang, page), dom in zip(pages, doms):
        name = page.stem
        title = TITLES[(kind, lang)]
        assert title_of(dom) == title, name                 # rendered, and no script rewrote the title
        assert f"<h1>{title}</h1>" in dom, name
        lowered = dom.lower()
        assert "<script" not in lowered and "<img" not in lowered and "pwned</title>" not in lowered, name
        shown = html_text(dom)
        assert SUMMARY in shown, name                      # the summary, as the text it was
        assert "Shop down" in shown and "LAB-1" in shown
        if kind == "next-day":
            assert ERROR_PATTERN in shown, name            # the hostile log line's pattern, as text
            assert "<svg" in dom, name                      # the before/after charts are there


# -- delivery -------------------------------------------------------------------------------------------------------

def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port; what it accepts lands in the Inbox."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def test_report_mail_arrives_at_the_loopback_smtp_server(night: Night, rendered: Rendered,
                                                         smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    # no --lang: the customer's language (the lab's inventory says nothing, so German)
    env = {"RUNBOOK_SMTP_HOST": "127.0.0.1", "RUNBOOK_SMTP_PORT": str(port), "RUNBOOK_SMTP_STARTTLS": "false",
           "RUNBOOK_MAIL_FROM": "oncall@runbook.example"}
    done = runbook_cli("report", "immediate", "--incident", INCIDENT, "-i", night.inventory,
                       "--mail-to", "ops@lab.example", "--reports-dir", night.reports, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"sent to ops@lab.example via 127.0.0.1:{port}" in done.stderr
    assert done.stdout == ""                               # mailed, not printed
    [(mail_from, rcpt, raw)] = inbox.messages
    assert mail_from == "oncall@runbook.example" and rcpt == ["ops@lab.example"]
    msg = parse(raw)
    assert msg["Subject"] == f"{CUSTOMER}: Sofortbericht – Störung {INCIDENT}"
    assert msg["To"] == "ops@lab.example" and msg["From"] == "oncall@runbook.example"
    assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
    body = msg.get_content().replace("\r\n", "\n")
    assert body.rstrip("\n") == rendered[("immediate", "de", "text")].rstrip("\n")   # the German report
    for umlaut in ("Störung", "Maßnahmen", "ausführlichen", "geprüft", "„<script>alert(1)</script> Shop down“"):
        assert umlaut in body
    # the incident remembers it: the next-day report's timeline says when, and to whom
    sent = readable(night.report("next-day", "de", "markdown"), "markdown")
    assert re.search(r"\d\d:\d\d Sofortbericht an ops@lab.example gesendet", sent), sent


def test_eml_holds_the_next_day_report_as_html(night: Night, tmp_path: Path) -> None:
    now = night.report("next-day", "de", "html")   # as of now: the immediate report mailed above is in it
    eml = tmp_path / "LAB-1-next-day.eml"
    out = night.cli("report", "next-day", "--incident", INCIDENT, "-i", night.inventory, "--eml", eml)
    assert out == ""
    msg = parse(eml.read_bytes())
    assert msg["Subject"] == f"{CUSTOMER}: Ausführlicher Störungsbericht – Störung {INCIDENT}"
    assert msg.get_content_type() == "multipart/alternative"
    html = msg.get_body(("html",))
    assert html is not None
    assert html.get_content().replace("\r\n", "\n") == now
    plain = msg.get_body(("plain",))
    assert plain is not None and "HTML" in plain.get_content()


def test_daily_overview_lists_the_days_sweeps(night: Night) -> None:
    starts = {name: sweep_start(night, sweep) for name, sweep in (("first", night.first_sweep),
                                                                  ("last", night.last_sweep))}
    day = starts["last"].astimezone(BERLIN).date()
    todays = sorted(t for t in starts.values() if t.astimezone(BERLIN).date() == day)  # 1 across midnight
    text = " ".join(night.cli("report", "daily", "--date", day.isoformat(), "-i", night.inventory).split())
    assert text.startswith(f"Tagesübersicht der Prüfläufe – {day:%d.%m.%Y}")
    first, last = (t.astimezone(BERLIN).strftime("%H:%M") for t in (todays[0], todays[-1]))
    assert f"{CUSTOMER}: {len(todays)} Prüfl" in text and f" zwischen {first} und {last} Uhr." in text
    n = len(todays)
    for host in ("down1", "tarpit1"):
        assert f"{host}: Nicht erreichbar (Prüfläufe: {n}, Nicht erreichbar: {n})" in text
        assert f"{host}: Nicht erreichbar, " in text and "nicht erreichbar (" in text
    if starts["first"] in todays:      # the first sweep's 2 % disk limit: the day's worst for web1
        assert f"web1: Kritisch (Prüfläufe: {n})" in text and re.search(r"web1: Kritisch, [\d:–]+ \(1×\) / zu", text)
