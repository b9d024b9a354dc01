"""The typed result of a log analysis and its stable JSON form.

Every value here is a frozen dataclass. ``Analysis.to_json()`` writes compact JSON with sorted
keys and times as ISO 8601 strings in UTC (``2024-01-01T02:03:04+00:00``, a fraction only
when the log had one), so two runs over the same bytes give byte-identical JSON -- on the
server with its own python3 and locally on the archived copy alike. ``Analysis.from_json()``
reads it back into equal values. The schema is described in the package docstring
(``runbook.analysis``); ``SCHEMA_VERSION`` changes whenever a field changes meaning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Tuple

SCHEMA_VERSION = 1

#: Severities from most to least severe (syslog's names); every format maps onto these.
SEVERITIES = ("emerg", "alert", "crit", "error", "warning", "notice", "info", "debug")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
#: Events at or above this rank count as problems (fingerprint tables favour them).
PROBLEM_RANK = SEVERITY_RANK["warning"]


def iso(epoch: Optional[float]) -> Optional[str]:
    """Epoch seconds -> ISO 8601 UTC string, as precise as the time is and no more."""
    if epoch is None:
        return None
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    if not moment.microsecond:
        spec = "seconds"
    elif moment.microsecond % 1000 == 0:
        spec = "milliseconds"
    else:
        spec = "microseconds"
    return moment.isoformat(timespec=spec)


def to_datetime(epoch: Optional[float]) -> Optional[datetime]:
    """Epoch seconds -> aware UTC datetime (None stays None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, timezone.utc)


def utc_of(epoch: float) -> datetime:
    """Epoch seconds -> aware UTC datetime."""
    return datetime.fromtimestamp(epoch, timezone.utc)


def _dt(text: Optional[str]) -> Optional[datetime]:
    return None if text is None else datetime.fromisoformat(text)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _iso_dt(value: Optional[datetime]) -> Optional[str]:
    return None if value is None else iso(value.timestamp())


@dataclass(frozen=True)
class Ranked:
    """One row of a top-N table: a key (path, client, template...) and how often it was seen."""

    key: str
    count: int


@dataclass(frozen=True)
class MinuteBucket:
    """Counts within one time bucket (``seconds`` long, normally 60) starting at ``start``."""

    start: datetime
    counts: Dict[str, int]


@dataclass(frozen=True)
class SlowEntry:
    """A slow request (access logs with a request time) or a slow query (MySQL slow log)."""

    time: datetime
    seconds: float
    what: str


@dataclass(frozen=True)
class Fingerprint:
    """A normalised message template with its count, first and last sighting and one example.

    ``new`` is True when a baseline was given and the template did not occur in it,
    False when it did, None without a baseline.
    """

    template: str
    severity: str
    count: int
    first_seen: Optional[datetime]
    last_seen: Optional[datetime]
    example: str
    new: Optional[bool] = None


@dataclass(frozen=True)
class AccessSummary:
    """What an access log adds: status classes, 5xx rate, error paths and clients, slowness."""

    requests: int
    status_classes: Dict[str, int]
    statuses: Dict[str, int]
    rate_5xx: float
    per_minute: Tuple[MinuteBucket, ...]
    top_paths_5xx: Tuple[Ranked, ...]
    top_clients_5xx: Tuple[Ranked, ...]
    top_paths_4xx: Tuple[Ranked, ...]
    top_clients_4xx: Tuple[Ranked, ...]
    has_request_time: bool
    slow_threshold: float
    slow_requests: int
    slowest: Tuple[SlowEntry, ...]


@dataclass(frozen=True)
class FileRead:
    """One file of a log set: how much of it was read and how much of that was garbage.

    ``skipped``: not read, because it was last written before the window (and baseline)
    started, or because it could not be read (then ``error`` says why).
    ``error`` without ``skipped``: read up to a break (compressed data corrupt or cut off);
    ``lines`` are the lines before it, and they were analysed.
    """

    path: str
    bytes_read: int
    lines: int
    garbage: int
    skipped: bool = False
    error: Optional[str] = None


@dataclass(frozen=True)
class LogSetAnalysis:
    """The analysis of one log set (a log file with its rotated siblings) within the window."""

    name: str
    format: str
    files: Tuple[FileRead, ...]
    lines: int
    garbage: int
    events: int
    first_event: Optional[datetime]
    last_event: Optional[datetime]
    severity_counts: Dict[str, int]
    bucket_seconds: int
    per_minute: Tuple[MinuteBucket, ...]
    fingerprints: Tuple[Fingerprint, ...]
    fingerprints_evicted: int
    access: Optional[AccessSummary] = None
    slowest: Tuple[SlowEntry, ...] = ()

    @property
    def problems(self) -> int:
        """Events of severity warning or worse."""
        return sum(n for sev, n in self.severity_counts.items()
                   if SEVERITY_RANK.get(sev, 99) <= PROBLEM_RANK)


