"""Real measures in the customer's language: every changing action names a catalogue sentence
for what it did, so the next-day report's list of measures says it in German or English --
once per directory, mount or service, never as the action's English line ("Auf web1: rotate ...").

Each action runs for real on the SSH lab (and the real service stack) where that is cheap;
the report is then built from the run's journal, as the CLI does. Variants a lab run does not
reach (a hung process, a stop without a start) go through the same record the action makes.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import pytest
from aiosmtpd.controller import Controller

from runbook.actions.notify import notice_message
from runbook.actions.processes import ended_message
from runbook.change import Change
from runbook.facts.processes import ProcessInfo
from runbook.journal import parse_ts
from runbook.reports import build_report, render_next_day
from runbook.reports.render import markdown_text
from runbook.reports.i18n import format_bytes
from runbook.reports.messages import DE, EN
from runbook.services.model import Probe, ServiceSpec
from runbook.services.restart import (
    RestartSettings,
    RestartState,
    gate_change,
    not_restarted_wording,
    start_change,
    stop_change,
)
from tests.lab import Lab
from tests.lab.services import DB_PORT, LabStack, run_playbook
from tests.reports.journals import Clock, journal, local
from tests.support.loglab import holders, log_root, run_steps, write_inventory, write_log  # noqa: F401  (holders: a fixture)
from tests.support.smtp import Inbox, free_port


BERLIN = ZoneInfo("Europe/Berlin")
# How a report frames an action's own sentence when it has no catalogue sentence for it.
FRAMED = {"de": re.compile(r"\| Auf \S+: "), "en": re.compile(r"\| On \S+: ")}


@dataclass(frozen=True)
class Told:
    """The next-day report (Markdown) in both languages, and how many measures it tells."""

    texts: dict[str, str]
    measures: int
    planned: int = 0


def reports(run_dirs: list[Path], *, include_planned: bool = False) -> Told:
    report = build_report(run_dirs, None, customer="Lab GmbH", timezone="Europe/Berlin")
    return Told({lang: render_next_day(report, lang, "markdown", include_planned=include_planned)
                 for lang in ("de", "en")}, len(report.measures), len(report.planned))


def row(time: str, sentence: str) -> str:
    """A measure as the next-day report's table lists it (Markdown, as rendered)."""
    return f"| {time} | {markdown_text(sentence)} |"


def hhmm(events: list[dict[str, Any]], host: str, step: int = 0) -> str:
    """The time a report gives a measure: its host.end, in Berlin."""
    [end] = [e for e in events if e["event"] == "host.end" and e["host"] == host and e["step"] == step]
    return parse_ts(end["ts"]).astimezone(BERLIN).strftime("%H:%M")


def action_sentences(events: list[dict[str, Any]]) -> list[str]:
    """The English sentences the actions journaled for what they changed."""
    return [" ".join((c if isinstance(c, str) else c["sentence"]).split())
            for e in events if e["event"] == "host.end" and e["outcome"] == "changed" for c in e["changes"]]


def assert_worded(told: Told, events: list[dict[str, Any]], expected: dict[str, list[tuple[str, str]]]) -> None:
    """Each expected (time, sentence) is a row of its report's measures and they are all its
    measures; no action's English line and no free-text frame in either."""
    for lang, sentences in expected.items():
        text = told.texts[lang]
        for at, sentence in sentences:
            assert row(at, sentence) in text, f"{row(at, sentence)!r} not in:\n{text}"
        assert told.measures == len(sentences), text
        assert not FRAMED[lang].search(text), text
    for sentence in action_sentences(events):
        assert sentence not in told.texts["de"], sentence


def gz(path: Path, age_days: float) -> Path:
    path.write_bytes(gzip.compress(b"GET /shop HTTP/1.1 200\n" * 300))
    when = os.path.getmtime(path) - age_days * 86400
    os.utime(path, (when, when))
    return path


# -- logs.archive, logs.clean, logs.rotate ----------------------------------------------------------

