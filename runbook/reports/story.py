"""The incident told as a story, derived from the report's values: what each host looks like
now, when service was back, the likely cause, the SLA verdict and the incident's timeline.

Pure functions over ``runbook.reports.model`` values (the journal is read in ``build``); the
SLA arithmetic itself belongs to ``runbook.sla`` and ``runbook.incidents``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from runbook.analysis.timeline import TimelineEvent
from runbook.reports.model import (
    STATUS_RANK,
    Cause,
    CauseStep,
    Finding,
    HostReport,
    HostState,
    IncidentInfo,
    Measure,
    Message,
    Note,
    Observation,
    Recovery,
    Resolved,
    RunInfo,
    Sent,
    SlaSummary,
    StoryRow,
    more_severe,
    worst,
)

if TYPE_CHECKING:
    from runbook.incidents import Incident

#: Dependency order of the usual tiers: a fault deep in the chain shows up above it.
TIERS = ("db", "app", "web")
#: Log severities that count as an error sighting for the cause.
ERROR_SEVERITIES = ("emerg", "alert", "crit", "error")
#: Findings that can explain a fault by themselves (a hung process, a full disk, a service down).
CAUSE_AREAS = ("process", "disk", "memory", "service")
#: At most this many rows in the incident's timeline; measures beyond are summed up in one row.
STORY_ROWS = 36


def tier(roles: Sequence[str]) -> int:
    """Position in the chain db -> app -> web (others last)."""
    return min((TIERS.index(r) for r in roles if r in TIERS), default=len(TIERS))


def merged_findings(observations: Iterable[Observation]) -> tuple[Finding, ...]:
    """The aspects that were not OK, each once: its worst sighting's words, first and last seen."""
    merged: dict[str, Finding] = {}
    for obs in sorted(observations, key=lambda o: o.ts):
        if obs.status == "OK":
            continue
        seen = merged.get(obs.key)
        if seen is None:
            merged[obs.key] = Finding(obs.host, obs.key, obs.status, obs.message, obs.area, obs.ts, obs.ts, 1, obs)
        else:
            worse = more_severe(obs.status, seen.status)
            merged[obs.key] = Finding(obs.host, obs.key, obs.status if worse else seen.status,
                                      obs.message if worse else seen.message, obs.area, seen.first_seen, obs.ts,
                                      seen.sightings + 1, obs if worse else seen.worst)
    return tuple(sorted(merged.values(), key=lambda f: (f.first_seen, f.key)))


def current_state(host: str, observations: Sequence[Observation]) -> HostState | None:
    """The host as the newest evidence shows it: of every aspect that describes its condition,
    the last observation in any run (a playbook's own re-check counts as much as a sweep)."""
    latest: dict[str, Observation] = {}
    for obs in sorted((o for o in observations if o.state), key=lambda o: o.ts):
        latest[obs.key] = obs
    if not latest:
        return None
    reach = latest.get("reachability")
    if reach is not None and reach.status != "OK":
        # Not reached now: what older looks saw is no longer news; the reachability says it.
        stale = [o for o in latest.values() if o.ts < reach.ts and o.key != "reachability"]
        for obs in stale:
            latest.pop(obs.key)
    not_ok = tuple(sorted((o for o in latest.values() if o.status != "OK"), key=lambda o: (
        -STATUS_RANK.get(o.status, 1), o.key)))
    return HostState(host=host, status=worst([o.status for o in latest.values()]),
                     checked_at=max(o.ts for o in latest.values()), not_ok=not_ok,
                     reached_only=set(latest) == {"reachability"})


def recovery(hosts: Sequence[HostReport]) -> Recovery | None:
    """When service was back.

    Where a customer-visible probe or service failed: the time the last of them answered
    again (None while one still fails). Else, for the hosts with findings that are not about
    reaching them: the first moment after the last measure at which all their aspects were OK.
    """
    visible = [o for h in hosts for o in h.observations if o.customer_visible]
    failing = {(o.host, o.key) for o in visible if o.status != "OK"}
    if failing:
        back: list[datetime] = []
        for host, key in failing:
            seen = sorted((o for o in visible if (o.host, o.key) == (host, key)), key=lambda o: o.ts)
            last_bad = max(o.ts for o in seen if o.status != "OK")
            ok = next((o.ts for o in seen if o.ts > last_bad and o.status == "OK"), None)
            if ok is None:
                return None
            back.append(ok)
        return Recovery(max(back), "probe", tuple(sorted({h for h, _ in failing})))
    measures = [m for h in hosts for m in h.measures]
    if not measures:
        return None
    after = max(m.ts for m in measures)
    affected = [h for h in hosts if any(f.area not in ("reach", "access") for f in h.findings)]
    times = []
    for host in affected:
        at = _all_ok_since(host, after)
        if at is None:
            return None
        times.append(at)
    return Recovery(max(times), "check", tuple(h.name for h in affected)) if times else None


def _all_ok_since(host: HostReport, after: datetime) -> datetime | None:
    latest: dict[str, Observation] = {}
    for obs in sorted((o for o in host.observations if o.state), key=lambda o: o.ts):
        latest[obs.key] = obs
        if obs.ts >= after and all(o.status == "OK" for o in latest.values()):
            return obs.ts
    return None