@dataclass(frozen=True)
class Analysis:
    """The result of ``analyze_paths``: the window, how naive times were read, the log sets."""

    since: Optional[datetime]
    until: Optional[datetime]
    baseline_since: Optional[datetime]
    baseline_until: Optional[datetime]
    naive_tz: str
    sets: Tuple[LogSetAnalysis, ...]
    schema: int = SCHEMA_VERSION
    notes: Tuple[str, ...] = field(default=())

    @property
    def nothing_read(self) -> bool:
        """No file gave a line: each was unreadable. One cut off part-way still counts as read."""
        return all(f.error and not f.lines for s in self.sets for f in s.files)

    @property
    def bytes_read(self) -> int:
        """Log bytes read over all sets (compressed files count their decompressed bytes)."""
        return sum(f.bytes_read for s in self.sets for f in s.files)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON-ready dict (see the package docstring for the schema)."""
        return _encode(self)

    def to_json(self, indent: Optional[int] = None) -> str:
        """Stable JSON text: sorted keys, UTC ISO times, no whitespace unless ``indent``."""
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent,
                          separators=separators, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Analysis":
        """Read the output of ``to_json`` back into an equal ``Analysis``."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Analysis":
        """Inverse of ``to_dict``."""
        if data.get("schema") != SCHEMA_VERSION:
            raise ValueError("unsupported analysis schema %r" % (data.get("schema"),))
        return cls(
            since=_dt(data["since"]), until=_dt(data["until"]),
            baseline_since=_dt(data["baseline_since"]), baseline_until=_dt(data["baseline_until"]),
            naive_tz=data["naive_tz"], sets=tuple(_set_from(s) for s in data["sets"]),
            schema=data["schema"], notes=tuple(data.get("notes", ())),
        )


# --- encoding -------------------------------------------------------------------------------
# Hand-written rather than dataclasses.asdict: times must become ISO strings and floats must
# be rounded the same way everywhere, or remote and local JSON would drift apart.

def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso_dt(value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    return value


def _ranked(rows: List[Dict[str, Any]]) -> Tuple[Ranked, ...]:
    return tuple(Ranked(r["key"], r["count"]) for r in rows)


def _buckets(rows: List[Dict[str, Any]]) -> Tuple[MinuteBucket, ...]:
    return tuple(MinuteBucket(_at(r["start"]), dict(r["counts"])) for r in rows)


def _slow(rows: List[Dict[str, Any]]) -> Tuple[SlowEntry, ...]:
    return tuple(SlowEntry(_at(r["time"]), r["seconds"], r["what"]) for r in rows)


def _access_from(d: Optional[Dict[str, Any]]) -> Optional[AccessSummary]:
    if d is None:
        return None
    return AccessSummary(
        requests=d["requests"], status_classes=dict(d["status_classes"]),
        statuses=dict(d["statuses"]), rate_5xx=d["rate_5xx"],
        per_minute=_buckets(d["per_minute"]),
        top_paths_5xx=_ranked(d["top_paths_5xx"]), top_clients_5xx=_ranked(d["top_clients_5xx"]),
        top_paths_4xx=_ranked(d["top_paths_4xx"]), top_clients_4xx=_ranked(d["top_clients_4xx"]),
        has_request_time=d["has_request_time"], slow_threshold=d["slow_threshold"],
        slow_requests=d["slow_requests"], slowest=_slow(d["slowest"]),
    )


def _set_from(d: Dict[str, Any]) -> LogSetAnalysis:
    return LogSetAnalysis(
        name=d["name"], format=d["format"],
        files=tuple(FileRead(**f) for f in d["files"]),
        lines=d["lines"], garbage=d["garbage"], events=d["events"],
        first_event=_dt(d["first_event"]), last_event=_dt(d["last_event"]),
        severity_counts=dict(d["severity_counts"]), bucket_seconds=d["bucket_seconds"],
        per_minute=_buckets(d["per_minute"]),
        fingerprints=tuple(
            Fingerprint(template=f["template"], severity=f["severity"], count=f["count"],
                        first_seen=_dt(f["first_seen"]), last_seen=_dt(f["last_seen"]),
                        example=f["example"], new=f["new"])
            for f in d["fingerprints"]),
        fingerprints_evicted=d["fingerprints_evicted"],
        access=_access_from(d.get("access")), slowest=_slow(d.get("slowest", [])),
    )
