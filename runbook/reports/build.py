"""Build the report model from run journals (and an optional incident), nothing else.

The journal schema read here is the one documented in ``runbook.journal``. Everything is
derived from the events, so the same journals always give the same report: there is no
"now" in here; ``generated_at`` is the last event's time unless the caller passes one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook.change import INTERNAL
from runbook.errors import ConfigError
from runbook.health.verdict import load_sweep
from runbook.journal import parse_ts, read_events
from runbook.reports.i18n import DEFAULT_TIMEZONE
from runbook.reports.model import (
    Analysis,
    Artifact,
    CommandRun,
    Finding,
    HostFailure,
    HostReport,
    HostState,
    Measure,
    Report,
    RunInfo,
    TimelineEntry,
    more_severe,
)
from runbook.reports.recommendations import recommendations
from runbook.reports.sections import (analyses, evidence_pair, journalled_analyses, log_timeline, manifest,
                                      mapping, output_tail)
from runbook.reports.sla_summary import incident_info, sla_summary

if TYPE_CHECKING:
    from runbook.incidents import Incident


@dataclass(frozen=True)
class LoadedRun:
    """A run's metadata and its events, as read from one journal."""

    info: RunInfo
    events: tuple[dict[str, Any], ...]
    path: Path

    @property
    def start(self) -> dict[str, Any]:
        return next(e for e in self.events if e.get("event") == "run.start")


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
        operator=str(start.get("user") or ""),
        check_mode=bool(start.get("check")),
        incident=start.get("incident"),
    )
    return LoadedRun(info, events, Path(run_dir))


@dataclass
class _HostDraft:
    """Mutable collector for one host while the events are walked; frozen at the end."""

    findings: dict[str, Finding] = field(default_factory=dict)
    failures: list[HostFailure] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    evidence: dict[tuple[str, Any, str], dict[str, Any]] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    commands: list[CommandRun] = field(default_factory=list)


def build_report(run_dirs: Sequence[Path], incident: Incident | None, *, customer: str | None = None,
                 timezone: str | None = None, generated_at: datetime | None = None) -> Report:
    """The report model for ``run_dirs`` (any order) and the incident they worked on.

    ``customer`` names the customer (default: the incident's); ``timezone`` is the one times
    are shown in (default: the incident contract's, else Europe/Berlin).
    """
    runs = sorted((load_run(Path(d)) for d in run_dirs), key=lambda r: (r.info.started, r.info.id))
    hosts: dict[str, _HostDraft] = {}
    timeline: list[TimelineEntry] = []
    for run in runs:
        _walk(run, hosts, timeline)
    order = {r.info.id: i for i, r in enumerate(runs)}
    timeline.sort(key=lambda e: (e.ts, order[e.run_id], e.seq))

    sweeps = [r for r in runs if r.info.kind == "sweep"]
    current = current_state(sweeps[-1]) if sweeps else {}
    host_reports = tuple(_freeze(name, draft, current.get(name)) for name, draft in hosts.items())

    if generated_at is None:
        if timeline:
            generated_at = timeline[-1].ts
        elif incident is not None:
            generated_at = incident.opened_at
        else:
            raise ValueError("a report needs at least one run or an incident")
    infos = tuple(r.info for r in runs)
    log_events, log_more = log_timeline(journalled_analyses(e for r in runs for e in r.events))
    if customer is None:
        customer = incident.customer if incident is not None else _journal_customer(runs)
    return Report(
        customer=customer,
        timezone=timezone or _contract_timezone(incident),
        generated_at=generated_at,
        incident=incident_info(incident) if incident is not None else None,
        sla=sla_summary(incident, infos) if incident is not None else None,
        runs=infos,
        hosts=host_reports,
        timeline=tuple(timeline),
        last_sweep=sweeps[-1].info if sweeps else None,
        recommendations=recommendations(host_reports),
        log_timeline=log_events,
        log_timeline_more=log_more,
    )


def _journal_customer(runs: Sequence[LoadedRun]) -> str | None:
    """The customer's name when every run.start names the same single customer."""
    names = {name for r in runs for name in (r.start.get("customers") or {}).values()}
    return names.pop() if len(names) == 1 else None


def _contract_timezone(incident: Incident | None) -> str:
    return DEFAULT_TIMEZONE if incident is None else incident.contract.timezone.key


def _walk(run: LoadedRun, hosts: dict[str, _HostDraft], timeline: list[TimelineEntry]) -> None:
    """Collect one run's events into the per-host drafts and the timeline."""
    rid = run.info.id
    actions: dict[Any, str] = {}
    for ev in run.events:
        kind = ev.get("event", "")
        ts = parse_ts(ev["ts"])
        host = ev.get("host")
        timeline.append(TimelineEntry(ts=ts, run_id=rid, seq=int(ev.get("seq", 0)), event=kind,
                                      host=host, fields=ev))
        if kind == "run.start":
            for name in ev.get("hosts") or ():
                hosts.setdefault(name, _HostDraft())
            continue
        if kind == "step.start":
            actions[ev.get("step")] = str(ev.get("action") or "")
            continue
        if not host:
            continue
        draft = hosts.setdefault(host, _HostDraft())
        step = ev.get("step")
        if kind == "command":
            draft.commands.append(CommandRun(
                ts=ts, run_id=rid, step=step, host=host, command=str(ev.get("command", "")),
                exit_code=ev.get("exit_code"), duration=float(ev.get("duration") or 0.0),
                timed_out=bool(ev.get("timed_out")), output_tail=output_tail(ev),
                cut_short=ev.get("cut_short") or ("timeout" if ev.get("timed_out") else None)))
        elif kind == "evidence":
            key = (rid, step, str(ev.get("kind", "")))
            draft.evidence.setdefault(key, {})[str(ev.get("phase"))] = ev
        elif kind == "artifact":
            draft.artifacts.append(Artifact(
                host=host, ts=ts, run_id=rid, kind=str(ev.get("kind", "")), path=str(ev.get("path", "")),
                bytes=ev.get("bytes"), sha256=ev.get("sha256"), files=manifest(ev.get("manifest"))))
        elif kind == "host.end":
            _host_end(ev, ts, rid, run.info.check_mode, actions.get(step, ""), draft)


