"""Where runbook writes: the reports root, the run journals under it, the incidents under it.

``--reports-dir`` / ``RUNBOOK_REPORTS_DIR`` / the config file's ``reports_dir`` and ``--runs-dir``
/ ``RUNBOOK_RUNS_DIR`` / ``runs_dir`` move them; by default they are under
``$XDG_DATA_HOME/runbook/reports``, never relative to the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from runbook.config import default_reports_dir

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
        """The options given, else the environment (which the config file fills in), else
        ``$XDG_DATA_HOME/runbook/reports`` and ``runs`` under it."""
        reports = reports or (Path(os.path.expanduser(os.environ[ENV_REPORTS])) if os.environ.get(ENV_REPORTS)
                              else default_reports_dir())
        runs = runs or (Path(os.path.expanduser(os.environ[ENV_RUNS])) if os.environ.get(ENV_RUNS) else reports / "runs")
        return cls(reports=reports, runs=runs)
