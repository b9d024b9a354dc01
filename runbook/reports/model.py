"""The report model: what a customer report says, as frozen values built from journals only.

Nothing here knows a language or a format. ``runbook.reports.build`` fills these from run
journals (and an optional incident); the renderers turn them into text, Markdown or HTML.
Times are timezone-aware UTC datetimes as in the journal; the renderer shows them in the
contract's timezone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from runbook.analysis.timeline import TimelineEvent
from runbook.sweeps.forecast import Forecast

# Worst-of order as in runbook.health (monitoring-plugins' max_state_alt: a known problem
# outranks a probe that could not look), with an unreachable host above all: the customer
# reads "not reachable" as the strongest reason to act.
STATUS_RANK = {"OK": 0, "UNKNOWN": 1, "WARNING": 2, "CRITICAL": 3, "UNREACHABLE": 4}


def worst(statuses: list[str] | tuple[str, ...]) -> str:
    """The most severe of ``statuses`` ("OK" for none); unknown words rank as UNKNOWN."""
    return max(statuses, key=lambda s: STATUS_RANK.get(s, STATUS_RANK["UNKNOWN"]), default="OK")


def more_severe(a: str, b: str) -> bool:
    """Whether status ``a`` is worse than ``b``."""
    return STATUS_RANK.get(a, STATUS_RANK["UNKNOWN"]) > STATUS_RANK.get(b, STATUS_RANK["UNKNOWN"])


@dataclass(frozen=True)
class RunInfo:
    """One run or sweep, from its run.start and run.end events."""

    id: str
    kind: str                      # "run" | "sweep"
    playbook: str
    started: datetime
    ended: datetime | None
    status: str                    # run.end status, or "incomplete" for a journal without one
    operator: str
    check_mode: bool
    incident: str | None


@dataclass(frozen=True)
class Finding:
    """A check that was not OK on a host; repeated sightings are merged by check name."""

    host: str
    check: str
    status: str                    # the worst status seen
    message: str
    value: Any
    warn: Any
    crit: Any
    details: Mapping[str, Any]     # mount, direction, bytes, ... (runbook.health's Check details)
    first_seen: datetime
    last_seen: datetime
    run_id: str                    # where it was first seen
    unit: str = ""                 # "%" or "" as in runbook.health


@dataclass(frozen=True)
class HostFailure:
    """A step that could not do its work on a host: unreachable (with the layer) or failed."""

    host: str
    ts: datetime
    run_id: str
    step: int | None
    outcome: str                   # "unreachable" | "failed"
    layer: str | None              # dns, tcp, ssh, hostkey, auth, local
    error_type: str | None
    message: str


@dataclass(frozen=True)
class Measure:
    """One change made on a host (a host.end "changed" entry of ``changes``).

    ``text`` is a sentence as the action wrote it; ``msgid``/``args`` name a catalogue
    sentence so it reads well in every language. At least one of the two is set.
    """

    host: str
    ts: datetime
    run_id: str
    step: int | None
    action: str
    text: str | Mapping[str, str] | None   # a sentence, or one per language {"de": ..., "en": ...}
    msgid: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)
    planned_only: bool = False     # check mode: recorded, not applied

    @classmethod
    def of_change(cls, change: Any, *, host: str, ts: datetime, run_id: str, step: int | None,
                  action: str, planned_only: bool = False) -> Measure:
        """A journalled change: a sentence, or a mapping {"msg": catalogue id, "args": {...},
        "sentence" or "text": fallback} that reads well in both languages."""
        if isinstance(change, Mapping):
            return cls(host=host, ts=ts, run_id=run_id, step=step, action=action,
                       text=change.get("sentence", change.get("text")), msgid=change.get("msg"),
                       args=dict(change.get("args") or {}), planned_only=planned_only)
        return cls(host=host, ts=ts, run_id=run_id, step=step, action=action, text=str(change),
                   planned_only=planned_only)


@dataclass(frozen=True)
class DiskChange:
    """One mount before and after a measure."""

    mount: str
    used_before: float | None
    used_after: float | None
    free_before: int | None
    free_after: int | None
    size: int | None

    @property
    def freed(self) -> int | None:
        if self.free_before is None or self.free_after is None:
            return None
        return self.free_after - self.free_before


@dataclass(frozen=True)
class ValueChange:
    """A scalar from an evidence snapshot (memory, load, process count, ...) before and after."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Evidence:
    """A before/after pair of snapshots of one kind, on one host, in one step."""

    host: str
    run_id: str
    step: int | None
    kind: str                      # "disk", "memory", "processes", "services", ...
    before_ts: datetime | None
    after_ts: datetime | None
    disks: tuple[DiskChange, ...]
    values: tuple[ValueChange, ...]