# Fields of a check in runbook.health's JSON; everything else at the top level is a detail.
_CHECK_FIELDS = {"name", "status", "code", "message", "value", "warn", "crit", "unit", "details"}


def _host_end(ev: Mapping[str, Any], ts: datetime, rid: str, check_mode: bool, action: str,
              draft: _HostDraft) -> None:
    host = str(ev["host"])
    outcome = ev.get("outcome")
    data = mapping(ev.get("data"))
    error = mapping(ev.get("error"))
    # a health step that "fails" on a critical check (fail_on) has said it in its checks already
    health_verdict = outcome == "failed" and "status" in data and bool(data.get("checks"))
    if outcome in ("unreachable", "failed") and not health_verdict:
        draft.failures.append(HostFailure(
            host=host, ts=ts, run_id=rid, step=ev.get("step"), outcome=str(outcome),
            layer=error.get("layer") or data.get("layer"), error_type=error.get("type"),
            message=str(error.get("message") or ev.get("message") or "")))
    for check in data.get("checks") or ():
        if not isinstance(check, Mapping) or check.get("status", "UNKNOWN") == "OK":
            continue
        if outcome == "unreachable" and check.get("name") == "reachability":
            continue  # the HostFailure above already says it, with the layer
        _sighting(draft, _finding(check, host, ts, rid))
    if outcome == "changed":
        changes = ev.get("changes") or [ev.get("message") or action]
        for change in changes:
            if isinstance(change, Mapping) and change.get("msg") == INTERNAL:
                continue  # a step inside a measure that another change of the step words
            draft.measures.append(Measure.of_change(change, host=host, ts=ts, run_id=rid, step=ev.get("step"),
                                                    action=action, planned_only=check_mode))
    analysis = data.get("analysis")
    if isinstance(analysis, Mapping):
        draft.analyses.extend(analyses(analysis, host, ts, rid, action))


def _finding(check: Mapping[str, Any], host: str, ts: datetime, rid: str) -> Finding:
    # runbook.health merges details into the check's top level; a nested "details" works too
    details = {k: v for k, v in check.items() if k not in _CHECK_FIELDS}
    if isinstance(check.get("details"), Mapping):
        details.update(check["details"])
    return Finding(host=host, check=str(check.get("name", "?")), status=str(check.get("status", "UNKNOWN")),
                   message=str(check.get("message") or ""), value=check.get("value"), warn=check.get("warn"),
                   crit=check.get("crit"), details=details, first_seen=ts, last_seen=ts, run_id=rid,
                   unit=str(check.get("unit") or ""))


def _sighting(draft: _HostDraft, new: Finding) -> None:
    """Merge a repeated check: the worst sighting's words, the first and last time seen."""
    seen = draft.findings.get(new.check)
    if seen is None:
        draft.findings[new.check] = new
    elif more_severe(new.status, seen.status):
        draft.findings[new.check] = replace(new, first_seen=seen.first_seen, run_id=seen.run_id)
    else:
        draft.findings[new.check] = replace(seen, last_seen=new.last_seen)


def current_state(sweep: LoadedRun) -> dict[str, HostState]:
    """Per host, its state in the sweep, as ``runbook sweep`` reports it (runbook.health.verdict),
    except that a host we could not reach is called UNREACHABLE: that is what the customer
    needs to read, whatever its service probes said."""
    states: dict[str, HostState] = {}
    checked = {str(e["host"]): parse_ts(e["ts"]) for e in sweep.events
               if e.get("event") == "host.end" and e.get("host")}
    for health in load_sweep(sweep.path).hosts:
        if health.name not in checked:
            continue  # never reached this host's check (interrupted): no state to claim
        unreachable = health.outcome == "unreachable"
        not_ok = tuple(_finding(c, health.name, checked[health.name], sweep.info.id)
                       for c in health.checks if c.get("status") != "OK"
                       and not (unreachable and c.get("name") == "reachability"))
        states[health.name] = HostState(
            host=health.name, status="UNREACHABLE" if unreachable else health.status.name,
            checked_at=checked[health.name], run_id=sweep.info.id, not_ok=not_ok,
            error=health.message if unreachable else None, layer=health.layer if unreachable else None)
    return states


def _freeze(name: str, draft: _HostDraft, current: HostState | None) -> HostReport:
    return HostReport(
        name=name,
        findings=tuple(sorted(draft.findings.values(), key=lambda f: (f.first_seen, f.check))),
        failures=tuple(draft.failures), measures=tuple(draft.measures),
        evidence=tuple(evidence_pair(k, v, name) for k, v in draft.evidence.items()),
        artifacts=tuple(draft.artifacts), analyses=tuple(draft.analyses),
        commands=tuple(draft.commands), current=current)
