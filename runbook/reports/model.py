"""The report model: what a customer report says, as frozen values built from journals only.

Nothing here knows a language or a format. ``runbook.reports.build`` fills these from run
journals and the incident record; ``runbook.reports.wording`` words every ``Message`` in the
customer's language; the templates lay it out. Times are timezone-aware datetimes as in the
journal; the renderer shows them in the contract's timezone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from runbook.analysis.timeline import TimelineEvent
from runbook.change import Message
from runbook.inventory.people import Person, Signature
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
    account: str                   # the OS account it ran under: internal only, never a name
    operator: Person | None        # the person (RUNBOOK_OPERATOR / inventory operator)
    check_mode: bool
    incident: str | None


@dataclass(frozen=True)
class Observation:
    """One look at one aspect of a host: a check, a service, its reachability, hung processes.

    ``key`` names the aspect ("disk:/var", "service:nginx", "reachability", "hung"); ``state``
    says whether it describes the host's condition (a later observation of the same key
    replaces it) rather than a one-off find; ``detail`` is the producer's own English line,
    for the internal report only.
    """

    host: str
    key: str
    ts: datetime
    run_id: str
    status: str                    # OK | WARNING | CRITICAL | UNKNOWN | UNREACHABLE
    message: Message
    area: str                      # disk, memory, load, probe, service, process, reach, access, unknown, other
    state: bool = True
    value: float | None = None
    warn: float | None = None
    crit: float | None = None
    unit: str = ""
    direction: str = "above"
    detail: str = ""

    @property
    def customer_visible(self) -> bool:
        """A probe or service: what the customer's own users notice."""
        return self.area in ("probe", "service")


@dataclass(frozen=True)
class Finding:
    """An aspect that was not OK on a host during the incident, its sightings merged."""

    host: str
    key: str
    status: str                    # the worst status seen
    message: Message               # the worst sighting's
    area: str
    first_seen: datetime
    last_seen: datetime
    sightings: int
    worst: Observation             # the worst sighting, for its thresholds and detail


@dataclass(frozen=True)
class StepProblem:
    """A step that could not do its work on a reachable host (an internal error)."""

    host: str
    ts: datetime
    run_id: str
    action: str
    detail: str                    # the error, for the internal report only
    #: what the customer reads for it, where the step said more than "could not" (a restart
    #: refused because a configuration has errors); None: the general sentence
    message: Message | None = None


@dataclass(frozen=True)
class Measure:
    """One change made (or, in check mode, planned) on a host.

    ``message`` is the catalogue sentence the action named (for a journal whose action named
    none: "measure.text" around its own English sentence); ``text`` is that English sentence.
    """

    host: str
    ts: datetime
    run_id: str
    step: int | None
    action: str
    message: Message
    text: str
    planned: bool = False
    seq: int = 0     # its host.end's place in the run's journal: the order of measures of one moment


@dataclass(frozen=True)
class DiskPair:
    """One mount: the first "before" and the last "after" of the incident."""

    host: str
    mount: str
    before_ts: datetime
    after_ts: datetime
    used_before: float
    used_after: float
    free_before: int | None
    free_after: int | None
    size: int | None
    warn: float | None = None
    crit: float | None = None

    @property
    def freed(self) -> int | None:
        if self.free_before is None or self.free_after is None:
            return None
        return self.free_after - self.free_before


@dataclass(frozen=True)
class MemoryPair:
    """Memory (RAM and swap in use, in %) at the first "before" and the last "after"."""

    host: str
    before_ts: datetime
    after_ts: datetime
    ram_before: float | None
    ram_after: float | None
    swap_before: float | None
    swap_after: float | None
    total_bytes: int | None
    swap_total_bytes: int | None
    ram_warn: float | None = None  # used % at which the memory check warns (100 - available %)
    ram_crit: float | None = None


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
    path: str                      # relative to the run directory: internal only
    bytes: int | None
    sha256: str | None
    files: tuple[ArchivedFile, ...]
    verified: int | None = None


@dataclass(frozen=True)
class Analysis:
    """A log set's analysis on one host: its most frequent line patterns."""

    host: str
    ts: datetime
    run_id: str
    title: str
    columns: tuple[str, ...]       # empty: a two-column name/value table
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class CommandRun:
    """One command from the journal, for the internal appendix."""

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
    """A host as the newest evidence shows it: the last observation of each aspect."""

    host: str
    status: str                    # OK | WARNING | CRITICAL | UNKNOWN | UNREACHABLE
    checked_at: datetime
    not_ok: tuple[Observation, ...]
    #: only that a step reached the host is known (a command ran there), nothing about its
    #: condition: no check, service status or probe looked at it
    reached_only: bool = False


