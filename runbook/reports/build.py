"""Build the report model from run journals and the incident record, nothing else.

This is where the journal is read (with ``findings`` for the health JSON and ``sections``
for evidence, archives and analyses); everything after it works on ``model`` values. The
same journals always give the same report: there is no "now" in here; ``generated_at`` is the
newest event's time unless the caller passes one.

Check-mode runs are read for what they saw (a measurement is a measurement) but never for
what they would have changed: their plans are ``planned``, not measures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook.change import INTERNAL
from runbook.errors import ConfigError
from runbook.inventory.people import Person, Signature
from runbook.journal import parse_ts, read_events
from runbook.reports import advice, findings, story
from runbook.reports.i18n import DEFAULT_TIMEZONE
from runbook.reports.model import (
    Analysis,
    Artifact,
    CommandRun,
    HostReport,
    Measure,
    Message,
    Note,
    Observation,
    Report,
    Resolved,
    RunInfo,
    Sent,
    StepProblem,
    TimelineEntry,
)
from runbook.reports.sections import (Snapshot, analyses, disk_pairs, journalled_analyses, log_timeline, manifest,
                                      mapping, memory_pair, output_tail)

if TYPE_CHECKING:
    from runbook.incidents import Incident

#: Artifacts that are log archives (older journals used "log-archive").
ARCHIVE_KINDS = ("logs.archive", "log-archive")


@dataclass(frozen=True)
class LoadedRun:
    """A run's metadata and its events, as read from one journal."""

    info: RunInfo
    events: tuple[dict[str, Any], ...]
    path: Path

    @property
    def start(self) -> dict[str, Any]:
        return next(e for e in self.events if e.get("event") == "run.start")

    def customer_of(self, host: str) -> str | None:
        """The slug of the customer ``host`` belongs to, as run.start recorded it."""
        return ((self.start.get("host_info") or {}).get(host) or {}).get("customer")


def load_run(run_dir: Path) -> LoadedRun:
    """Read ``<run_dir>/journal.jsonl``; a journal without run.start is refused."""
    path = Path(run_dir) / "journal.jsonl"
    if not path.is_file():
        raise ConfigError("no journal.jsonl in this run directory", file=str(run_dir))
    events = tuple(read_events(path))
    start = next((e for e in events if e.get("event") == "run.start"), None)
    if start is None:
        raise ConfigError("journal has no run.start event", file=str(path))
    end = next((e for e in reversed(events) if e.get("event") == "run.end"), None)
    info = RunInfo(
        id=str(start.get("run_id") or Path(run_dir).name),
        kind=str(start.get("kind", "run")),
        playbook=str((start.get("playbook") or {}).get("name") or ""),
        started=parse_ts(start["ts"]),
        ended=parse_ts(end["ts"]) if end else None,
        status=str(end["status"]) if end else "incomplete",
        account=str(start.get("user") or ""),
        operator=Person.from_json(start.get("operator")),
        check_mode=bool(start.get("check")),
        incident=start.get("incident"),
    )
    return LoadedRun(info, events, Path(run_dir))


@dataclass
class _HostDraft:
    """Mutable collector for one host while the events are walked; frozen at the end."""

    roles: tuple[str, ...] = ()
    observations: list[Observation] = field(default_factory=list)
    problems: list[StepProblem] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    planned: list[Measure] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    commands: list[CommandRun] = field(default_factory=list)
    hung: dict[str, str] = field(default_factory=dict)   # pid -> service, from processes.hung


def build_report(run_dirs: Sequence[Path], incident: Incident | None, *, customer: str | None = None,
                 timezone: str | None = None, generated_at: datetime | None = None,
                 signature: Signature | None = None) -> Report:
    """The report model for ``run_dirs`` (any order) and the incident they worked on.

    ``customer`` names the customer (default: the incident's); ``timezone`` is the one times
    are shown in (default: the incident contract's, else Europe/Berlin); ``signature`` is how
    the report is signed (from the inventory).
    """
    runs = sorted((load_run(Path(d)) for d in run_dirs), key=lambda r: (r.info.started, r.info.id))
    hosts: dict[str, _HostDraft] = {}
    events: list[TimelineEntry] = []
    for run in runs:
        _walk(run, hosts, events)
    order = {r.info.id: i for i, r in enumerate(runs)}
    events.sort(key=lambda e: (e.ts, order[e.run_id], e.seq))
    reports = tuple(_freeze(name, draft) for name, draft in hosts.items())

    infos = tuple(r.info for r in runs)
    measures = sorted((m for h in reports for m in h.measures), key=lambda m: m.ts)
    notes = tuple(Note(n.at, n.by, n.text) for n in incident.notes) if incident is not None else ()
    res = incident.resolution if incident is not None else None
    resolved = Resolved(res.at, res.by, res.summary) if res is not None else None
    sent = tuple(Sent(s.kind, s.at, s.to, s.via) for s in incident.sent) if incident is not None else ()
    log_events, log_more = log_timeline(journalled_analyses(e for r in runs for e in r.events))
    cause = story.likely_cause(log_events, reports, measures[0].ts if measures else None)
    recovered = story.recovery(reports)
    info = story.incident_info(incident) if incident is not None else None
    if generated_at is None:
        moments = [e.ts for e in events[-1:]] + [n.at for n in notes] + ([resolved.at] if resolved else [])
        if not moments and incident is not None:
            moments = [incident.opened_at]
        if not moments:
            raise ValueError("a report needs at least one run or an incident")
        generated_at = max(moments)
    if customer is None:
        customer = incident.customer if incident is not None else _journal_customer(runs)
    # who worked on it: the first real run's person, else a check run's, else whoever wrote a note
    named = [r.operator for r in sorted(infos, key=lambda r: r.check_mode) if r.operator is not None]
    operator = named[0] if named else next((n.by for n in notes if n.by is not None), None)
    return Report(
        customer=customer,
        timezone=timezone or _contract_timezone(incident),
        generated_at=generated_at,
        incident=info,
        sla=story.sla_summary(incident, infos) if incident is not None else None,
        runs=infos,
        hosts=reports,
        events=tuple(events),
        story=story.story(info, infos, reports, measures, notes, cause, recovered, resolved, sent),
        cause=cause,
        recovery=recovered,
        recommendations=advice.recommendations(reports, cause.assessment),
        open_points=advice.open_points(reports),
        notes=notes,
        resolved=resolved,
        sent=sent,
        operator=operator,
        signature=signature,
        log_timeline=log_events,
        log_timeline_more=log_more,
    )


