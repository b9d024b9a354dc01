"""A host that a command ran on, and that nothing looked at since, is "reachable, our work there
is done", not "OK (last checked)": running `runbook exec --change` on it says nothing about its
condition, and the report does not promise that all is well."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import local_inventory, run_dirs, runbook_cli


def test_a_host_only_worked_on_is_reachable_not_checked(tmp_path: Path) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", {"self1": {"roles": ["web"]}})
    runs = tmp_path / "reports" / "runs"
    flag = tmp_path / "cache-cleared"
    done = runbook_cli("exec", f"touch {flag}", "-i", inventory, "--change", "--why", "Cache geleert", "--yes",
                       runs_dir=runs)
    assert done.returncode == 0, done.stderr
    assert flag.exists()
    [run] = run_dirs(runs)
    for lang, reached, checked, promise in (
            ("de", "self1: erreichbar, unsere Arbeiten dort sind erledigt", "in Ordnung",
             "Wir prüfen die Systeme und melden uns wieder."),
            ("en", "self1: reachable, our work there is done", "OK (last checked",
             "We are checking the hosts and will report back.")):
        report = runbook_cli("report", "immediate", run.name, "--lang", lang, runs_dir=runs)
        assert report.returncode == 0, report.stderr
        text = " ".join(report.stdout.split())
        assert "Cache geleert" in text and reached in text and promise in text, text
        assert checked not in text, text
