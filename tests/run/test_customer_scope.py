"""A run stays with one customer: through the real CLI, on an inventory directory with two
customers whose hosts are this machine (local connection). ``runbook run`` and ``runbook exec``
alike: a changing run over both asks first (refused without a terminal), a read or a check run
does not; one customer chosen by the limit needs no question; an incident's run keeps to its
customer, and a limit naming another customer's host is refused before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import no_traceback, run_dirs, runbook_cli, write_playbook, write_yaml


@pytest.fixture
def two_customers(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    for slug, name, host in (("acme", "Acme AG", "acme-web1"), ("shop", "Shop GmbH", "shop-web1")):
        write_yaml(inventory / f"{slug}.yml", {"customer": {"name": name, "slug": slug},
                                               "defaults": {"connection": "local"}, "hosts": {host: {}}})
    return inventory


def test_a_changing_exec_over_two_customers_is_refused_without_a_terminal(two_customers: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    runs = tmp_path / "runs"
    done = runbook_cli("exec", f"touch {marker}", "--change", "-i", two_customers, runs_dir=runs)
    assert done.returncode == 64, done.stdout + done.stderr
    no_traceback(done.stderr)
    assert "acme" in done.stderr and "shop" in done.stderr and "-l" in done.stderr
    assert not marker.exists() and run_dirs(runs) == []
    # the engineer's word, or one customer chosen by the limit
    done = runbook_cli("exec", f"touch {marker}", "--change", "-i", two_customers, "-l", "shop", "--yes", runs_dir=runs)
    assert done.returncode == 0, done.stdout + done.stderr
    assert marker.exists()


def test_a_read_or_a_check_run_over_two_customers_needs_no_question(two_customers: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert runbook_cli("exec", "true", "-i", two_customers, runs_dir=runs).returncode == 0
    book = write_playbook(tmp_path / "pb.yml", {"name": "change", "action": "command", "params": {"cmd": "true"}})
    assert runbook_cli("run", book, "-i", two_customers, "--check", runs_dir=runs).returncode == 0
    refused = runbook_cli("run", book, "-i", two_customers, runs_dir=runs)
    assert refused.returncode == 64, refused.stdout + refused.stderr
    assert "2 customers (acme, shop)" in refused.stderr


def test_an_incident_run_keeps_to_its_customer(two_customers: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    env = {"RUNBOOK_REPORTS_DIR": str(reports)}
    opened = runbook_cli("incident", "open", "SHOP-1", "-c", "2", "--received", "2026-12-03T10:00", "--channel",
                         "phone", "-i", two_customers, "--customer", "shop", env=env)
    assert opened.returncode == 0, opened.stderr
    book = write_playbook(tmp_path / "pb.yml", {"name": "look", "action": "command", "params": {"cmd": "true"},
                                                "check_mode": "run"})
    done = runbook_cli("run", book, "-i", two_customers, "--incident", "SHOP-1", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert '"host": "shop-web1"' in done.stdout and "acme-web1" not in done.stdout
    assert "left out: acme-web1 (acme)" in done.stderr
    runs = reports / "runs"
    before = run_dirs(runs)
    refused = runbook_cli("run", book, "-i", two_customers, "--incident", "SHOP-1", "-l", "shop-web1,acme-web1",
                          env=env)
    assert refused.returncode == 64, refused.stdout + refused.stderr
    assert "acme-web1 (customer acme)" in refused.stderr and "SHOP-1" in refused.stderr
    assert run_dirs(runs) == before