@dataclass(frozen=True)
class HostReport:
    """Everything the journals say about one host."""

    name: str
    roles: tuple[str, ...]
    observations: tuple[Observation, ...]
    findings: tuple[Finding, ...]
    problems: tuple[StepProblem, ...]
    measures: tuple[Measure, ...]
    planned: tuple[Measure, ...]
    disks: tuple[DiskPair, ...]
    memory: MemoryPair | None
    artifacts: tuple[Artifact, ...]
    analyses: tuple[Analysis, ...]
    commands: tuple[CommandRun, ...]
    state: HostState | None


@dataclass(frozen=True)
class TimelineEntry:
    """One journal event, for the internal appendix's event stream."""

    ts: datetime
    run_id: str
    seq: int
    event: str
    host: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class StoryRow:
    """One row of the incident's timeline (received, work started, each measure, recovery ...)."""

    ts: datetime
    message: Message


@dataclass(frozen=True)
class CauseStep:
    """The first error sighting on one host in the logs, before our first measure."""

    ts: datetime
    host: str
    role: str                      # db, app, web, ... (the host's first role)
    log: str                       # the log file's name
    kind: str                      # "first" (a line pattern) | "errors" (a minute with 5xx answers)
    text: str                      # the log's own line pattern (server text, quoted as it is)
    count: int
    total: int | None


@dataclass(frozen=True)
class Cause:
    """The likely cause, read from the log timeline and the findings: an assessment."""

    steps: tuple[CauseStep, ...]
    assessment: Message | None


@dataclass(frozen=True)
class Recovery:
    """When service was back: the customer-visible probes answering again ("probe"), or the
    first check after the last measure with everything OK ("check")."""

    at: datetime
    basis: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class IncidentInfo:
    """What the customer reported."""

    id: str
    category: int | str
    received: datetime
    channel: str | None
    summary: str | None


@dataclass(frozen=True)
class Note:
    """Work done by hand, from ``runbook incident note``."""

    at: datetime
    by: Person | None
    text: str


@dataclass(frozen=True)
class Resolved:
    """The end of the fault, from ``runbook incident resolve``."""

    at: datetime
    by: Person | None
    summary: str


@dataclass(frozen=True)
class Sent:
    """A report delivered to the customer."""

    kind: str
    at: datetime
    to: tuple[str, ...]
    via: str


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
class Report:
    """A customer report's content, independent of language and format."""

    customer: str | None
    timezone: str
    generated_at: datetime
    incident: IncidentInfo | None
    sla: SlaSummary | None
    runs: tuple[RunInfo, ...]
    hosts: tuple[HostReport, ...]
    events: tuple[TimelineEntry, ...]             # every journal event: internal appendix only
    story: tuple[StoryRow, ...]                   # the incident's timeline
    cause: Cause
    recovery: Recovery | None
    recommendations: tuple[Message, ...]
    open_points: tuple[Message, ...]
    notes: tuple[Note, ...] = ()
    resolved: Resolved | None = None
    sent: tuple[Sent, ...] = ()
    operator: Person | None = None                # who worked on it (the first real run's, else a note's)
    signature: Signature | None = None
    log_timeline: tuple[TimelineEvent, ...] = ()  # every host's log analyses merged in time
    log_timeline_more: int = 0                    # events beyond those kept

    @property
    def measures(self) -> tuple[Measure, ...]:
        """What was really done, in time order (check-mode plans are not measures)."""
        return tuple(sorted((m for h in self.hosts for m in h.measures), key=lambda m: (m.ts, m.seq, m.host)))

    @property
    def planned(self) -> tuple[Measure, ...]:
        """What check-mode runs would have done."""
        return tuple(sorted((m for h in self.hosts for m in h.planned), key=lambda m: (m.ts, m.seq, m.host)))

    @property
    def commands(self) -> tuple[CommandRun, ...]:
        return tuple(sorted((c for h in self.hosts for c in h.commands), key=lambda c: c.ts))

    @property
    def started(self) -> datetime | None:
        return min((r.started for r in self.runs), default=None)

    @property
    def states(self) -> tuple[HostState, ...]:
        return tuple(h.state for h in self.hosts if h.state is not None)


@dataclass(frozen=True)
class CheckDay:
    """An aspect that was not OK on a host during the day."""

    host: str
    key: str
    worst: str
    first_seen: datetime
    last_seen: datetime
    times: int                     # in how many sweeps
    last: Observation              # the last sighting, for its words


@dataclass(frozen=True)
class HostDay:
    """One host over the day's sweeps."""

    host: str
    worst: str
    sweeps: int
    unreachable: int               # sweeps in which the host itself did not answer
    no_access: int = 0             # sweeps in which only our access (host key, login) failed


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
    signature: Signature | None = None
