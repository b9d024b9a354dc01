"""An incident's record: what the customer reported and when, where it came from (a ticket, a
mail), corrections, what we posted back, notes, the resolution and the reports sent.
``Incident`` carries a snapshot of the contract as it was when the incident was opened, so its
deadline can be recomputed (and a report rebuilt) later without the inventory."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from runbook.errors import ConfigError
from runbook.inventory.people import Person
from runbook.sla import (
    CATEGORIES,
    Contract,
)
from runbook.sla.localtime import require_aware

CHANNELS = ("jira", "email", "phone", "monitoring")
INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
FORMAT_VERSION = 1


def check_incident_id(value: str) -> str:
    """An incident ID safe as a directory name: letters, digits, ``.``, ``-``, ``_``.

    It must start with a letter or digit (so never ``.`` or ``..``), at most 100 characters.
    Raises ConfigError (field "incident").
    """
    if not isinstance(value, str) or not INCIDENT_ID.fullmatch(value):
        raise ConfigError(f"invalid incident id {value!r} (letters, digits, '.', '-', '_'; "
                          "starting with a letter or digit, e.g. ACME-412)", field="incident")
    return value


def as_utc(when: datetime) -> datetime:
    # astimezone() would read a naive time as the machine's local time: refuse it instead.
    return require_aware(when).astimezone(timezone.utc)


SOURCE_KINDS = ("jira", "email")
EDITABLE = ("received", "category", "summary")


@dataclass(frozen=True)
class IncidentSource:
    """Where an incident came in from.

    kind: "jira" or "email"; ref: the issue key, or the mail's Message-ID; url: the JIRA
    server's base URL (None for mail); reporter: who reported it ("Anna Schmidt
    <anna@acme.example>"); original: the file beside incident.json that holds what was read
    (``original.eml``, ``jira-issue.json``), or None.
    """

    kind: str
    ref: str
    url: str | None = None
    reporter: str | None = None
    original: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record's ``source`` object."""
        return {"kind": self.kind, "ref": self.ref, "url": self.url, "reporter": self.reporter,
                "original": self.original}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IncidentSource:
        """The inverse of to_json."""
        if data["kind"] not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {data['kind']!r}")
        return cls(kind=data["kind"], ref=data["ref"], url=data.get("url"), reporter=data.get("reporter"),
                   original=data.get("original"))


@dataclass(frozen=True)
class Correction:
    """One corrected field: the value before and after, who changed it and when.

    old/new: as the record writes them (ISO 8601 times with offset, category numbers).
    """

    field: str
    old: str | int
    new: str | int
    by: str
    at: datetime
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """One entry of the record's ``corrections``."""
        return {"field": self.field, "old": self.old, "new": self.new, "by": self.by,
                "at": self.at.isoformat(), "reason": self.reason}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Correction:
        """The inverse of to_json."""
        return cls(field=data["field"], old=data["old"], new=data["new"], by=data["by"],
                   at=datetime.fromisoformat(data["at"]), reason=data.get("reason", ""))


@dataclass(frozen=True)
class TicketPost:
    """Something told back on the incident's ticket or mail thread.

    kind: "jira-comment", "jira-transition" or "mail-reply"; report: which report it carried
    ("immediate"); ref: the comment id, the transition's name, or the reply's Message-ID;
    at: when it was first posted; updated: when a later post replaced its text (comments).
    """

    kind: str
    report: str
    ref: str
    at: datetime
    updated: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """One entry of the record's ``posts``."""
        return {"kind": self.kind, "report": self.report, "ref": self.ref, "at": self.at.isoformat(),
                "updated": self.updated.isoformat() if self.updated else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TicketPost:
        """The inverse of to_json."""
        updated = data.get("updated")
        return cls(kind=data["kind"], report=data["report"], ref=data["ref"],
                   at=datetime.fromisoformat(data["at"]),
                   updated=datetime.fromisoformat(updated) if updated else None)


@dataclass(frozen=True)
class IncidentNote:
    """Work done by hand, in the engineer's words (a psql session, a call to the hosting
    provider and its ticket number): ``at`` when it happened, ``by`` who did it."""

    at: datetime
    by: Person | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "by": self.by.to_json() if self.by else None, "text": self.text}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IncidentNote:
        return cls(at=datetime.fromisoformat(data["at"]), by=Person.from_json(data.get("by")), text=data["text"])


@dataclass(frozen=True)
class Resolution:
    """The fault is over: since ``at`` (when service was restored), said by ``by``."""

    at: datetime
    by: Person | None
    summary: str

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "by": self.by.to_json() if self.by else None, "summary": self.summary}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Resolution:
        return cls(at=datetime.fromisoformat(data["at"]), by=Person.from_json(data.get("by")),
                   summary=data.get("summary") or "")


