"""Fixtures for report tests: the night's journals (plain and hostile), the incident, reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.incidents import Incident
from runbook.reports import Report, build_report
from runbook.sla import contract_from_mapping
from tests.reports.journals import Scenario, local, write_scenario

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


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return write_scenario(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    return write_scenario(tmp_path_factory.mktemp("hostile-runs"), hostile=True)


@pytest.fixture(scope="session")
def incident() -> Incident:
    return make_incident()


@pytest.fixture(scope="session")
def report(scenario: Scenario, incident: Incident) -> Report:
    return build_report(scenario.run_dirs, incident)


@pytest.fixture(scope="session")
def hostile_report(hostile: Scenario) -> Report:
    summary = "Shop down <script>alert(1)</script>"
    return build_report(hostile.run_dirs, make_incident(summary=summary))


def copy_runs(scenario: Scenario, target: Path) -> list[Path]:
    """The scenario's run directories copied elsewhere (reports must not depend on paths)."""
    import shutil

    out = []
    for run in scenario.run_dirs:
        shutil.copytree(run, target / run.name)
        out.append(target / run.name)
    return out
