"""Reaction deadlines: a category's reaction time counted through covered time.

The base deadline counts the category's reaction time in service hours only. Where the
contract has on-call for the category (mode not none and an on-call reaction for it), the
on-call deadline counts the on-call reaction time in covered time: service hours plus on-call
time (permanent: all the time; periods: their intervals). The deadline is the earlier of the
two. A fault received outside covered time starts its clock at the next covered moment.

With mode ``periods``, on-call is in force only in its periods: the on-call deadline counts
only when its clock runs through on-call time. A category-1 fault on an ordinary Wednesday
evening, with no period near, keeps the service-hours deadline (Thursday 13:00), rather than
an "on-call" hour counted entirely in Thursday's service hours (10:00) that nobody is on
call for. A fault at Friday 16:30 before a period that starts at 17:00 is due at 17:30:
half an hour of service time, half an hour of on-call time.

All counting happens on UTC instants, so a reaction time is real elapsed time: one hour of
on-call from 01:30 on the night the clocks spring forward ends at 03:30 local time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runbook.sla.calendar import service_windows
from runbook.sla.contract import CATEGORIES, Contract, format_duration
from runbook.sla.localtime import UTC, require_aware

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class ReactionDeadline:
    """When the reaction to a fault is due, and why.

    category: 1-3; received: when the fault came in; deadline: the earlier of the two
    deadlines below; basis: "service-hours" or "on-call", whichever gave ``deadline``;
    service_hours_deadline: the reaction time counted in service hours; on_call_deadline: the
    on-call reaction time counted in covered time, or None without on-call for the category.
    All times are aware, in the contract's timezone.
    """

    category: int
    received: datetime
    deadline: datetime
    basis: str
    service_hours_deadline: datetime
    on_call_deadline: datetime | None

    def to_json(self) -> dict[str, Any]:
        """JSON for ``runbook sla deadline --json``: ISO 8601 times with their offset."""
        return {
            "deadline": self.deadline.isoformat(),
            "basis": self.basis,
            "category": self.category,
            "received": self.received.isoformat(),
            "service_hours_deadline": self.service_hours_deadline.isoformat(),
            "on_call_deadline": (self.on_call_deadline.isoformat()
                                 if self.on_call_deadline is not None else None),
        }


def count_through(windows: Iterable[Window], start: datetime, amount: timedelta) -> datetime:
    """The instant at which ``amount`` of time inside ``windows`` has passed since ``start``.

    windows: UTC (begin, end) pairs, in order and not overlapping. A window that ends exactly
    when the amount is used up gives its end, not the next window's start.
    """
    remaining = amount
    for begin, end in windows:
        if end <= start:
            continue
        begin = max(begin, start)
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise ValueError("covered time ran out before the reaction time was used up")


def _union(first: Iterable[Window], second: Iterable[Window]) -> Iterator[Window]:
    """The merged, ordered union of two ordered window streams (either may be endless)."""
    current: Window | None = None
    for begin, end in heapq.merge(first, second, key=lambda w: w[0]):
        if current is None:
            current = (begin, end)
        elif begin <= current[1]:
            current = (current[0], max(current[1], end))
        else:
            yield current
            current = (begin, end)
    if current is not None:
        yield current


def on_call_windows(contract: Contract) -> list[Window]:
    """The on-call periods as ordered UTC windows (overlapping periods merged)."""
    periods = sorted((a.astimezone(UTC), b.astimezone(UTC)) for a, b in contract.on_call.periods)
    return list(_union(periods, ()))


def covered_windows(contract: Contract, after: datetime) -> Iterator[Window]:
    """Service hours plus on-call time, as ordered UTC windows ending after ``after``."""
    if contract.on_call.mode == "permanent":
        return iter([(after.astimezone(UTC), datetime.max.replace(tzinfo=UTC))])
    service = service_windows(contract, after)
    if contract.on_call.mode == "none":
        return service
    return _union(service, on_call_windows(contract))


def reaction_deadline(contract: Contract, category: int, received: datetime) -> ReactionDeadline:
    """The reaction deadline for a fault of ``category`` received at ``received`` (aware).

    Raises ValueError for a category outside 1-3 or a naive ``received``.
    """
    if category not in CATEGORIES or category not in contract.reaction:
        raise ValueError(f"unknown fault category {category!r} (1, 2 or 3)")
    instant = require_aware(received, "received").astimezone(UTC)
    tz = contract.timezone
    base = count_through(service_windows(contract, instant), instant, contract.reaction[category])
    on_call: datetime | None = None
    if contract.on_call.applies_to(category):
        on_call = count_through(covered_windows(contract, instant), instant,
                                contract.on_call.reaction[category])
        if contract.on_call.mode == "periods" and not any(
                begin < on_call and end > instant for begin, end in on_call_windows(contract)):
            on_call = None  # the clock never ran through on-call time: no on-call promise
    # A tie keeps the service-hours basis: on-call did not make the promise any earlier.
    if on_call is not None and on_call < base:
        deadline, basis = on_call, "on-call"
    else:
        deadline, basis = base, "service-hours"
    return ReactionDeadline(
        category=category, received=instant.astimezone(tz), deadline=deadline.astimezone(tz),
        basis=basis, service_hours_deadline=base.astimezone(tz),
        on_call_deadline=on_call.astimezone(tz) if on_call is not None else None,
    )


def describe_reaction(contract: Contract, category: int) -> str:
    """A short line for reports: ``4h in service hours; 1h on call``."""
    text = f"{format_duration(contract.reaction[category])} in service hours"
    if contract.on_call.applies_to(category):
        text += f"; {format_duration(contract.on_call.reaction[category])} on call"
    return text