def _journal_customer(runs: Sequence[LoadedRun]) -> str | None:
    """The customer's name when every run.start names the same single customer."""
    names = {name for r in runs for name in (r.start.get("customers") or {}).values()}
    return names.pop() if len(names) == 1 else None


def _contract_timezone(incident: Incident | None) -> str:
    return DEFAULT_TIMEZONE if incident is None else incident.contract.timezone.key


def host_events(run: LoadedRun) -> dict[str, list[Observation]]:
    """Every observation a run made, per host (the daily report needs no more)."""
    drafts: dict[str, _HostDraft] = {}
    _walk(run, drafts, [])
    return {name: d.observations for name, d in drafts.items()}


def _walk(run: LoadedRun, hosts: dict[str, _HostDraft], timeline: list[TimelineEntry]) -> None:
    """Collect one run's events into the per-host drafts and the event stream."""
    rid = run.info.id
    actions: dict[Any, str] = {}
    for ev in run.events:
        kind = ev.get("event", "")
        ts = parse_ts(ev["ts"])
        host = ev.get("host")
        timeline.append(TimelineEntry(ts=ts, run_id=rid, seq=int(ev.get("seq", 0)), event=kind,
                                      host=host, fields=ev))
        if kind == "run.start":
            info = ev.get("host_info") or {}
            for name in ev.get("hosts") or ():
                draft = hosts.setdefault(name, _HostDraft())
                draft.roles = draft.roles or tuple((info.get(name) or {}).get("roles") or ())
            continue
        if kind == "step.start":
            actions[ev.get("step")] = str(ev.get("action") or "")
            continue
        if not host:
            continue
        draft = hosts.setdefault(host, _HostDraft())
        if kind == "command":
            draft.commands.append(CommandRun(
                ts=ts, run_id=rid, step=ev.get("step"), host=host, command=str(ev.get("command", "")),
                exit_code=ev.get("exit_code"), duration=float(ev.get("duration") or 0.0),
                timed_out=bool(ev.get("timed_out")), output_tail=output_tail(ev),
                cut_short=ev.get("cut_short") or ("timeout" if ev.get("timed_out") else None)))
        elif kind == "evidence":
            draft.snapshots.append(Snapshot(ts, str(ev.get("phase")), str(ev.get("kind", "")), mapping(ev.get("data"))))
        elif kind == "artifact":
            found = mapping(ev.get("manifest"))
            draft.artifacts.append(Artifact(
                host=host, ts=ts, run_id=rid, kind=str(ev.get("kind", "")), path=str(ev.get("path", "")),
                bytes=ev.get("bytes"), sha256=ev.get("sha256"), files=manifest(ev.get("manifest")),
                verified=found.get("verified") if isinstance(found.get("verified"), int) else None))
        elif kind == "service":
            gate = findings.from_gate(ev, host, ts, rid)
            if gate is not None:
                draft.observations.append(gate)
        elif kind == "error":   # a bug caught at the per-host boundary: its last traceback line
            lines = str(ev.get("traceback") or "").strip().splitlines()
            draft.problems.append(StepProblem(host, ts, rid, actions.get(ev.get("step"), ""),
                                              lines[-1] if lines else "error"))
        elif kind == "host.end":
            _host_end(ev, ts, run.info, actions.get(ev.get("step"), ""), draft)


