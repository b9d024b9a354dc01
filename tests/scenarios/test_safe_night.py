"""What the engineer runs is safe: --check changes nothing, confirm holds for every action, a run
stays with one customer, and the shipped on-call sequence works without an incident."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.lab.night import ACME_HOST
from tests.scenarios.conftest import Night, outcomes

SHOP_HOSTS = {"web1", "app1", "db1", "down1", "tarpit1"}


def _playbook(path: Path, steps: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"name": "Ad-hoc", "steps": steps}, sort_keys=False))
    return path


def test_check_mode_shows_a_command_and_runs_nothing(night: Night, tmp_path: Path) -> None:
    marker = tmp_path / "marker-web1"
    book = _playbook(tmp_path / "adhoc.yml", [{"name": "Leave a marker", "action": "command",
                                               "params": {"cmd": f"touch {marker}"}}])
    done, document = night.run_json(book, "-i", night.inventory, "-l", "web1", "--check")
    assert done.returncode == 0, done.stderr
    assert not marker.exists()
    result = outcomes(document, "Leave a marker")["web1"]
    assert result["outcome"] == "changed" and str(marker) in result["message"], result
    assert result["message"].startswith("would: ")
    assert not [e for e in night.events(document) if e["event"] == "command"]


def test_a_read_only_step_runs_in_check_mode_and_registers_its_output(night: Night, tmp_path: Path) -> None:
    book = _playbook(tmp_path / "look.yml", [
        {"name": "Kernel", "action": "command", "params": {"cmd": "uname -s"}, "check_mode": "run",
         "register": "kernel"},
        {"name": "Use it", "action": "command", "params": {"cmd": "echo {{ kernel.stdout | trim }}"},
         "check_mode": "run"}])
    done, document = night.run_json(book, "-i", night.inventory, "-l", "web1", "--check")
    assert done.returncode == 0, done.stderr
    assert outcomes(document, "Kernel")["web1"]["outcome"] == "ok"
    assert outcomes(document, "Use it")["web1"]["data"]["stdout"].strip() == "Linux"


def test_the_read_only_example_playbook_reads_in_check_mode(night: Night) -> None:
    done, document = night.run_json("playbooks/kernel-versions.yml", "-i", night.inventory, "-l", "web1",
                                     "--check")
    assert done.returncode == 0, done.stderr
    kernel = outcomes(document, "Kernel version")["web1"]
    assert kernel["outcome"] == "ok" and kernel["data"]["stdout"].strip(), kernel


def test_confirm_holds_for_a_command_step(night: Night, tmp_path: Path) -> None:
    marker = tmp_path / "confirmed-web1"
    book = _playbook(tmp_path / "adhoc.yml", [{"name": "Leave a marker", "action": "command",
                                               "params": {"cmd": f"touch {marker}"}, "confirm": True}])
    # no terminal, no --yes: shown, not applied
    done, document = night.run_json(book, "-i", night.inventory, "-l", "web1")
    assert not marker.exists()
    result = outcomes(document, "Leave a marker")["web1"]
    assert result["outcome"] == "skipped" and "not confirmed" in result["message"], result
    assert "touch" in done.stderr  # the question listed what would have run
    done, document = night.run_json(book, "-i", night.inventory, "-l", "web1", "--yes")
    assert done.returncode == 0, done.stderr
    assert marker.exists()
    assert outcomes(document, "Leave a marker")["web1"]["outcome"] == "changed"


def _open_incident(night: Night, incident: str = "SHOP-4711") -> None:
    done = night.runbook("incident", "open", incident, "-c", "1", "--received", "2026-12-03T02:14",
                         "--channel", "jira", "--summary", "Shop antwortet nicht", "-i", night.inventory,
                         "--customer", "shop")
    assert done.returncode == 0, done.stderr


def test_a_run_for_an_incident_touches_only_that_customers_hosts(night: Night) -> None:
    _open_incident(night)
    done, document = night.run_json("playbooks/on-call.yml", "-i", night.inventory, "--incident", "SHOP-4711",
                                    "--check")
    assert {r["host"] for r in document["results"]} == SHOP_HOSTS, done.stderr
    start = night.events(document)[0]
    assert set(start["hosts"]) == SHOP_HOSTS and ACME_HOST not in start["host_info"]


def test_a_limit_naming_another_customers_host_is_refused_for_an_incident(night: Night) -> None:
    _open_incident(night)
    done = night.runbook("run", "playbooks/on-call.yml", "-i", night.inventory, "--incident", "SHOP-4711",
                         "-l", f"web1,{ACME_HOST}", "--check")
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert ACME_HOST in done.stderr and "acme" in done.stderr and "SHOP-4711" in done.stderr
    assert "Traceback" not in done.stderr
    assert not night.runs()  # refused before a journal was begun


def test_a_changing_run_over_two_customers_is_refused_without_a_terminal(night: Night) -> None:
    done = night.runbook("run", "playbooks/on-call.yml", "-i", night.inventory)
    assert done.returncode == 64, (done.returncode, done.stderr)
    assert "acme" in done.stderr and "shop" in done.stderr and "-l" in done.stderr
    assert not night.runs()
    # --check changes nothing, a sweep only reads, and --yes is the operator's word: no question
    assert night.runbook("run", "playbooks/on-call.yml", "-i", night.inventory, "--check").returncode in (0, 5)
    assert night.runbook("sweep", "-i", night.inventory).returncode in (0, 1, 2, 3)
    # one customer chosen by the limit: no question either
    check = night.runbook("run", "playbooks/on-call.yml", "-i", night.inventory, "-l", "shop", "--check")
    assert check.returncode in (0, 5), check.stderr


def test_on_call_without_an_incident_analyses_the_last_two_hours(night: Night) -> None:
    done, document = night.run_json("playbooks/on-call.yml", "-i", night.inventory, "-l", "web1,app1,db1",
                                    "--check")
    assert done.returncode == 0, done.stderr
    analyse = outcomes(document, "Analyse logs")
    assert {h: r["outcome"] for h, r in analyse.items()} == {"web1": "ok", "app1": "ok", "db1": "ok"}, analyse
    assert all("usage:" not in r["message"] for r in analyse.values())
