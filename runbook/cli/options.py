"""Options shared by several commands, declared once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import List, Optional

import typer

from runbook.cli.completion import complete_incident, complete_limit
from runbook.errors import UsageError

Inventories = typer.Option(..., "-i", "--inventory", envvar="RUNBOOK_INVENTORY",
                           help="Inventory file or directory (repeatable; default: RUNBOOK_INVENTORY, config).")
OptInventories = typer.Option(None, "-i", "--inventory", envvar="RUNBOOK_INVENTORY",
                              help="Inventory file or directory (repeatable; default: RUNBOOK_INVENTORY, config).")
Limit = typer.Option(None, "-l", "--limit", autocompletion=complete_limit, help="Hosts: names, roles, globs, customer:role; '!' excludes.")
ExtraVars = typer.Option(None, "-e", "--extra-var", help="key=value, overrides every other var (repeatable).")
Forks = typer.Option(20, "--forks", "-f", min=1, max=500, envvar="RUNBOOK_FORKS",
                     help="Hosts worked on in parallel (RUNBOOK_FORKS, config: forks).")
Check = typer.Option(False, "--check", "-C", help="Plan only: show exactly what would change, change nothing.")
Yes = typer.Option(False, "--yes", "-y", help="Apply steps that ask for confirmation without asking.")
AcceptNew = typer.Option(False, "--accept-new-host-keys",
                         help="Record unknown host keys (OpenSSH accept-new); changed keys are still refused.")
AskSudo = typer.Option(False, "--ask-sudo-pass", "-K",
                       help="Ask once for the sudo password (or set RUNBOOK_SUDO_PASSWORD).")
ConnectTimeout = typer.Option(None, "--connect-timeout", min=0.1, help="Seconds; overrides the inventory.")
Incident = typer.Option(None, "--incident", autocompletion=complete_incident, help="Incident id this run belongs to (e.g. ACME-412).")
Json = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
ReportsDir = typer.Option(None, "--reports-dir", envvar="RUNBOOK_REPORTS_DIR",
                          help="Reports root (config: reports_dir; default ~/.local/share/runbook/reports).")
RunsDir = typer.Option(None, "--runs-dir", envvar="RUNBOOK_RUNS_DIR",
                       help="Run journals (default <reports-dir>/runs).")

InventoryList = List[Path]
OptInventoryList = Optional[List[Path]]
StrList = Optional[List[str]]


def one_of(value: str | None, allowed: Sequence[str], option: str) -> str | None:
    """``value`` if it is one of ``allowed`` (or None: not given); else a usage error naming them."""
    if value is not None and value not in allowed:
        raise UsageError(f"{value!r} is not one of: {', '.join(allowed)}", option=option)
    return value


LANGUAGES = ("de", "en")