def likely_cause(log_events: Sequence[TimelineEvent], hosts: Sequence[HostReport],
                 until: datetime | None) -> Cause:
    """The first error sighting per host in the cross-host log timeline, before our first
    measure (``until``), in time order; and an assessment naming where it most likely began:
    a finding that explains a fault by itself on the deepest tier, else the first host whose
    logs showed errors. An assessment, not a certainty: the report words it so."""
    roles = {h.name: h.roles for h in hosts}
    sighted: dict[str, list[TimelineEvent]] = {}
    for event in sorted(log_events, key=lambda e: e.time):
        if until is not None and event.time >= until:
            continue
        if event.kind == "errors" or (event.kind == "first" and event.severity in ERROR_SEVERITIES):
            sighted.setdefault(event.host, []).append(event)
    first: dict[str, CauseStep] = {}
    for host, events in sighted.items():
        # the first error's own words where the log has them, else the first minute with errors
        worded = next((e for e in events if e.kind == "first"), None)
        shown = worded if worded is not None and (events[0].format != "access" or worded.time == events[0].time) \
            else events[0]
        first[host] = CauseStep(ts=events[0].time, host=host, role=next(iter(roles.get(host, ())), ""),
                                log=shown.log.rsplit("/", 1)[-1], kind=shown.kind, text=shown.text,
                                count=shown.count, total=shown.total if shown.format == "access" else None)
    steps = tuple(sorted(first.values(), key=lambda s: (s.ts, tier(roles.get(s.host, ())))))
    explaining = [(tier(h.roles), f.first_seen, f) for h in hosts for f in h.findings
                  if f.area in CAUSE_AREAS and f.status in ("CRITICAL", "WARNING")
                  and (until is None or f.first_seen <= until)]
    if explaining:
        _, _, found = min(explaining, key=lambda t: (t[0], t[1]))
        assessment: Message | None = Message("cause.finding", {"host": found.host, "finding": found.message})
    elif steps:
        origin = min(steps, key=lambda s: (s.ts, tier(roles.get(s.host, ()))))
        assessment = Message("cause.logs", {"host": origin.host, "tier": origin.role})
    else:
        assessment = None
    return Cause(steps=steps, assessment=assessment)


def incident_info(incident: Incident) -> IncidentInfo:
    """The customer-facing facts of the incident."""
    return IncidentInfo(id=str(incident.id), category=incident.category, received=incident.received,
                        channel=incident.channel, summary=incident.summary)


def first_reaction(incident: Incident, runs: Sequence[RunInfo]) -> RunInfo | None:
    """The first run that worked on the incident: tagged with its id, else the first given."""
    tagged = [r for r in runs if r.incident == incident.id]
    return min(tagged or list(runs), key=lambda r: r.started, default=None)


def sla_summary(incident: Incident, runs: Sequence[RunInfo]) -> SlaSummary:
    """Deadline and verdict from ``runbook.incidents`` for the incident and its first run."""
    # imported here: the SLA package is optional for reports without an incident
    from runbook.incidents import report_due, sla_verdict

    first = first_reaction(incident, runs)
    verdict = sla_verdict(incident, first.started if first else None)
    deadline = verdict.deadline
    return SlaSummary(
        category=deadline.category, received=deadline.received, deadline=deadline.deadline,
        basis=deadline.basis, reaction_started=verdict.reaction_started, met=verdict.met,
        margin=verdict.margin, report_due=report_due(incident))


def story(incident: IncidentInfo | None, runs: Sequence[RunInfo], hosts: Sequence[HostReport],
          measures: Sequence[Measure], notes: Sequence[Note], cause: Cause, rec: Recovery | None,
          resolved: Resolved | None, sent: Sequence[Sent]) -> tuple[StoryRow, ...]:
    """The incident's timeline: received, first errors, work started, findings, each measure,
    manual work, recovery, resolution, reports sent. A few dozen rows at most."""
    rows: list[StoryRow] = []
    if incident is not None:
        rows.append(StoryRow(incident.received, Message("story.received", {"channel": incident.channel or ""})))
    if cause.steps:
        step = cause.steps[0]
        rows.append(StoryRow(step.ts, Message("story.first_errors", {"host": step.host})))
    for i, run in enumerate(sorted(runs, key=lambda r: r.started)):
        if i == 0:
            rows.append(StoryRow(run.started, Message("story.work_started.by", {"operator": run.operator.name})
                                 if run.operator else Message("story.work_started")))
        if run.kind == "sweep":
            rows.append(StoryRow(run.started, Message("story.sweep")))
        elif run.check_mode:
            rows.append(StoryRow(run.started, Message("story.check_run")))
    for host in hosts:
        found = [f for f in host.findings if f.area != "unknown"]
        if found:
            rows.append(StoryRow(found[0].first_seen, Message("story.found", {"host": host.name,
                                                                                "finding": found[0].message})))
    kept = list(measures)
    room = STORY_ROWS - len(rows) - len(notes) - 3 - len(sent)
    if len(kept) > room > 0:
        rest = kept[room - 1:]
        kept = kept[:room - 1]
        rows.append(StoryRow(rest[0].ts, Message("story.more_measures", {"count": len(rest)})))
    rows += [StoryRow(m.ts, Message("story.measure", {"measure": m.message, "host": m.host}))
             for m in kept]
    rows += [StoryRow(n.at, Message("story.note.by", {"text": n.text, "by": n.by.name}) if n.by
                      else Message("story.note", {"text": n.text})) for n in notes]
    if rec is not None:
        rows.append(StoryRow(rec.at, Message(f"story.recovered.{rec.basis}", {"hosts": list(rec.hosts)})))
    if resolved is not None:
        rows.append(StoryRow(resolved.at, Message("story.resolved.by" if resolved.by else "story.resolved",
                                                  {"by": resolved.by.name if resolved.by else "",
                                                   "summary": resolved.summary})))
    rows += [StoryRow(s.at, Message(f"story.sent.{s.kind}", {"to": list(s.to)})) for s in sent]
    return tuple(sorted(rows, key=lambda r: r.ts))