@dataclass(frozen=True)
class ArchivedFile:
    """One file listed in an archive's manifest."""

    path: str
    bytes: int | None
    sha256: str | None


@dataclass(frozen=True)
class Artifact:
    """A file a run kept (a log archive, an analysis result), with its manifest."""

    host: str
    ts: datetime
    run_id: str
    kind: str
    path: str
    bytes: int | None
    sha256: str | None
    files: tuple[ArchivedFile, ...]


@dataclass(frozen=True)
class Analysis:
    """A host.end ``data["analysis"]``, kept generic: a title and a summary table."""

    host: str
    ts: datetime
    run_id: str
    title: str
    columns: tuple[str, ...]       # empty: a two-column name/value table
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class CommandRun:
    """One command from the journal, for the appendix."""

    ts: datetime
    run_id: str
    step: int | None
    host: str
    command: str
    exit_code: int | None
    duration: float
    timed_out: bool
    output_tail: str               # the last lines of stderr, else stdout
    cut_short: str | None = None   # timeout | interrupted | connection lost: never came back


@dataclass(frozen=True)
class HostState:
    """A host as the last sweep saw it."""

    host: str
    status: str                    # OK | WARNING | CRITICAL | UNKNOWN | UNREACHABLE
    checked_at: datetime
    run_id: str
    not_ok: tuple[Finding, ...]    # the checks that were not OK in this sweep
    error: str | None              # why it could not be reached
    layer: str | None = None       # where the connection failed: dns, tcp, ssh, hostkey, auth


@dataclass(frozen=True)
class HostReport:
    """Everything the journals say about one host."""

    name: str
    findings: tuple[Finding, ...]
    failures: tuple[HostFailure, ...]
    measures: tuple[Measure, ...]
    evidence: tuple[Evidence, ...]
    artifacts: tuple[Artifact, ...]
    analyses: tuple[Analysis, ...]
    commands: tuple[CommandRun, ...]
    current: HostState | None


@dataclass(frozen=True)
class TimelineEntry:
    """One journal event in the merged timeline; the renderer words it per language."""

    ts: datetime
    run_id: str
    seq: int
    event: str
    host: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class IncidentInfo:
    """What the customer reported."""

    id: str
    category: int | str
    received: datetime
    channel: str | None
    summary: str | None


@dataclass(frozen=True)
class SlaSummary:
    """The reaction deadline and whether work started in time."""

    category: int | str
    received: datetime
    deadline: datetime
    basis: str                     # "service-hours" | "on-call"
    reaction_started: datetime | None
    met: bool | None
    margin: timedelta | None       # how much time was left (met) or how late (missed)
    report_due: date | None


@dataclass(frozen=True)
class Recommendation:
    """Advice derived from findings: a catalogue message id and its arguments."""

    msgid: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Report:
    """A customer report's content, independent of language and format."""

    customer: str | None
    timezone: str
    generated_at: datetime
    incident: IncidentInfo | None
    sla: SlaSummary | None
    runs: tuple[RunInfo, ...]
    hosts: tuple[HostReport, ...]
    timeline: tuple[TimelineEntry, ...]
    last_sweep: RunInfo | None
    recommendations: tuple[Recommendation, ...]
    log_timeline: tuple[TimelineEvent, ...] = ()   # every host's log analyses merged in time
    log_timeline_more: int = 0                     # events beyond those kept

    @property
    def measures(self) -> tuple[Measure, ...]:
        return tuple(sorted((m for h in self.hosts for m in h.measures), key=lambda m: m.ts))

    @property
    def commands(self) -> tuple[CommandRun, ...]:
        return tuple(sorted((c for h in self.hosts for c in h.commands), key=lambda c: c.ts))

    @property
    def started(self) -> datetime | None:
        return min((r.started for r in self.runs), default=None)


@dataclass(frozen=True)
class CheckDay:
    """A check that was not OK on a host during the day."""

    host: str
    check: str
    worst: str
    first_seen: datetime
    last_seen: datetime
    times: int                     # in how many sweeps
    last: Finding                  # the last sighting, for its words


@dataclass(frozen=True)
class HostDay:
    """One host over the day's sweeps."""

    host: str
    worst: str
    sweeps: int
    unreachable: int


@dataclass(frozen=True)
class CustomerDay:
    """One customer's sweeps of the day."""

    customer: str
    sweeps: int
    first: datetime
    last: datetime
    hosts: tuple[HostDay, ...]
    checks: tuple[CheckDay, ...]
    #: mounts reaching crit or 100 % within 7 days of the day's end (runbook.sweeps.forecast)
    forecasts: tuple[Forecast, ...] = ()


@dataclass(frozen=True)
class DailyReport:
    """All unattended sweeps of one day, per customer."""

    day: date
    timezone: str
    customers: tuple[CustomerDay, ...]
