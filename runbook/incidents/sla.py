"""The SLA verdict on our reaction to an incident, and when its next-day report is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from runbook.sla import (
    ReactionDeadline,
    next_business_day,
    reaction_deadline,
)
from runbook.incidents.record import Incident, as_utc


@dataclass(frozen=True)
class SlaVerdict:
    """Whether the reaction came in time.

    deadline: the reaction deadline; reaction_started: the explicit reaction mark, else the
    first run's start, else None; met: True/False, or None while still open and not yet late;
    margin: deadline minus reaction start (positive = early, negative = late), while open and
    late: deadline minus ``now``; None while open and in time.
    """

    deadline: ReactionDeadline
    reaction_started: datetime | None
    met: bool | None
    margin: timedelta | None


def sla_verdict(incident: Incident, first_run_started: datetime | None, *,
                now: datetime | None = None) -> SlaVerdict:
    """The SLA verdict: reaction started = explicit ``react`` time, else the incident's first run.

    now: optional; without a reaction, a ``now`` past the deadline makes it missed already.
    """
    deadline = reaction_deadline(incident.contract, incident.category, incident.received)
    started = incident.reaction_started or first_run_started
    due = as_utc(deadline.deadline)
    if started is not None:
        # Subtract in UTC: within one tzinfo Python subtracts wall clocks, off by an hour
        # across the autumn DST change.
        margin = due - as_utc(started)
        return SlaVerdict(deadline=deadline, reaction_started=started.astimezone(
            incident.contract.timezone), met=margin >= timedelta(0), margin=margin)
    if now is not None and as_utc(now) > due:
        return SlaVerdict(deadline=deadline, reaction_started=None, met=False,
                          margin=due - as_utc(now))
    return SlaVerdict(deadline=deadline, reaction_started=None, met=None, margin=None)


def report_due(incident: Incident) -> date:
    """The due date of the next-day report: the next business day after the local received date."""
    return next_business_day(incident.contract, incident.received)
