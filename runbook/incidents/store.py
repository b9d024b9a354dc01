"""Where incidents live: ``<reports_root>/incidents/<ID>/incident.json``, written to a temporary
name, fsynced and then renamed (or hard-linked, for a new incident, so that two on-call
engineers opening the same ID at once cannot overwrite each other). Updates take an flock on
the incident's directory lock file. A claim file per source (``incidents/.sources/<hash>``)
makes the same mail or ticket open at most one incident, also when two engineers take it at
once; the original is kept beside the record (``original.eml``, ``jira-issue.json``)."""

from __future__ import annotations

import builtins
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from runbook.errors import ConfigError, RunbookError
from runbook.incidents.record import (
    EDITABLE,
    INCIDENT_ID,
    Correction,
    Incident,
    IncidentNote,
    ReportSent,
    Resolution,
    TicketPost,
    as_utc,
    check_incident_id,
)


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
        return self.update(id, lambda i: replace(i, notes=tuple(sorted(i.notes + (note,), key=lambda n: as_utc(n.at)))))

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
        return sorted(found, key=lambda i: (as_utc(i.received), i.id))

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
