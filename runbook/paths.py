"""Where runbook writes: the reports root, the run journals under it, the incidents under it.

``RUNBOOK_REPORTS_DIR`` / ``--reports-dir`` and ``RUNBOOK_RUNS_DIR`` / ``--runs-dir`` move them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_REPORTS = "RUNBOOK_REPORTS_DIR"
ENV_RUNS = "RUNBOOK_RUNS_DIR"


@dataclass(frozen=True)
class Paths:
    """Where runbook writes: reports root, run journals under it, incidents under it."""

    reports: Path
    runs: Path

    @property
    def incidents(self) -> Path:
        """Where opened incidents are kept."""
        return self.reports / "incidents"

    @classmethod
    def resolve(cls, reports: Path | None = None, runs: Path | None = None) -> "Paths":
        """The options given, else the environment, else ``./reports`` and ``./reports/runs``."""
        reports = reports or Path(os.environ.get(ENV_REPORTS) or "reports")
        runs = runs or (Path(os.environ[ENV_RUNS]) if os.environ.get(ENV_RUNS) else reports / "runs")
        return cls(reports=reports, runs=runs)
