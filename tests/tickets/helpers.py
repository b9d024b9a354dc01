"""What the ticket tests share: an inventory pointing at the lab's IMAP and JIRA, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tests.lab.fake_jira import TOKEN, FakeJira
from tests.lab.imap import MailServer
from tests.support.cli import CLI_TIMEOUT, REPO, cli_env

MAIL = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
TICKET_ENV = ("RUNBOOK_JIRA_TOKEN", "RUNBOOK_JIRA_USER", "RUNBOOK_JIRA_PASSWORD", "RUNBOOK_IMAP_HOST",
              "RUNBOOK_IMAP_PORT", "RUNBOOK_IMAP_SECURITY", "RUNBOOK_IMAP_USER", "RUNBOOK_IMAP_FOLDER",
              "RUNBOOK_IMAP_PASSWORD", "RUNBOOK_IMAP_CAFILE", "RUNBOOK_SMTP_HOST", "RUNBOOK_SMTP_PORT",
              "RUNBOOK_SMTP_USER", "RUNBOOK_SMTP_PASSWORD", "RUNBOOK_SMTP_STARTTLS", "RUNBOOK_MAIL_FROM")


def write_inventory(path: Path, *, jira: FakeJira | None = None, imap: Mapping[str, Any] | None = None,
                    language: str = "de", **customer: Any) -> Path:
    """ACME's inventory: mail domain acme.example, our MX mx1.provider.example, a local host."""
    spec: dict[str, Any] = {
        "name": "ACME GmbH", "slug": "acme", "language": language,
        "contacts": {"customer": "it@acme.example"}, "mail_domains": ["acme.example"],
        "mail": {"received_by": ["mx1.provider.example"]},
    }
    if jira is not None:
        spec["jira"] = {"url": jira.url, "project": "ACME", "cafile": str(jira.cert.ca),
                        "category_by_priority": {"Highest": 1, "High": 2, "Medium": 3}}
    if imap is not None:
        spec["mail"]["imap"] = dict(imap)
    spec.update(customer)
    data = {"customer": spec, "hosts": {"shop1": {"connection": "local", "roles": ["web", "app", "db"]}}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def imap_settings(server: MailServer, *, security: str = "tls", folder: str = "INBOX") -> dict[str, Any]:
    """The inventory's mail.imap for the lab's Dovecot."""
    assert server.cert is not None
    port = server.imaps_port if security == "tls" else server.starttls_port
    return {"host": server.address, "port": port, "security": security, "user": server.user,
            "folder": folder, "cafile": str(server.cert.ca)}


def cli(*args: object, reports: Path, env: Mapping[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m runbook ARGS`` with its own reports dir and none of the caller's ticket settings;
    stdin is not a terminal (a pipe with ``stdin``, else /dev/null)."""
    environment = {k: v for k, v in cli_env().items() if k not in TICKET_ENV}
    environment.update(RUNBOOK_REPORTS_DIR=str(reports), **(env or {}))
    environment.pop("RUNBOOK_RUNS_DIR", None)
    return subprocess.run([sys.executable, "-m", "runbook", *map(str, args)], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False,
                          **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}))


def jira_env(**extra: str) -> dict[str, str]:
    return {"RUNBOOK_JIRA_TOKEN": TOKEN, **extra}


def incidents(reports: Path) -> list[str]:
    """The IDs of the incidents recorded under ``reports``."""
    root = reports / "incidents"
    return sorted(p.name for p in root.iterdir() if (p / "incident.json").is_file()) if root.is_dir() else []


def record(reports: Path, incident: str) -> dict[str, Any]:
    return json.loads((reports / "incidents" / incident / "incident.json").read_text(encoding="utf-8"))