@dataclass(frozen=True)
class ReportSent:
    """A report delivered to the customer (by SMTP, or written as .eml to be sent)."""

    kind: str                      # "immediate" | "next-day"
    at: datetime
    to: tuple[str, ...]
    via: str                       # "smtp" | "eml"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": self.at.isoformat(), "to": list(self.to), "via": self.via}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReportSent:
        return cls(kind=data["kind"], at=datetime.fromisoformat(data["at"]), to=tuple(data.get("to") or ()),
                   via=data.get("via", "smtp"))


@dataclass(frozen=True)
class Incident:
    """One reported fault.

    id: e.g. "ACME-412"; customer: the customer's name; category: 1-3; received: when the
    customer reported it (aware); channel: jira, email, phone or monitoring; summary: one line;
    opened_at: when it was recorded here (aware); reaction_started: when work on it started
    explicitly (``incident react``), None until then; contract: the SLA snapshot;
    source: the ticket or mail it was taken from (None when opened by hand); corrections:
    every ``incident edit``, oldest first; posts: what was posted back, oldest first; notes:
    work done by hand (``incident note``); resolution: when the fault was over (``incident
    resolve``); sent: reports delivered to the customer.
    """

    id: str
    customer: str
    category: int
    received: datetime
    channel: str
    summary: str
    opened_at: datetime
    reaction_started: datetime | None
    contract: Contract
    source: IncidentSource | None = None
    corrections: tuple[Correction, ...] = ()
    posts: tuple[TicketPost, ...] = ()
    notes: tuple[IncidentNote, ...] = ()
    resolution: Resolution | None = None
    sent: tuple[ReportSent, ...] = ()

    def __post_init__(self) -> None:
        check_incident_id(self.id)
        if self.category not in CATEGORIES or isinstance(self.category, bool):
            raise ConfigError(f"unknown category {self.category!r} (1, 2 or 3)", field="category")
        if self.channel not in CHANNELS:
            raise ConfigError(f"unknown channel {self.channel!r} ({', '.join(CHANNELS)})",
                              field="channel")
        for name in ("received", "opened_at", "reaction_started"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is None or value.utcoffset() is None):
                raise ConfigError(f"needs a timezone offset: {value.isoformat()}", field=name)

    def to_json(self) -> dict[str, Any]:
        """incident.json's content; times are ISO 8601 with offset."""
        return {
            "version": FORMAT_VERSION,
            "id": self.id,
            "customer": self.customer,
            "category": self.category,
            "received": self.received.isoformat(),
            "channel": self.channel,
            "summary": self.summary,
            "opened_at": self.opened_at.isoformat(),
            "reaction_started": (self.reaction_started.isoformat()
                                 if self.reaction_started is not None else None),
            "contract": self.contract.to_json(),
            "source": self.source.to_json() if self.source else None,
            "corrections": [c.to_json() for c in self.corrections],
            "posts": [p.to_json() for p in self.posts],
            "notes": [n.to_json() for n in self.notes],
            "resolved": self.resolution.to_json() if self.resolution else None,
            "sent": [r.to_json() for r in self.sent],
        }

    def post(self, kind: str, report: str) -> TicketPost | None:
        """The last post of ``kind`` carrying ``report`` (e.g. the immediate report's comment)."""
        return next((p for p in reversed(self.posts) if p.kind == kind and p.report == report), None)

    @classmethod
    def from_json(cls, data: dict[str, Any], *, file: str = "<incident>") -> Incident:
        """The inverse of to_json; ConfigError naming the file for a damaged record."""
        try:
            started = data["reaction_started"]
            source = data.get("source")  # records written before issue 15 have none
            return cls(
                id=data["id"], customer=data["customer"], category=data["category"],
                received=datetime.fromisoformat(data["received"]), channel=data["channel"],
                summary=data["summary"], opened_at=datetime.fromisoformat(data["opened_at"]),
                reaction_started=datetime.fromisoformat(started) if started else None,
                contract=Contract.from_json(data["contract"], file=file),
                source=IncidentSource.from_json(source) if source else None,
                corrections=tuple(Correction.from_json(c) for c in data.get("corrections") or ()),
                posts=tuple(TicketPost.from_json(p) for p in data.get("posts") or ()),
                notes=tuple(IncidentNote.from_json(n) for n in data.get("notes") or ()),
                resolution=Resolution.from_json(data["resolved"]) if data.get("resolved") else None,
                sent=tuple(ReportSent.from_json(r) for r in data.get("sent") or ()),
            )
        except KeyError as exc:
            raise ConfigError(f"damaged incident record: missing {exc}", file=file) from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"damaged incident record: {exc}", file=file) from None
        except ConfigError as exc:
            if exc.file is None:
                raise ConfigError(exc.message, file=file, field=exc.field) from None
            raise
