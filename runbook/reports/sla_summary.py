"""The incident and its SLA verdict as report values (asking ``runbook.incidents``).

The SLA arithmetic itself (service hours, BW holidays, on-call) belongs to ``runbook.sla`` and
``runbook.incidents``; this module only asks them and keeps the answer as a report value.
"""

from __future__ import annotations

from collections.abc import Sequence

from runbook.incidents import Incident, report_due, sla_verdict
from runbook.reports.model import IncidentInfo, RunInfo, SlaSummary


def incident_info(incident: Incident) -> IncidentInfo:
    """The customer-facing facts of the incident."""
    return IncidentInfo(id=str(incident.id), category=incident.category, received=incident.received,
                        channel=incident.channel, summary=incident.summary)


def first_reaction(incident: Incident, runs: Sequence[RunInfo]) -> RunInfo | None:
    """The first run that worked on the incident: tagged with its id, else the first given."""
    tagged = [r for r in runs if r.incident == incident.id]
    candidates = tagged or list(runs)
    return min(candidates, key=lambda r: r.started, default=None)


def sla_summary(incident: Incident, runs: Sequence[RunInfo]) -> SlaSummary:
    """Deadline and verdict from ``runbook.incidents`` for the incident and its first run."""
    first = first_reaction(incident, runs)
    verdict = sla_verdict(incident, first.started if first else None)
    deadline = verdict.deadline
    return SlaSummary(
        category=deadline.category, received=deadline.received, deadline=deadline.deadline,
        basis=deadline.basis, reaction_started=verdict.reaction_started, met=verdict.met,
        margin=verdict.margin, report_due=report_due(incident))
