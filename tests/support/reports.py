"""The report tests' incident (ACME-412 under ACME's contract) and copies of the night's runs."""

from __future__ import annotations

import shutil
from pathlib import Path

from runbook.incidents import Incident
from runbook.sla import contract_from_mapping
from tests.reports.journals import Scenario, local

# ACME's contract: service hours Mon-Fri 9-17 with BW holidays, and permanent on-call for
# category 1 faults with a one-hour reaction.
CONTRACT = contract_from_mapping({"timezone": "Europe/Berlin",
                                  "on_call": {"mode": "permanent", "reaction": {1: "1h"}}})


def make_incident(**changes: object) -> Incident:
    """ACME-412: the shop is down, reported by phone at 02:14 on Wednesday 25.11.2026."""
    fields: dict[str, object] = dict(
        id="ACME-412", customer="ACME GmbH", category=1, received=local(2, 14), channel="phone",
        summary="Shop antwortet nicht, Kasse hängt", opened_at=local(2, 16), reaction_started=None,
        contract=CONTRACT)
    fields.update(changes)
    return Incident(**fields)  # type: ignore[arg-type]


def copy_runs(scenario: Scenario, target: Path) -> list[Path]:
    """The scenario's run directories copied elsewhere (reports must not depend on paths)."""
    out = []
    for run in scenario.run_dirs:
        shutil.copytree(run, target / run.name)
        out.append(target / run.name)
    return out
