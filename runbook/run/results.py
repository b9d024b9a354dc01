"""What a run did, in memory: one result per host per step, and the run's status.

The journal has the same, and more; the CLI renders these (progress lines, the summary table,
``--json``) and maps them to an exit status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from runbook.change import Outcome

OUTCOMES = tuple(o.value for o in Outcome)


@dataclass(frozen=True)
class HostOutcome:
    """One result per host per step."""

    host: str
    step: int
    step_name: str
    outcome: str
    message: str
    changes: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    error: Mapping[str, Any] | None = None
    duration: float = 0.0
    #: what the journal records for ``changes``: the sentence, or {"sentence", "msg", "args"}
    #: when the change names a message, so reports can say it in the customer's language
    records: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RunResult:
    """What the run did; the journal has the same, and more."""

    run_id: str
    status: str                     # completed | failed | aborted | interrupted
    outcomes: tuple[HostOutcome, ...]

    def counts(self) -> dict[str, int]:
        """How many results of each outcome, every outcome named (0 included)."""
        return count(self.outcomes)

    def last_for(self, host: str) -> HostOutcome | None:
        """The host's result in the last step it got one for."""
        found = [o for o in self.outcomes if o.host == host]
        return found[-1] if found else None


def count(outcomes: tuple[HostOutcome, ...] | list[HostOutcome]) -> dict[str, int]:
    """Results per outcome, as ``step.end`` and ``run.end`` record them."""
    counts = {o: 0 for o in OUTCOMES}
    for r in outcomes:
        counts[r.outcome] += 1
    return counts
