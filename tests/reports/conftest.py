"""Fixtures for report tests: the night's journals (plain and hostile), the incident, reports."""

from __future__ import annotations


import pytest

from runbook.incidents import Incident
from runbook.reports import Report, build_report
from tests.reports.journals import Scenario, write_scenario
from tests.support.reports import make_incident


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


