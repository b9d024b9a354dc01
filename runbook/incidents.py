"""Incidents: what the customer reported, when, and the SLA verdict on our reaction.

An incident lives in ``<reports_root>/incidents/<ID>/incident.json``. It carries a snapshot
of the contract as it was when the incident was opened, so its deadline can be recomputed
(and a report rebuilt) later without the inventory, and a later contract change does not
rewrite history. Runs join an incident by its ID (``run.start`` ``incident`` in the journal).

Files are written to a temporary name, fsynced and then renamed (or hard-linked, for a new
incident, so that two on-call engineers opening the same ID at once cannot overwrite each
other). Updates take an flock on the incident's directory lock file.
"""

from __future__ import annotations

import builtins
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from runbook.errors import ConfigError, RunbookError
from runbook.inventory.people import Person
from runbook.sla import (
    CATEGORIES,
    Contract,
    ReactionDeadline,
    next_business_day,
    reaction_deadline,
)
from runbook.sla.calendar import require_aware

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


def _utc(when: datetime) -> datetime:
    # astimezone() would read a naive time as the machine's local time: refuse it instead.
    return require_aware(when).astimezone(timezone.utc)


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
    explicitly (``incident react``), None until then; contract: the SLA snapshot; notes:
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
            "notes": [n.to_json() for n in self.notes],
            "resolved": self.resolution.to_json() if self.resolution else None,
            "sent": [r.to_json() for r in self.sent],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, file: str = "<incident>") -> Incident:
        """The inverse of to_json; ConfigError naming the file for a damaged record."""
        try:
            started = data["reaction_started"]
            return cls(
                id=data["id"], customer=data["customer"], category=data["category"],
                received=datetime.fromisoformat(data["received"]), channel=data["channel"],
                summary=data["summary"], opened_at=datetime.fromisoformat(data["opened_at"]),
                reaction_started=datetime.fromisoformat(started) if started else None,
                contract=Contract.from_json(data["contract"], file=file),
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


def _aware(when: datetime, field: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ConfigError(f"needs a timezone offset: {when.isoformat()}", field=field)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(directory: Path, data: dict[str, Any]) -> Path:
    """The JSON in a fsynced temporary file next to its final place (same filesystem)."""
    fd, name = tempfile.mkstemp(prefix=".incident-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


class IncidentStore:
    """The incidents under one reports root: open, look up, mark the reaction, list."""

    def __init__(self, reports_root: Path) -> None:
        self.root = Path(reports_root) / "incidents"

    def path(self, id: str) -> Path:
        """Where incident ``id``'s record lives (the ID is validated first)."""
        return self.root / check_incident_id(id) / "incident.json"

    def open(self, incident: Incident) -> Incident:
        """Record a new incident; refuses (RunbookError) an ID that exists already."""
        path = self.path(incident.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _write_temp(path.parent, incident.to_json())
        try:
            # link() fails if the name exists, where rename would silently replace it.
            os.link(temp, path)
        except FileExistsError:
            raise RunbookError(f"incident {incident.id} exists already ({path}); "
                               "use another id or `runbook incident show`") from None
        finally:
            temp.unlink()
        _fsync_dir(path.parent)
        _fsync_dir(self.root)
        return incident

    def get(self, id: str) -> Incident:
        """The incident ``id``; RunbookError if there is none."""
        path = self.path(id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RunbookError(f"unknown incident {id!r} (no {path}); open it first with "
                               "`runbook incident open`") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"damaged incident record: {exc.msg}", file=str(path),
                              line=exc.lineno) from None
        if not isinstance(data, dict):
            raise ConfigError("damaged incident record: not a JSON object", file=str(path))
        return Incident.from_json(data, file=str(path))

    def react(self, id: str, when: datetime) -> Incident:
        """Mark when the reaction started; the first mark wins, later ones change nothing."""
        _aware(when, "reaction_started")
        return self._update(id, lambda i: i if i.reaction_started is not None else replace(i, reaction_started=when))

    def note(self, id: str, note: IncidentNote) -> Incident:
        """Add a note of work done by hand; notes are kept in the order of their time."""
        _aware(note.at, "at")
        return self._update(id, lambda i: replace(i, notes=tuple(sorted(i.notes + (note,), key=lambda n: _utc(n.at)))))

    def resolve(self, id: str, resolution: Resolution) -> Incident:
        """Record that the fault is over; a later call corrects the earlier one."""
        _aware(resolution.at, "at")
        return self._update(id, lambda i: replace(i, resolution=resolution))

    def sent(self, id: str, report: ReportSent) -> Incident:
        """Record a report delivered to the customer."""
        return self._update(id, lambda i: replace(i, sent=i.sent + (report,)))

    def _update(self, id: str, change: Callable[[Incident], Incident]) -> Incident:
        path = self.path(id)
        with self._locked(id):
            incident = self.get(id)
            updated = change(incident)
            if updated == incident:
                return incident
            temp = _write_temp(path.parent, updated.to_json())
            os.replace(temp, path)
            _fsync_dir(path.parent)
            return updated

    def list(self) -> builtins.list[Incident]:
        """All incidents, oldest received first. A damaged record raises, it is not hidden."""
        if not self.root.is_dir():
            return []
        found = [self.get(p.name) for p in self.root.iterdir()
                 if INCIDENT_ID.fullmatch(p.name) and (p / "incident.json").is_file()]
        return sorted(found, key=lambda i: (_utc(i.received), i.id))

    @contextmanager
    def _locked(self, id: str) -> Iterator[None]:
        # Two processes reacting at once must not both see "not yet set" and both write.
        lock_path = self.path(id).parent / ".lock"
        if not lock_path.parent.is_dir():
            self.get(id)  # raises the clear "unknown incident" error
        with open(lock_path, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


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
    due = _utc(deadline.deadline)
    if started is not None:
        # Subtract in UTC: within one tzinfo Python subtracts wall clocks, off by an hour
        # across the autumn DST change.
        margin = due - _utc(started)
        return SlaVerdict(deadline=deadline, reaction_started=started.astimezone(
            incident.contract.timezone), met=margin >= timedelta(0), margin=margin)
    if now is not None and _utc(now) > due:
        return SlaVerdict(deadline=deadline, reaction_started=None, met=False,
                          margin=due - _utc(now))
    return SlaVerdict(deadline=deadline, reaction_started=None, met=None, margin=None)


def report_due(incident: Incident) -> date:
    """The due date of the next-day report: the next business day after the local received date."""
    return next_business_day(incident.contract, incident.received)