def test_archive_clean_and_rotate_are_told_once_per_directory(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    write_log(nginx / "access.log", 6000)
    write_log(nginx / "error.log", 3000, seed=1)
    write_log(nginx / "access.log.1", 4000, age_days=1, seed=2)
    old = gz(nginx / "access.log.2.gz", age_days=40)            # past the set's max_age (30d)
    freed = old.stat().st_size
    steps = [{"action": "logs.archive", "params": {}}, {"action": "logs.clean", "params": {}},
             {"action": "logs.rotate", "params": {"method": "builtin"}}]

    result, events = run_steps(inventory, steps, tmp_path / "runs", limit="web1")

    assert [o.outcome for o in result.outcomes] == ["changed"] * 3, [o.message for o in result.outcomes]
    assert result.outcomes[1].data["deleted"] == [str(old)]
    assert (nginx / "access.log").stat().st_size == 0 and (nginx / "access.log.1").stat().st_size == 6000
    [artifact] = [e for e in events if e["event"] == "artifact"]
    archived, deleted, rotated = (hhmm(events, "web1", step) for step in range(3))
    told = reports([tmp_path / "runs" / result.run_id])
    assert_worded(told, events, {
        "de": [(archived, f"4 Logdateien aus {nginx} auf web1 gesichert "
                          f"({format_bytes(artifact['bytes'], 'de')}, Prüfsummen kontrolliert)."),
               (deleted, f"Eine gesicherte alte Logdatei in {nginx} auf web1 gelöscht; "
                         f"{format_bytes(freed, 'de')} frei geworden."),
               # access.log and error.log: two sets, one directory, one sentence
               (rotated, f"2 Logdateien in {nginx} auf web1 rotiert.")],
        "en": [(archived, f"Secured 4 log files from {nginx} on web1 "
                          f"({format_bytes(artifact['bytes'], 'en')}, checksums verified)."),
               (deleted, f"Deleted one secured old log file in {nginx} on web1; {format_bytes(freed, 'en')} freed."),
               (rotated, f"Rotated 2 log files in {nginx} on web1.")],
    })


def test_cleaning_without_an_archive_says_so(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    write_log(nginx / "access.log", 1000)
    old = [gz(nginx / f"access.log.{i}.gz", age_days=40 + i) for i in (1, 2)]
    freed = sum(f.stat().st_size for f in old)

    result, events = run_steps(inventory, [{"action": "logs.clean", "params": {"require_archive": False}}],
                               tmp_path / "runs", limit="web1")

    assert result.outcomes[0].outcome == "changed" and not any(f.exists() for f in old)
    at = hhmm(events, "web1")
    assert_worded(reports([tmp_path / "runs" / result.run_id]), events, {
        "de": [(at, f"2 alte Logdateien in {nginx} auf web1 gelöscht, ohne sie vorher zu sichern; "
                    f"{format_bytes(freed, 'de')} frei geworden.")],
        "en": [(at, f"Deleted 2 old log files in {nginx} on web1 without securing them first; "
                    f"{format_bytes(freed, 'en')} freed.")],
    })


def test_a_check_run_tells_the_plan_in_the_customers_language(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    write_log(nginx / "access.log", 1000)
    old = [gz(nginx / f"access.log.{i}.gz", age_days=40 + i) for i in (1, 2)]
    freed = sum(f.stat().st_size for f in old)

    result, events = run_steps(inventory, [{"action": "logs.clean", "params": {"require_archive": False}}],
                               tmp_path / "runs", limit="web1", check=True)

    assert result.outcomes[0].outcome == "changed" and all(f.exists() for f in old)  # planned, not done
    at = hhmm(events, "web1")
    told = reports([tmp_path / "runs" / result.run_id], include_planned=True)
    assert (told.measures, told.planned) == (0, 1)   # a check run never did anything
    assert markdown_text(f"{at} 2 alte Logdateien in {nginx} auf web1 ungesichert löschen "
                         f"({format_bytes(freed, 'de')})") in told.texts["de"]
    assert markdown_text(f"{at} delete 2 old log files in {nginx} on web1 without securing them "
                         f"({format_bytes(freed, 'en')})") in told.texts["en"]
    assert "Geplant, nicht ausgeführt (Probelauf)" in told.texts["de"]
    for sentence in action_sentences(events):
        assert sentence not in told.texts["de"], sentence
    assert "löschen" not in reports([tmp_path / "runs" / result.run_id]).texts["de"]


@pytest.mark.skipif(shutil.which("logrotate") is None and not Path("/usr/sbin/logrotate").exists(),
                    reason="logrotate is not installed on this machine")
def test_a_rotation_by_the_hosts_logrotate_is_told_too(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name, logrotate_state="var/lib/logrotate.status")
    root = log_root(lab, "web1", tmp_path.name)
    nginx = root / "var/log/nginx"
    (root / "etc/logrotate.d").mkdir(parents=True)
    (root / "etc/logrotate.d/nginx").write_text(f"{nginx}/*access*.log {{\n  rotate 3\n  compress\n}}\n")
    (root / "var/lib").mkdir(parents=True)
    write_log(nginx / "access.log", 4000)

    result, events = run_steps(inventory, [{"action": "logs.rotate", "params": {"sets": ["nginx-access"]}}],
                               tmp_path / "runs", limit="web1")

    assert result.outcomes[0].data["sets"]["nginx-access"]["method"] == "logrotate"
    assert (nginx / "access.log.1.gz").exists()
    at = hhmm(events, "web1")
    assert_worded(reports([tmp_path / "runs" / result.run_id]), events, {
        "de": [(at, f"Eine Logdatei in {nginx} auf web1 rotiert.")],
        "en": [(at, f"Rotated one log file in {nginx} on web1.")],
    })


# -- disk.release_deleted ----------------------------------------------------------------------------

def test_releasing_deleted_logs_is_told_once_per_mount(lab: Lab, tmp_path: Path,
                                                       holders: list[subprocess.Popen[bytes]]) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    nginx = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    for name, size in (("access.log", 3_000_000), ("error.log", 2_000_000)):
        write_log(nginx / name, size)
        with open(nginx / name, "ab") as log:
            holders.append(subprocess.Popen(["sleep", "120"], stdin=subprocess.DEVNULL, stdout=log))
        (nginx / name).unlink()

    result, events = run_steps(inventory, [{"action": "disk.release_deleted", "params": {}}], tmp_path / "runs",
                               limit="web1")

    outcome = result.outcomes[0]
    # each file secured (no archive step before: this step writes one), then truncated
    assert outcome.outcome == "changed" and len(outcome.changes) == 4, outcome.message
    assert all(os.stat(f"/proc/{p.pid}/fd/1").st_size == 0 for p in holders)
    [mount] = {t["mount"] for t in outcome.data["truncate"]}
    freed = sum(t["allocated"] for t in outcome.data["truncate"])
    at = hhmm(events, "web1")
    held = {p.pid: f"{nginx}/{name}" for p, name in zip(holders, ("access.log", "error.log"))}
    assert_worded(reports([tmp_path / "runs" / result.run_id]), events, {
        "de": [(at, f"Auf {mount} (web1) den Platz gelöschter, noch geöffneter Logdateien freigegeben: "
                    f"{format_bytes(freed, 'de')}."),
               *((at, f"Die gelöschte, von sleep noch geöffnete Logdatei {path} auf web1 gesichert "
                      "(Prüfsumme kontrolliert).") for path in held.values())],
        "en": [(at, f"Released the space of deleted but still open log files on {mount} (web1): "
                    f"{format_bytes(freed, 'en')}."),
               *((at, f"Secured the deleted log file {path} on web1, still held open by sleep "
                      "(checksum verified).") for path in held.values())],
    })


# -- processes.kill --------------------------------------------------------------------------------------

def test_ending_a_process_names_it_but_not_its_pid(lab: Lab, tmp_path: Path) -> None:
    marker = f"lab-job-{uuid.uuid4().hex[:8]}"
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", marker],
                           stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while marker not in " ".join(psutil.Process(job.pid).cmdline()):
            assert time.monotonic() < deadline, "the job never showed its command line"
            time.sleep(0.02)
        name = psutil.Process(job.pid).name()
        book = ("name: kill\nsteps:\n  - action: processes.kill\n"
                f"    params: {{pattern: {marker}, grace: 3s}}\n")
        result, events = run_playbook(lab.write_inventory(tmp_path / "inv.yml"), book, tmp_path / "runs",
                                      limit="spare1")
        assert result.last_for("spare1").outcome == "changed" and job.wait(timeout=5) < 0
    finally:
        if job.poll() is None:
            job.kill()
        job.wait()
    at = hhmm(events, "spare1")
    told = reports([tmp_path / "runs" / result.run_id])
    assert_worded(told, events, {
        "de": [(at, f"Den Prozess „{name}“ auf spare1 beendet.")],
        "en": [(at, f"Ended the process “{name}” on spare1.")],
    })
    assert str(job.pid) not in told.texts["de"] and "PID" not in told.texts["en"]


# -- notify.hoster ---------------------------------------------------------------------------------------

@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A loopback SMTP server that notify.hoster uses (through the environment)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("RUNBOOK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RUNBOOK_SMTP_PORT", str(port))
    monkeypatch.setenv("RUNBOOK_SMTP_STARTTLS", "false")
    try:
        yield inbox
    finally:
        controller.stop()


NOTIFY = "name: notify\nsteps:\n  - action: notify.hoster\n    params: {probe_timeout: 2s}\n"


def test_a_notice_only_written_is_prepared_not_sent(lab: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "reports" / "runs"
    result, events = run_playbook(lab.write_inventory(tmp_path / "inv.yml"), NOTIFY, runs, limit="down1")
    assert result.last_for("down1").outcome == "changed"
    assert list(runs.glob("*/artifacts/down1/hoster-notice-*.eml"))
    at = hhmm(events, "down1")
    told = reports([runs / result.run_id])
    assert_worded(told, events, {
        "de": [(at, "Eine Störungsmeldung zu down1 für den Hosting-Provider Lab Hosting vorbereitet.")],
        "en": [(at, "Prepared a fault notice about down1 for the hosting provider Lab Hosting.")],
    })
    # what is still open does not say the provider knows: the notice is only prepared
    assert "down1 ist weiterhin nicht erreichbar; wir bleiben daran." in told.texts["de"], told.texts["de"]
    assert "down1 still cannot be reached; we stay on it." in told.texts["en"], told.texts["en"]
    assert "informiert" not in told.texts["de"] and "informed" not in told.texts["en"]


def test_a_notice_sent_by_smtp_informed_the_provider(lab: Lab, tmp_path: Path, smtp: Inbox) -> None:
    runs = tmp_path / "reports" / "runs"
    result, events = run_playbook(lab.write_inventory(tmp_path / "inv.yml"), NOTIFY, runs, limit="down1")
    assert result.last_for("down1").outcome == "changed" and len(smtp.messages) == 1
    at = hhmm(events, "down1")
    told = reports([runs / result.run_id])
    assert_worded(told, events, {
        "de": [(at, "Den Hosting-Provider Lab Hosting über down1 informiert.")],
        "en": [(at, "Informed the hosting provider Lab Hosting about down1.")],
    })
    assert "down1 ist weiterhin nicht erreichbar; der Hosting-Provider ist informiert." in told.texts["de"]


def test_one_notice_about_two_hosts_is_one_measure_naming_both(lab: Lab, tmp_path: Path, smtp: Inbox) -> None:
    runs = tmp_path / "reports" / "runs"
    result, events = run_playbook(lab.write_inventory(tmp_path / "inv.yml"), NOTIFY, runs, limit="down1,tarpit1")
    assert len(smtp.messages) == 1
    at = hhmm(events, "down1")
    told = reports([runs / result.run_id])
    assert_worded(told, events, {
        "de": [(at, "Den Hosting-Provider Lab Hosting über down1 und tarpit1 informiert.")],
        "en": [(at, "Informed the hosting provider Lab Hosting about down1 and tarpit1.")],
    })
    # the step probed them from here: both are still down, and the provider knows about both
    assert "down1 und tarpit1 sind weiterhin nicht erreichbar; der Hosting-Provider ist informiert." in told.texts["de"]
    assert "in Ordnung" not in told.texts["de"]


# -- services.restart --------------------------------------------------------------------------------------

RESTART = "name: restart\nsteps:\n  - action: services.restart\n    params: {params}\n"


def test_a_restart_is_one_sentence_per_service_saying_what_answers_again(stack: LabStack,
                                                                         stack_inventory: Path,
                                                                         tmp_path: Path) -> None:
    runs = tmp_path / "reports" / "runs"
    result, events = run_playbook(stack_inventory, RESTART.format(params="{gate_interval: 0.2}"), runs,
                                  limit="web1,app1,db1")
    assert result.status == "completed", [o.message for o in result.outcomes]
    web, app, db = (hhmm(events, h) for h in ("web1", "app1", "db1"))
    port = f"{stack.db.address}:{DB_PORT}"
    assert_worded(reports([runs / result.run_id]), events, {
        "de": [(web, f"nginx auf web1 neu gestartet; {stack.urls['web']} antwortet wieder."),
               (app, f"gunicorn auf app1 neu gestartet; {stack.urls['app']} antwortet wieder."),
               (db, f"postgresql auf db1 neu gestartet; Port {port} antwortet wieder.")],
        "en": [(web, f"Restarted nginx on web1; {stack.urls['web']} answers again."),
               (app, f"Restarted gunicorn on app1; {stack.urls['app']} answers again."),
               (db, f"Restarted postgresql on db1; port {port} answers again.")],
    })


def test_a_restart_that_could_not_finish_says_what_is_not_running_and_why(stack: LabStack,
                                                                          tmp_path: Path) -> None:
    # no configuration checks declared: the broken postgresql.conf shows only at the start
    inventory = stack.write_inventory(tmp_path / "inv.yml", config_checks=False)
    stack.break_postgres()
    runs = tmp_path / "reports" / "runs"
    params = "{gate_interval: 0.2, gate_timeout: 2s, on_gate_failure: continue}"
    result, events = run_playbook(inventory, RESTART.format(params=params), runs, limit="web1,app1,db1")
    outcomes = {o.host: o.outcome for o in result.outcomes}
    # each host fails for its own services: db1's did not come up, app1's and web1's were left
    # down because what they need is down; what was done on them is told all the same
    assert outcomes == {"web1": "failed", "app1": "failed", "db1": "failed"}, outcomes
    web, app, db = hhmm(events, "web1"), hhmm(events, "app1"), hhmm(events, "db1")
    told = reports([runs / result.run_id])
    # what PostgreSQL itself said, from its log, after the sentence
    said = next(e for e in events if e["event"] == "service" and e["op"] == "gate")["detail"]
    why = said.split(" says: ", 1)[1]
    assert 'invalid value for parameter "shared_buffers"' in why
    assert_worded(told, events, {
        "de": [(db, "postgresql auf db1 für den Neustart angehalten; der Dienst ist nicht wieder angelaufen und "
                    f"steht still. Der Dienst selbst meldet: {why}"),
               (app, "gunicorn auf app1 angehalten und nicht wieder gestartet, weil nicht alle Dienste "
                     "laufen, die er braucht (postgresql auf db1)."),
               (web, "nginx auf web1 angehalten und nicht wieder gestartet, weil nicht alle Dienste "
                     "laufen, die er braucht (gunicorn auf app1).")],
        "en": [(db, "Stopped postgresql on db1 for the restart; it did not start again and is down. The service "
                    f"itself reports: {why}"),
               (app, "Stopped gunicorn on app1 and did not start it again, because not all services it needs "
                     "are running (postgresql on db1)."),
               (web, "Stopped nginx on web1 and did not start it again, because not all services it needs "
                     "are running (gunicorn on app1).")],
    })


# -- the records of variants a lab run does not reach -----------------------------------------------------

def test_records_of_other_outcomes_are_worded_and_internal_steps_left_out(tmp_path: Path) -> None:
    """The exact records the actions journal, through a journal and the report."""
    fpm = ServiceSpec(host="web1", name="php-fpm", manager="systemd", unit="php8.2-fpm",
                      probes=(Probe("http", "https://shop.example/"),))
    cron = ServiceSpec(host="web1", name="cron", manager="systemd")
    state = RestartState({fpm.key: "down", cron.key: "up"}, policy="continue")
    settings = RestartSettings()
    failed = RestartState({fpm.key: "down"}, policy="continue", failed={fpm.key: "start command failed"})
    hung = ProcessInfo(pid=4242, ppid=1, user="www-data", state="D", name="php-fpm8.2", args=("php-fpm",),
                       command="php-fpm: pool www")
    kill = Change("end pid 4242 (php-fpm: pool www): hung", message=ended_message(hung, hung=True))
    notify = Change("notify Lab Hosting <noc@lab.example>: web2 unreachable (tcp)",
                    message=notice_message("Lab Hosting", "smtp", ["web2"]))
    gate_fpm = gate_change(fpm, state, settings, restarted=False)
    records = {
        "web1": [stop_change(cron, state, restarting=False).journal_record("stop web1:cron"),   # stopped only
                 start_change(fpm, state).journal_record("start web1:php-fpm"),             # internal
                 gate_fpm.journal_record("health gate web1:php-fpm"),                       # was down: started
                 kill.journal_record(kill.sentence)],
        "web2": [notify.journal_record(notify.sentence)],
        "web3": [gate_fpm.journal_record("health gate web1:php-fpm",
                                         not_restarted_wording(fpm, failed, restarted=False))],
        # a journal from before one notice named all its hosts: its host is the one it names
        "web4": [{"sentence": "notify Lab Hosting <noc@lab.example>: web4 unreachable (tcp)",
                  "msg": "provider_notice_written", "args": {"provider": "Lab Hosting"}}],
    }
    clock = Clock()
    clock.at(local(2, 41))
    with journal(tmp_path, "20261125T014100Z-0d04", clock, kind="run", playbook="night",
                 hosts=list(records)) as j:
        j.write("step.start", step=0, name="night", action="services.restart", hosts=list(records))
        for host, changes in records.items():
            j.write("host.start", step=0, host=host)
            j.write("host.end", step=0, host=host, outcome="changed", message="", changes=changes, data={},
                    error=None, duration=1.0)
        j.write("step.end", step=0, counts={"changed": len(records)})
    events = [{"event": "host.end", "outcome": "changed", "changes": c} for c in records.values()]
    assert_worded(reports([tmp_path / "20261125T014100Z-0d04"]), events, {
        "de": [("02:41", "cron auf web1 angehalten."),
               ("02:41", "php-fpm auf web1 gestartet; https://shop.example/ antwortet wieder."),
               ("02:41", "Den hängenden Prozess „php-fpm8.2“ auf web1 beendet."),
               ("02:41", "Den Hosting-Provider Lab Hosting über web2 informiert."),
               ("02:41", "Versucht, php-fpm auf web3 zu starten; der Dienst läuft aber noch nicht einwandfrei."),
               ("02:41", "Eine Störungsmeldung zu web4 für den Hosting-Provider Lab Hosting vorbereitet.")],
        "en": [("02:41", "Stopped cron on web1."),
               ("02:41", "Started php-fpm on web1; https://shop.example/ answers again."),
               ("02:41", "Ended the hung process “php-fpm8.2” on web1."),
               ("02:41", "Informed the hosting provider Lab Hosting about web2."),
               ("02:41", "Tried to start php-fpm on web3, but it does not work properly yet."),
               ("02:41", "Prepared a fault notice about web4 for the hosting provider Lab Hosting.")],
    })


def test_every_measure_has_a_plan_and_no_measure_tells_a_pid() -> None:
    """A check run words each change as what would be done; a PID is never the customer's business."""
    # what only the outcome of an apply says (it failed, it was left stopped) is never a plan
    outcomes = {"measure.service_left_stopped", "measure.service_restart_failed", "measure.service_start_failed",
                "measure.service_restart_failed_why", "measure.service_start_failed_why"}
    measures = [k for k in EN if k.startswith("measure.") and k != "measure.text" and k not in outcomes]
    assert [k for k in measures if "plan." + k.removeprefix("measure.") not in EN] == []
    assert [k for k in EN if "{pid}" in EN[k] or "{pid}" in DE[k]] == []
