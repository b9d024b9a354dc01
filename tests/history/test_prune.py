"""`runbook runs prune`: old runs go, with a dry run and a size summary first; runs of an open
incident and of the last two days stay; nothing is removed through a symlink."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from runbook.journal import Journal
from tests.history.sweeps import GIB, disk, write_sweep
from tests.support.cli import runbook_cli

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def old_run(runs: Path, when: datetime, suffix: str, *, incident: str | None) -> Path:
    """A playbook run with an archive artifact, as `runbook run --incident` leaves one."""
    run_id = f"{when:%Y%m%dT%H%M%SZ}-{suffix}"
    journal = Journal(runs / run_id, clock=lambda: when)
    journal.write("run.start", run_id=run_id, kind="run", incident=incident, hosts=["web1"])
    archive = journal.artifacts_dir / "web1" / "logs.tar.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"x" * 300_000)
    journal.write("run.end", status="completed", counts={})
    journal.close()
    return runs / run_id


def reports_with_history(tmp_path: Path) -> tuple[Path, Path]:
    reports = tmp_path / "reports"
    runs = reports / "runs"
    inventory = tmp_path / "acme.yml"
    inventory.write_text(yaml.safe_dump({"customer": {"name": "ACME GmbH", "slug": "acme"},
                                         "hosts": {"web1": {"address": "10.0.0.1"}}}))
    received = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    opened = runbook_cli("incident", "open", "ACME-7", "-c", "2", "--received", received, "-i", inventory,
                         "--reports-dir", reports)
    assert opened.returncode == 0, opened.stderr
    for days in (45, 40, 35):
        write_sweep(runs, NOW - timedelta(days=days), {"web1": [disk("/var", 50 * GIB)]})
    old_run(runs, NOW - timedelta(days=40), "aaaa", incident="ACME-7")   # an open incident
    old_run(runs, NOW - timedelta(days=39), "bbbb", incident="ACME-1")   # not recorded here
    write_sweep(runs, NOW - timedelta(days=1), {"web1": [disk("/var", 50 * GIB)]})
    return reports, runs


def run_ids(runs: Path) -> set[str]:
    return {p.name for p in runs.iterdir() if (p / "journal.jsonl").is_file()}


def test_dry_run_then_removal_keeps_open_incidents_and_recent_runs(tmp_path: Path) -> None:
    reports, runs = reports_with_history(tmp_path)
    before = run_ids(runs)
    dry = runbook_cli("runs", "prune", "--older-than", "30d", "--dry-run", "--reports-dir", reports)
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.startswith("would remove 4 run(s) started before ")
    assert "(1 run, 3 sweeps)" in dry.stdout
    assert "kept " in dry.stdout and "incident ACME-7 is open" in dry.stdout
    assert run_ids(runs) == before

    refused = runbook_cli("runs", "prune", "--older-than", "30d", "--reports-dir", reports)  # no terminal, no --yes
    assert "nothing removed; run with --yes" in refused.stderr and run_ids(runs) == before

    done = runbook_cli("runs", "prune", "--older-than", "30d", "--yes", "--json", "--reports-dir", reports)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["removed"] == 4 and result["bytes"] > 300_000
    left = run_ids(runs)
    assert len(left) == 2
    assert any(name.endswith("-aaaa") for name in left)         # the open incident's run
    assert any(name.startswith((NOW - timedelta(days=1)).strftime("%Y%m%d")) for name in left)


def test_keep_incidents_keeps_runs_of_every_incident(tmp_path: Path) -> None:
    reports, runs = reports_with_history(tmp_path)
    runbook_cli("incident", "open", "ACME-1", "-c", "3", "--received", "2026-01-05T10:00:00Z", "-i",
                tmp_path / "acme.yml", "--reports-dir", reports)
    done = runbook_cli("runs", "prune", "--older-than", "30d", "--keep-incidents", "--yes", "--reports-dir", reports)
    assert done.returncode == 0, done.stderr
    assert {name[-4:] for name in run_ids(runs)} >= {"aaaa", "bbbb"}
    assert "incident ACME-1 (--keep-incidents)" in done.stdout


def test_a_symlink_among_the_runs_is_never_followed(tmp_path: Path) -> None:
    reports, runs = reports_with_history(tmp_path)
    elsewhere = write_sweep(tmp_path / "precious", NOW - timedelta(days=60), {"web1": [disk("/", GIB)]})
    link = runs / elsewhere.name
    link.symlink_to(elsewhere)
    done = runbook_cli("runs", "prune", "--older-than", "30d", "--yes", "--reports-dir", reports)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and (elsewhere / "journal.jsonl").is_file()


def test_under_two_days_is_refused_as_a_usage_error(tmp_path: Path) -> None:
    done = runbook_cli("runs", "prune", "--older-than", "12h", "--reports-dir", tmp_path)
    assert done.returncode == 64
    assert "--older-than" in done.stderr and "2d or more" in done.stderr