def _refused(data: Mapping[str, Any], host: str) -> Message | None:
    """A controlled restart refused before anything was stopped, because a configuration check
    failed: on the host whose services' check failed, which; elsewhere, that it was refused."""
    failed = [c for c in data.get("config_checks") or () if isinstance(c, Mapping) and c.get("ok") is False]
    if not failed:
        return None
    own = [str(c.get("service", "")).partition(":")[2] for c in failed
           if str(c.get("service", "")).partition(":")[0] == host]
    if own:
        return Message("problem.restart_refused", {"host": host, "services": own})
    return Message("problem.restart_refused_elsewhere",
                   {"host": host, "service_keys": [str(c.get("service", "")) for c in failed]})


def _host_end(ev: Mapping[str, Any], ts: datetime, run: RunInfo, action: str, draft: _HostDraft) -> None:
    host, rid = str(ev["host"]), run.id
    outcome = ev.get("outcome")
    data = mapping(ev.get("data"))
    error = mapping(ev.get("error"))
    checks = [c for c in data.get("checks") or () if isinstance(c, Mapping)]
    if outcome == "unreachable":
        reach = next((c for c in checks if c.get("name") == "reachability"), None)
        draft.observations.append(findings.from_check(reach, host, ts, rid) if reach is not None else findings.reach(
            host, ts, rid, error.get("layer") or data.get("layer"), str(error.get("message") or ev.get("message"))))
    elif outcome in ("ok", "changed", "failed"):
        # a step that works without logging in (notify.hoster) probes the layers itself: its
        # result is no proof the host answers, its failed layer is a sighting of the outage
        failed = next((c for c in data.get("layers") or () if isinstance(c, Mapping) and not c.get("ok")), None)
        draft.observations.append(findings.reach(host, ts, rid, failed.get("layer"), str(failed.get("detail") or ""),
                                                 [str(p.get("target")) for p in data.get("still_working") or ()
                                                  if isinstance(p, Mapping)])
                                  if failed is not None else findings.reached(host, ts, rid))
    draft.observations.extend(findings.from_check(c, host, ts, rid) for c in checks if c.get("name") != "reachability")
    if isinstance(data.get("services"), list):
        draft.observations.extend(findings.from_services(data, host, ts, rid))
    if isinstance(data.get("hung"), list):
        draft.observations.append(findings.from_hung(data, host, ts, rid))
        draft.hung.update(findings.hung_services(data))
    # what a failed step did on the host before it failed was done all the same (logs secured
    # before a cleanup failed, a service stopped that did not start again): the report tells it,
    # from the journal's records (a bare English sentence is no report text)
    if outcome == "failed":
        done = [c for c in ev.get("changes") or () if isinstance(c, Mapping)]
    elif outcome == "changed":
        done = list(ev.get("changes") or [ev.get("message") or action])
    else:
        done = []
    for change in done:
        measure = _measure(change, host, ts, run, ev.get("step"), action, draft.hung, seq=int(ev.get("seq", 0)))
        if measure is not None:
            (draft.planned if run.check_mode else draft.measures).append(measure)
    # a health step that "fails" on a critical check (fail_on) has said it in its checks already;
    # a change whose wording tells the failure (a service that did not come up) says it too
    if outcome == "failed" and not checks and not any(c.get("failure") for c in done):
        draft.problems.append(StepProblem(host, ts, rid, action, str(error.get("message") or ev.get("message") or ""),
                                          _refused(data, host)))
    analysis = data.get("analysis")
    if isinstance(analysis, Mapping):
        draft.analyses.extend(analyses(analysis, host, ts, rid, action))


def _measure(change: Any, host: str, ts: datetime, run: RunInfo, step: Any, action: str,
             hung: Mapping[str, str], *, seq: int = 0) -> Measure | None:
    """A journalled change: {"msg", "args", "sentence"} or, from older actions, a sentence."""
    if isinstance(change, Mapping):
        msg = change.get("msg")
        if msg == INTERNAL:
            return None  # a step inside a measure that another change of the step words
        text = str(change.get("sentence", change.get("text")) or "")
        args = dict(change.get("args") or {})
        if msg in ("provider_notified", "provider_notice_written"):
            args.setdefault("hosts", [host])  # journals from before one notice named all its hosts
        if msg in ("process_killed", "process_ended") and str(args.get("pid")) in hung:
            msg, args = f"{msg}_service", {**args, "service": hung[str(args["pid"])]}
        message = Message(f"measure.{msg}", {**args, "host": host}) if msg else Message(
            "measure.text", {"text": text, "host": host})
    else:
        text = str(change)
        message = Message("measure.text", {"text": text, "host": host})
    return Measure(host=host, ts=ts, run_id=run.id, step=step, action=action, message=message, text=text, seq=seq,
                   planned=run.check_mode)


def _freeze(name: str, draft: _HostDraft) -> HostReport:
    observations = tuple(sorted(draft.observations, key=lambda o: o.ts))
    return HostReport(
        name=name, roles=draft.roles, observations=observations,
        findings=story.merged_findings(observations), problems=tuple(draft.problems),
        measures=tuple(draft.measures), planned=tuple(draft.planned),
        disks=disk_pairs(name, draft.snapshots, observations), memory=memory_pair(name, draft.snapshots, observations),
        artifacts=tuple(draft.artifacts), analyses=tuple(draft.analyses), commands=tuple(draft.commands),
        state=story.current_state(name, observations))
