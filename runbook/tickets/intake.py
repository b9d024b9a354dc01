"""What an intake read (a ``Draft``), shown to the engineer, then opened as an incident.

Both intakes, JIRA and e-mail, end here: the draft says where each value came from, so the
engineer who confirms it sees why the clock starts when it does and why the category is what
it is. Opening claims the ticket or mail (see ``IncidentStore.open``), so it is taken once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from runbook.incidents import Incident, IncidentSource, IncidentStore
from runbook.inventory import Customer


@dataclass(frozen=True)
class Draft:
    """An incident as read from a ticket or mail, not yet opened.

    id: the incident ID it will get; category: 1-3, or None when nothing named one (the
    engineer is asked, or gives --category); category_from / received_from: where the value
    was read ("priority Highest", "Received: by mx1.provider.example"); originals: files to
    keep beside the record; notes: anything the engineer should know before confirming.
    """

    id: str
    customer: Customer
    category: int | None
    category_from: str
    received: datetime
    received_from: str
    channel: str
    summary: str
    source: IncidentSource
    originals: Mapping[str, bytes] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def with_category(self, category: int, why: str) -> Draft:
        """The draft with a category the engineer gave."""
        return replace(self, category=category, category_from=why)


def describe(draft: Draft) -> list[str]:
    """The lines an engineer reads before confirming (plain text, no markup)."""
    tz = draft.customer.contract.timezone
    local = draft.received.astimezone(tz)
    lines = [
        f"incident:  {draft.id} ({draft.customer.name})",
        f"from:      {draft.source.kind} {draft.source.ref}"
        + (f", reported by {draft.source.reporter}" if draft.source.reporter else ""),
        f"summary:   {draft.summary or '-'}",
        f"received:  {local:%Y-%m-%d %H:%M:%S %Z} ({draft.received_from})",
        f"category:  {draft.category if draft.category is not None else '?'} ({draft.category_from})",
    ]
    lines += [f"note:      {note}" for note in draft.notes]
    return lines


def open_draft(store: IncidentStore, draft: Draft, opened_at: datetime) -> Incident:
    """Record the draft as an incident, its originals beside it; refuses one taken already.

    A generated ID that another incident has (two mails in one minute) gets ``-2``, ``-3``...
    """
    if draft.category is None:
        raise ValueError("a draft without a category cannot be opened")
    incident = Incident(id=draft.id, customer=draft.customer.name, category=draft.category,
                        received=draft.received, channel=draft.channel, summary=draft.summary,
                        opened_at=opened_at, reaction_started=None, contract=draft.customer.contract,
                        source=draft.source)
    return store.open(incident, draft.originals)


def free_id(store: IncidentStore, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... whichever has no incident yet."""
    candidate, n = wanted, 1
    while store.path(candidate).exists():
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate
