"""`runbook sweep --alert` as cron runs it: real sweeps of the real-sshd lab, a real SMTP server
(aiosmtpd) on loopback, and the alert state on disk between the runs.

A host going down gives exactly one mail to on-call (and one notice to the hosting provider), a
second sweep none, recovery one; a sweep that is killed or interrupted changes no state.
"""

from __future__ import annotations

import email
import json
import signal
import time
from collections.abc import Iterator
from email import policy
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.lab import Lab
from tests.support.smtp import free_port
from tests.support.cli import runbook_cli, start_runbook
from tests.support.processes import wait_until

pytestmark = pytest.mark.lab

ON_CALL = "oncall@lab.example"
PROVIDER = "noc@lab.example"
SENDER = "Lab Bereitschaft <bereitschaft@lab.example>"


class Inbox:
    """What the SMTP server accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, dict[str, str]]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, {"RUNBOOK_SMTP_HOST": "127.0.0.1", "RUNBOOK_SMTP_PORT": str(port),
                      "RUNBOOK_SMTP_STARTTLS": "false", "RUNBOOK_MAIL_FROM": "runbook@lab.example"}
    finally:
        controller.stop()


def inventory(lab: Lab, path: Path, *, shop_address: str) -> Path:
    """web1 and shop1 of the lab; shop1 at ``shop_address`` (the lab's db1, or where nothing
    listens). Every lab host is this machine: its load and its mounts (another program may
    fill one) are out of the way, reachability is what these tests change."""
    lab.write_inventory(path, include_bad=False, extra_vars={
        "load_warn": 1000, "load_crit": 1000, "disk_warn": 100, "disk_crit": 100,
        "inode_warn": 100, "inode_crit": 100})
    document = yaml.safe_load(path.read_text())
    document["customer"]["contacts"]["on_call"] = ON_CALL
    document["customer"]["smtp"] = {"from": SENDER}   # the relay comes from RUNBOOK_SMTP_*
    document["defaults"]["connect_timeout"] = 15  # a loaded machine is no outage
    document["hosts"] = {"web1": document["hosts"]["web1"],
                         "shop1": {**document["hosts"]["db1"], "address": shop_address}}
    path.write_text(yaml.safe_dump(document))
    return path


def state_files(reports: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((reports / "state" / "alerts").glob("*.json"))}


def sweep(inv: Path, reports: Path, env: dict[str, str]):
    return runbook_cli("sweep", "--alert", "-i", inv, "--reports-dir", reports,
                       runs_dir=reports / "runs", env=env)


def test_down_once_then_silence_then_recovery(lab: Lab, tmp_path: Path, smtp) -> None:
    inbox, env = smtp
    reports = tmp_path / "reports"
    up = inventory(lab, tmp_path / "up.yml", shop_address=lab.hosts["db1"].address)

    first = sweep(up, reports, env)
    assert first.returncode == 0, first.stderr
    assert inbox.messages == []          # everything OK on the first alerting sweep: nothing to say
    assert state_files(reports)          # but the state is remembered

    down = inventory(lab, tmp_path / "up.yml", shop_address=lab.unreachable[0])
    second = sweep(down, reports, env)
    assert second.returncode == 2, second.stderr
    [alert] = inbox.to(ON_CALL)
    assert "PROBLEM: shop1 reachability CRITICAL" in alert["Subject"]
    body = alert.get_content()
    assert "tcp layer failed" in body and "was OK" in body
    [notice] = inbox.to(PROVIDER)        # the hosting provider, through notify.hoster
    assert "shop1" in notice["Subject"]
    assert alert["From"] == notice["From"] == SENDER     # the customer's smtp.from, not RUNBOOK_MAIL_FROM

    third = sweep(down, reports, env)
    assert third.returncode == 2, third.stderr
    assert [m["Subject"] for m in inbox.messages][2:] == []   # nothing new: no mail

    fourth = sweep(inventory(lab, tmp_path / "up.yml", shop_address=lab.hosts["db1"].address), reports, env)
    assert fourth.returncode == 0, fourth.stderr
    recovered = inbox.to(ON_CALL)[1:]
    assert len(recovered) == 1 and "RECOVERED: shop1 reachability OK" in recovered[0]["Subject"]
    assert len(inbox.to(PROVIDER)) == 1


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_a_sweep_that_does_not_finish_changes_no_alert_state(lab: Lab, tmp_path: Path, smtp,
                                                             stop: signal.Signals) -> None:
    inbox, env = smtp
    reports = tmp_path / "reports"
    inv = inventory(lab, tmp_path / "inv.yml", shop_address=lab.unreachable[0])
    assert sweep(inv, reports, env).returncode == 2
    assert len(inbox.to(ON_CALL)) == 1
    before = state_files(reports)

    # shop1 is back, but this sweep hangs on a tarpit host until it is stopped.
    document = yaml.safe_load(inv.read_text())
    document["hosts"]["shop1"]["address"] = lab.hosts["db1"].address
    document["hosts"]["tarpit1"] = {"address": lab.tarpit[0], "roles": ["spare"]}
    document["defaults"]["connect_timeout"] = 30
    inv.write_text(yaml.safe_dump(document))
    earlier = set((reports / "runs").iterdir())
    proc = start_runbook("sweep", "--alert", "-i", inv, "--reports-dir", reports, runs_dir=reports / "runs",
                         env=env)
    try:
        # shop1's result is in this sweep's journal, tarpit1 still hangs: stop it now.
        assert wait_until(lambda: any('"host.end"' in line and '"host": "shop1"' in line
                                      for run in set((reports / "runs").iterdir()) - earlier
                                      for line in (run / "journal.jsonl").read_text().splitlines()), timeout=30)
        proc.send_signal(stop)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (130 if stop == signal.SIGTERM else -signal.SIGKILL)
    assert state_files(reports) == before
    assert len(inbox.to(ON_CALL)) == 1

    del document["hosts"]["tarpit1"]
    inv.write_text(yaml.safe_dump(document))
    assert sweep(inv, reports, env).returncode == 0
    assert [m["Subject"].split(":")[0] for m in inbox.to(ON_CALL)] == ["[runbook] PROBLEM", "[runbook] RECOVERED"]


def test_alert_to_overrides_on_call_and_a_missing_recipient_stops_before_any_host(lab: Lab, tmp_path: Path,
                                                                               smtp) -> None:
    inbox, env = smtp
    reports = tmp_path / "reports"
    inv = inventory(lab, tmp_path / "inv.yml", shop_address=lab.unreachable[0])
    done = runbook_cli("sweep", "--alert", "--alert-to", "night@lab.example", "-i", inv, "--reports-dir", reports,
                       runs_dir=reports / "runs", env=env)
    assert done.returncode == 2, done.stderr
    assert [str(m["To"]) for m in inbox.messages if "PROBLEM" in m["Subject"]] == ["night@lab.example"]

    document = yaml.safe_load(inv.read_text())
    del document["customer"]["contacts"]["on_call"]
    inv.write_text(yaml.safe_dump(document))
    refused = runbook_cli("sweep", "--alert", "-i", inv, "--reports-dir", tmp_path / "other",
                          runs_dir=tmp_path / "other" / "runs", env=env)
    assert refused.returncode == 78
    assert "contacts.on_call" in refused.stderr and "--alert-to" in refused.stderr
    assert not (tmp_path / "other" / "runs").exists()


def test_an_smtp_server_that_is_down_leaves_the_problem_to_announce_next_time(lab: Lab, tmp_path: Path,
                                                                               smtp) -> None:
    inbox, env = smtp
    reports = tmp_path / "reports"
    inv = inventory(lab, tmp_path / "inv.yml", shop_address=lab.unreachable[0])
    dead = dict(env, RUNBOOK_SMTP_PORT=str(free_port()))
    failed = sweep(inv, reports, dead)
    assert failed.returncode == 2
    assert "alert not sent (shop1 reachability CRITICAL)" in failed.stderr
    state = json.loads(next(iter(state_files(reports).values())))
    assert "shop1|reachability" not in state["items"]      # not announced: not remembered as such
    time.sleep(1.1)  # run ids are per second
    assert sweep(inv, reports, env).returncode == 2
    assert [m["Subject"] for m in inbox.to(ON_CALL)] == ["[runbook] PROBLEM: shop1 reachability CRITICAL (Lab GmbH)"]
