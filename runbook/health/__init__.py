"""Health: thresholds applied to facts, giving OK / WARNING / CRITICAL / UNKNOWN checks.

``evaluate(facts, vars)`` makes the checks of one host from its gathered facts and merged
host vars; ``worst(checks)`` is the host's (or a whole sweep's) status. Threshold variables
and their syntax are documented in ``runbook.health.thresholds``; the ranking of statuses
(UNKNOWN below WARNING) in ``runbook.health.status.Status``.

``verdict``     a sweep read back from its journal: each host's status and checks
``monitoring``  the sweep as monitoring reads it: ``--json`` (``sweep.schema.json``), ``--nagios``
``evidence``    df of the mounts a change touches, before and after; mounts over the thresholds
"""

from __future__ import annotations

from runbook.health.checks import evaluate
from runbook.health.status import Check, Status, worst
from runbook.health.thresholds import DEFAULTS, Thresholds

__all__ = ["DEFAULTS", "Check", "Status", "Thresholds", "evaluate", "worst"]
