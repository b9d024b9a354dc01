"""The sentences of a report, chosen once in Python so text, Markdown and HTML say the same.

Templates lay these out; they can still reach the full ``report`` for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from runbook.reports.model import HostReport, Report
from runbook.reports.wording import Wording


@dataclass(frozen=True)
class HostLines:
    """What was found on one host and what was done there, one sentence each."""

    name: str
    found: tuple[str, ...]
    done: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """The sentences shared by the immediate report and the next-day summary."""

    reported: tuple[str, ...]
    work: tuple[str, ...]
    hosts: tuple[HostLines, ...]
    current_head: str
    nothing_found: str              # what to say when no host has anything to tell
    current: tuple[str, ...]
    follows: tuple[str, ...]
    due: str | None                # when the detailed report follows (immediate report only)
    open_hosts: tuple[str, ...]


def host_lines(host: HostReport, w: Wording) -> HostLines:
    # the same failure in two sweeps is one thing to tell
    found = list(dict.fromkeys([w.failure(f) for f in host.failures] + [w.finding(f) for f in host.findings]))
    done = [w.measure(m) for m in host.measures]
    effects = (w.disk_effect(host.name, d) for ev in host.evidence for d in ev.disks)
    done += [e for e in effects if e]
    return HostLines(host.name, tuple(found), tuple(done))


def summarise(report: Report, w: Wording, *, all_hosts: bool = False) -> Summary:
    """Sentences for the report; hosts with nothing to tell are left out unless ``all_hosts``."""
    reported: list[str] = []
    work: list[str] = []
    inc = report.incident
    if inc is not None:
        reported.append(w.t("reported", category=inc.category, received=w.dt(inc.received),
                            channel=w.channel(inc.channel)))
        if inc.summary:
            reported.append(w.t("reported.summary", summary=inc.summary))
    else:
        reported.append(w.t("reported.none.one" if len(report.runs) == 1 else "reported.none", runs=len(report.runs)))
    if report.sla is not None:
        work.append(w.sla(report.sla))
    elif report.started is not None:
        work.append(w.t("work.started", started=w.dt(report.started)))

    lines = [host_lines(h, w) for h in report.hosts]
    if not all_hosts:
        lines = [h for h in lines if h.found or h.done]

    states = [h.current for h in report.hosts if h.current is not None]
    open_hosts = tuple(s.host for s in states if s.status != "OK")
    current: tuple[str, ...] = ()
    if report.last_sweep is None or not states:
        head = w.t("current.none")
    else:
        head = w.t("current.at", when=w.dt(max(s.checked_at for s in states)))
        ok_hosts = [s.host for s in states if s.status == "OK"]
        current = tuple(w.state(s) for s in states if s.status != "OK")
        if ok_hosts:
            current += (w.t("current.host", host=w.join(ok_hosts), status=w.status("OK")),)

    if open_hosts:
        follows = (w.t("follows.open", hosts=w.join(list(open_hosts))),)
    elif states:
        follows = (w.t("follows.ok"),)
    else:
        follows = (w.t("follows.pending"),)
    due = None
    if report.sla is not None and report.sla.report_due is not None:
        due = w.t("follows.due", day=w.day(report.sla.report_due))
    nothing = w.t("found.nothing") if report.runs else w.t("found.no_runs")
    return Summary(reported=tuple(reported), work=tuple(work), hosts=tuple(lines), current_head=head,
                   nothing_found=nothing,
                   current=current, follows=follows, due=due, open_hosts=open_hosts)


def overview(report: Report, w: Wording) -> tuple[str, ...]:
    """The next-day report's summary paragraph."""
    out: list[str] = []
    inc = report.incident
    if inc is not None and inc.summary:
        out.append(w.t("summary.incident", received=w.dt(inc.received), category=inc.category,
                       summary=inc.summary))
    if report.runs:
        end = max(r.ended or r.started for r in report.runs)
        out.append(w.t("summary.work", start=w.dt(report.started), end=w.dt(end),
                       hosts=w.join([h.name for h in report.hosts]), runs=len(report.runs),
                       measures=len(report.measures)))
    states = [h.current for h in report.hosts if h.current is not None]
    if report.last_sweep is None or not states:
        out.append(w.t("summary.no_sweep"))
    else:
        when = w.dt(max(s.checked_at for s in states))
        bad = [s.host for s in states if s.status != "OK"]
        out.append(w.t("summary.state_open", when=when, hosts=w.join(bad)) if bad
                   else w.t("summary.state_ok", when=when))
    return tuple(out)
