"""Incidents: what the customer reported, when, and the SLA verdict on our reaction.

An incident lives in ``<reports_root>/incidents/<ID>/incident.json``. It carries a snapshot
of the contract as it was when the incident was opened, so its deadline can be recomputed
(and a report rebuilt) later without the inventory, and a later contract change does not
rewrite history. Runs join an incident by its ID (``run.start`` ``incident`` in the journal).

An incident taken from a ticket or an e-mail records where it came from (``source``: the
JIRA key or the Message-ID) and keeps the original beside the record (``original.eml``,
``jira-issue.json``). A claim file per source (``incidents/.sources/<hash>``) makes the same
mail or ticket open at most one incident, also when two engineers take it at once.
Corrections (``incident edit``) are kept in the record with their old and new values, who
made them and when; what was posted back (a JIRA comment, a reply mail) is kept as ``posts``.

Files are written to a temporary name, fsynced and then renamed (or hard-linked, for a new
incident, so that two on-call engineers opening the same ID at once cannot overwrite each
other). Updates take an flock on the incident's directory lock file.
"""

from __future__ import annotations

import builtins
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
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


def _utc(when: datetime) -> datetime:
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
    return _write_bytes_temp(directory, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def _write_bytes_temp(directory: Path, data: bytes) -> Path:
    """``data`` in a fsynced temporary file in ``directory``, for a link or rename into place."""
    fd, name = tempfile.mkstemp(prefix=".incident-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _write_bytes(path: Path, data: bytes) -> None:
    os.replace(_write_bytes_temp(path.parent, data), path)


def _plain_name(name: str) -> str:
    # Only names runbook itself chose ("original.eml") ever get here; refuse anything else.
    if not INCIDENT_ID.fullmatch(name):
        raise RunbookError(f"not a plain file name: {name!r}")
    return name


def _recorded(value: Any) -> str | int:
    """A field's value as the record writes it, for comparing and for the correction log."""
    return value.isoformat() if isinstance(value, datetime) else value


class IncidentStore:
    """The incidents under one reports root: open, look up, mark the reaction, list."""

    def __init__(self, reports_root: Path) -> None:
        self.root = Path(reports_root) / "incidents"

    def path(self, id: str) -> Path:
        """Where incident ``id``'s record lives (the ID is validated first)."""
        return self.root / check_incident_id(id) / "incident.json"

    def open(self, incident: Incident, originals: Mapping[str, bytes] | None = None) -> Incident:
        """Record a new incident; refuses (RunbookError) an ID that exists already.

        originals: files kept beside the record (``{"original.eml": raw}``), written only
        once the incident is ours. An incident with a ``source`` also claims it: a second
        incident from the same mail or ticket is refused, naming the first.
        """
        path = self.path(incident.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        claim = self._claim(incident) if incident.source else None
        temp = _write_temp(path.parent, incident.to_json())
        try:
            # link() fails if the name exists, where rename would silently replace it.
            os.link(temp, path)
        except FileExistsError:
            if claim is not None:
                claim.unlink()
            raise RunbookError(f"incident {incident.id} exists already ({path}); "
                               "use another id or `runbook incident show`") from None
        finally:
            temp.unlink()
        for name, data in (originals or {}).items():
            _write_bytes(path.parent / _plain_name(name), data)
        _fsync_dir(path.parent)
        _fsync_dir(self.root)
        return incident

    def taken_by(self, kind: str, ref: str) -> str | None:
        """The incident already opened from this ticket or mail (its ID), or None."""
        try:
            return self._claim_path(kind, ref).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _claim_path(self, kind: str, ref: str) -> Path:
        # A hash, because a Message-ID may hold any character a file name must not.
        digest = hashlib.sha256(f"{kind}\0{ref}".encode()).hexdigest()
        return self.root / ".sources" / digest

    def _claim(self, incident: Incident) -> Path:
        assert incident.source is not None
        claim = self._claim_path(incident.source.kind, incident.source.ref)
        claim.parent.mkdir(parents=True, exist_ok=True)
        temp = _write_bytes_temp(claim.parent, incident.id.encode() + b"\n")
        try:
            os.link(temp, claim)
        except FileExistsError:
            first = self.taken_by(incident.source.kind, incident.source.ref)
            what = "ticket" if incident.source.kind == "jira" else "mail"
            raise RunbookError(f"this {what} ({incident.source.ref}) was taken already: incident {first}; "
                               f"see `runbook incident show {first}`") from None
        finally:
            temp.unlink()
        return claim

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
        return self.update(id, lambda incident: incident if incident.reaction_started is not None
                           else replace(incident, reaction_started=when))

    def correct(self, id: str, changes: Mapping[str, Any], *, by: str, at: datetime,
                reason: str = "") -> tuple[Incident, tuple[Correction, ...]]:
        """Correct ``received``, ``category`` and/or ``summary``; each change is recorded with
        its old and new value, ``by`` whom and ``at`` when. The SLA verdict, computed from the
        record, follows. Returns the incident and the corrections made (none when every value
        was already so)."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ConfigError(f"cannot edit {', '.join(sorted(unknown))} (only {', '.join(EDITABLE)})",
                              field="edit")
        made: list[Correction] = []

        def change(incident: Incident) -> Incident:
            made.clear()
            for name in EDITABLE:
                if name not in changes:
                    continue
                old, new = _recorded(getattr(incident, name)), _recorded(changes[name])
                if old != new:
                    made.append(Correction(field=name, old=old, new=new, by=by, at=at, reason=reason))
            if not made:
                return incident
            values = {name: changes[name] for name in EDITABLE if name in changes}
            return replace(incident, **values, corrections=incident.corrections + tuple(made))

        return self.update(id, change), tuple(made)

    def record_post(self, id: str, post: TicketPost) -> Incident:
        """Remember a post; one of the same kind, report and ref is replaced (an updated comment)."""
        def add(incident: Incident) -> Incident:
            kept = tuple(p for p in incident.posts
                         if (p.kind, p.report, p.ref) != (post.kind, post.report, post.ref))
            return replace(incident, posts=kept + (post,))
        return self.update(id, add)

    def note(self, id: str, note: IncidentNote) -> Incident:
        """Add a note of work done by hand; notes are kept in the order of their time."""
        _aware(note.at, "at")
        return self.update(id, lambda i: replace(i, notes=tuple(sorted(i.notes + (note,), key=lambda n: _utc(n.at)))))

    def resolve(self, id: str, resolution: Resolution) -> Incident:
        """Record that the fault is over; a later call corrects the earlier one."""
        _aware(resolution.at, "at")
        return self.update(id, lambda i: replace(i, resolution=resolution))

    def sent(self, id: str, report: ReportSent) -> Incident:
        """Record a report delivered to the customer."""
        return self.update(id, lambda i: replace(i, sent=i.sent + (report,)))

    def update(self, id: str, change: Callable[[Incident], Incident]) -> Incident:
        """Read, change and write back the record under the incident's lock."""
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

    def original(self, incident: Incident) -> Path | None:
        """The kept original (``original.eml``) of an incident taken from a mail or ticket."""
        if incident.source is None or not incident.source.original:
            return None
        path = self.path(incident.id).parent / _plain_name(incident.source.original)
        return path if path.is_file() else None

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
