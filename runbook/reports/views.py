"""The sentences of each report, chosen once in Python so text, Markdown and HTML say the same.

``immediate`` is the one-screen feedback right after the work; ``next_day`` tells the
incident as a story. Both are built from the same ``Report`` and the same catalogue; the
templates only lay them out (and may still reach the full ``report``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runbook.analysis.fingerprint import elide_placeholders
from runbook.inventory.people import Person
from runbook.inventory.people import Signature as SignatureBlock
from runbook.reports.model import CauseStep, DiskPair, HostReport, MemoryPair, Measure, Message, Report, StepProblem
from runbook.reports.wording import Wording

@dataclass(frozen=True)
class Row:
    """One line of a list or table: when, on which host (may be empty), what."""

    time: str
    host: str
    text: str
    kind: str = ""                 # "note" for work done by hand, "" otherwise
    date: str = ""                 # the day, for tables that span midnight


@dataclass(frozen=True)
class HostFindings:
    """What was found on one host, and how it is now."""

    name: str
    now: str                       # the status word now, "" if it was never checked
    status: str                    # the status code now (for the CSS class)
    lines: tuple[Row, ...]


@dataclass(frozen=True)
class Signature:
    """The sign-off: a greeting, who, the company and the on-call contact; ``brief`` in one line."""

    lines: tuple[str, ...]
    brief: str = ""


@dataclass(frozen=True)
class View:
    """Everything a report says, as sentences in one language."""

    reported: str
    summary: str | None            # the customer's own words, quoted
    reaction: str
    reported_brief: str            # the same two, one line each, for the immediate report
    reaction_brief: str
    found: tuple[str, ...]         # one line per host (or group of hosts with the same finding)
    hosts: tuple[HostFindings, ...]
    done_head: str                 # "Measures (5)": as many as the rows of ``done`` that are measures
    done: tuple[Row, ...]          # each measure and note, in time order
    done_brief_head: str           # "Measures (3)": as many as the lines of ``done_brief`` that are measures
    done_brief: tuple[str, ...]    # the same, measures of a kind on several hosts in one line
    planned: tuple[Row, ...]
    cause: tuple[str, ...]
    cause_steps: tuple[Row, ...]
    memory: tuple[MemoryPair, ...]  # hosts whose memory matters: a memory finding, a process ended
    result: tuple[str, ...]
    result_brief: tuple[str, ...]   # without the hosts still open (what follows says them)
    disks: tuple[tuple[DiskPair, str], ...]
    follows: tuple[str, ...]
    due: str | None
    overview: tuple[str, ...]      # the next-day report's summary paragraph
    story: tuple[Row, ...]
    recommendations: tuple[str, ...]
    open_points: tuple[str, ...]
    problems: tuple[str, ...]      # internal errors, as the customer reads them
    signature: Signature


def build_view(report: Report, w: Wording) -> View:
    """The report's sentences in ``w``'s language."""
    inc = report.incident
    if inc is not None:
        reported = w.t("reported", received=w.dt(inc.received), channel=w.channel(inc.channel),
                       category=inc.category)
        summary = w.t("reported.summary", summary=inc.summary) if inc.summary else None
    else:
        reported, summary = w.counted("reported.none", len(report.runs)), None
    if report.sla is not None:
        reaction, reaction_brief = w.sla(report.sla), w.sla_brief(report.sla)
    elif report.started is not None:
        reaction = reaction_brief = w.t("work.started", started=w.dt(report.started))
    else:
        reaction = reaction_brief = w.t("work.none")
    reported_brief = reported
    if inc is not None:
        reported_brief = w.t("reported.brief", received=w.dt(inc.received), channel=w.channel(inc.channel),
                             category=inc.category)
        if inc.summary:
            reported_brief += ": " + w.t("quote", text=inc.summary)
    measures = report.measures
    brief = brief_measures(measures, w, [h.name for h in report.hosts])
    done = tuple(row for _, row in sorted(
        [(m.ts, Row(w.time(m.ts), m.host, w.measure(m), date=w.date(m.ts))) for m in measures]
        + [(n.at, Row(w.time(n.at), "", w.t("note", text=n.text, by=n.by.name if n.by else "–"), "note",
                      w.date(n.at))) for n in report.notes], key=lambda pair: pair[0]))
    return View(
        reported=reported, summary=summary, reaction=reaction, reported_brief=reported_brief,
        reaction_brief=reaction_brief,
        found=found_lines(report.hosts, w, relevant_disks(report)), hosts=tuple(host_findings(h, w) for h in report.hosts if h.findings
                                                          or h.problems),
        done_head=w.counted("h.done", len(measures)), done=done, done_brief_head=w.counted("h.done", len(brief)),
        done_brief=brief + tuple(w.t("note_brief", time=w.time(n.at), text=n.text) for n in report.notes),
        planned=tuple(Row(w.time(m.ts), m.host, w.measure(m, planned=True)) for m in report.planned),
        cause=cause_lines(report, w),
        cause_steps=tuple(Row(w.time(s.ts), s.host, _cause_step(s, w)) for s in report.cause.steps),
        memory=tuple(h.memory for h in report.hosts if h.memory is not None and (
            any(f.area == "memory" for f in h.findings)
            or any(m.message.id.startswith(("measure.process_", "measure.service_")) for m in h.measures))),
        result=result_lines(report, w), result_brief=result_lines(report, w, with_open=False), disks=tuple((d, disk_line(d, w)) for d in relevant_disks(report)),
        follows=follows(report, w),
        due=w.t("follows.due", day=w.day(report.sla.report_due)) if report.sla and report.sla.report_due else None,
        overview=overview(report, w),
        story=tuple(Row(w.time(r.ts), "", w.say(r.message), date=w.date(r.ts)) for r in report.story),
        recommendations=tuple(w.say(r) for r in report.recommendations),
        open_points=w.grouped(report.open_points),
        problems=tuple(dict.fromkeys(problem_line(p, w) for h in report.hosts for p in h.problems)),
        signature=signature(report, w),
    )


def found_lines(hosts: Sequence[HostReport], w: Wording, shown: Sequence[DiskPair] = ()) -> tuple[str, ...]:
    """One short line per host with its findings ("web1: …; …"); hosts that found the same
    are one line. A service whose probe failed is said once: by the probe if that failed on
    its own, by its hung processes if those were found; a full disk by its before/after line
    (``shown``); an unreachable host without the why (the next-day report has it)."""
    paired = {(d.host, f"disk:{d.mount}") for d in shown}
    per_host: dict[str, list[str]] = {}
    for host in hosts:
        said = {w.say(f.message) for f in host.findings}
        hung = {s for f in host.findings if f.area == "process" for s in f.message.args.get("services") or ()}
        texts = []
        for f in host.findings:
            probe = f.message.args.get("probe")
            if f.area == "unknown" or (isinstance(probe, Message) and w.say(probe) in said) or (
                    f.area == "service" and f.message.args.get("service") in hung) or (host.name, f.key) in paired:
                continue
            brief = Message(f"check.{f.area}") if f.area in ("reach", "access") else f.message
            texts.append(w.say(brief) if brief.id != "check.reach" else w.t("check.unreachable"))
        if texts:
            per_host[host.name] = list(dict.fromkeys(texts))
    grouped: dict[str, list[str]] = {}
    for name, texts in per_host.items():
        grouped.setdefault("; ".join(texts), []).append(name)
    return tuple(w.t("found.line", hosts=w.join(names), text=text) for text, names in grouped.items())


def problem_line(p: StepProblem, w: Wording) -> str:
    """A step that could not do its work, as the customer reads it: its own words where the
    step said more (a restart refused for a broken configuration), else that it could not."""
    if p.message is not None:
        return w.say(p.message)
    return w.t("problem", host=p.host, action=w.word("action", p.action))


def host_findings(host: HostReport, w: Wording) -> HostFindings:
    """A host's findings in the order they were first seen, with the thresholds."""
    lines = [Row(w.time(f.first_seen), host.name, w.finding(f)) for f in host.findings]
    seen: set[tuple[str, str]] = set()
    for p in host.problems:   # a bug's error event and the step it failed are one problem
        if (p.run_id, p.action) not in seen:
            seen.add((p.run_id, p.action))
            lines.append(Row(w.time(p.ts), host.name, problem_line(p, w)))
    state = host.state
    return HostFindings(host.name, w.status(state.status) if state else "", state.status if state else "",
                        tuple(lines))


def brief_measures(measures: Sequence[Measure], w: Wording, order: Sequence[str] = ()) -> tuple[str, ...]:
    """The measures, one short line per kind: "02:31 Logs auf web1, app1 und db1 gesichert"
    (hosts in ``order``, the run's)."""
    rank = {name: i for i, name in enumerate(order)}
    groups: dict[str, list[Measure]] = {}
    for m in measures:
        groups.setdefault(m.message.id, []).append(m)
    lines = []
    for msgid, group in groups.items():
        brief = "brief." + msgid.removeprefix("measure.")
        if not w.has(brief):
            lines += [w.t("brief.line", time=w.time(m.ts), text=w.measure(m)) for m in group]
            continue
        hosts = sorted(dict.fromkeys(m.host for m in group), key=lambda h: rank.get(h, len(rank)))
        args: dict[str, Any] = {"hosts": hosts,
                                "count": sum(int(m.message.args.get("count") or 1) for m in group)}
        for key in ("freed_bytes", "size_bytes"):
            if any(key in m.message.args for m in group):
                args[key] = sum(int(m.message.args.get(key) or 0) for m in group)
        for key in ("provider", "service"):
            values = list(dict.fromkeys(str(m.message.args[key]) for m in group if key in m.message.args))
            if values:
                args[key] = values
        lines.append(w.t("brief.line", time=w.time(group[0].ts), text=w.say(Message(brief, args))))
    return tuple(lines)


def _cause_step(step: CauseStep, w: Wording) -> str:
    if step.kind == "errors" and step.total:
        return w.t("cause.step.5xx", host=step.host, log=step.log, count=w.num(step.count), total=w.num(step.total))
    if step.kind == "errors":
        return w.t("cause.step.errors", host=step.host, log=step.log, count=w.num(step.count))
    return w.t("cause.step", host=step.host, log=step.log, text=elide_placeholders(step.text))


def cause_lines(report: Report, w: Wording) -> tuple[str, ...]:
    """The likely cause as an assessment, and the first error per host in the logs."""
    lines = []
    if report.cause.assessment is not None:
        lines.append(w.say(report.cause.assessment))
    elif report.measures or report.hosts:
        lines.append(w.t("cause.none"))
    if len(report.cause.steps) > 1:
        order = [w.t("cause.order_item", host=s.host, time=w.time(s.ts)) for s in report.cause.steps]
        lines.append(w.t("cause.order", order=w.join(order)))
    return tuple(lines)


def relevant_disks(report: Report) -> tuple[DiskPair, ...]:
    """The mounts worth a before/after line: not OK at some point, or where a measure freed space."""
    out = []
    for host in report.hosts:
        troubled = {f.key.partition(":")[2] for f in host.findings if f.key.startswith("disk:")}
        worked = {_mount_of(str(m.message.args.get("mount") or m.message.args.get("path") or ""), host.disks)
                  for m in host.measures if "freed_bytes" in m.message.args}
        out += [d for d in host.disks if d.mount in troubled or d.mount in worked]
    return tuple(out)


def _mount_of(path: str, disks: Sequence[DiskPair]) -> str | None:
    """The mount ``path`` lies on: the longest mount point that contains it."""
    if not path.startswith("/"):
        return None
    inside = [d.mount for d in disks if path == d.mount or path.startswith(d.mount.rstrip("/") + "/")]
    return max(inside, key=len, default=None)


def disk_line(d: DiskPair, w: Wording) -> str:
    """"/var auf web1: 98 % → 66 % belegt, 344 MiB freigegeben"."""
    args = dict(mount=d.mount, host=d.host, before=w.pct(d.used_before, 0), after=w.pct(d.used_after, 0))
    freed = d.freed
    if freed is not None and freed > 0:
        return w.t("disk.change.freed", freed=w.bytes(freed), **args)
    return w.t("disk.change", **args)


def result_lines(report: Report, w: Wording, *, with_open: bool = True) -> tuple[str, ...]:
    """Where things stand: the fault resolved, service back since when, each host now (the ones
    not OK only ``with_open``: the immediate report says them under what follows), the disks."""
    lines = []
    if report.resolved is not None:
        r = report.resolved
        at = w.clock(r.at) if w.date(r.at) == w.date(report.generated_at) else w.dt(r.at)
        line = w.t("result.resolved.by" if r.by else "result.resolved", at=at, by=r.by.name if r.by else "")
        lines.append(f"{line.rstrip('.')}: {w.t('quote', text=r.summary)}" if r.summary else line)
    if report.recovery is not None and (with_open or report.resolved is None):
        lines.append(w.t(f"result.recovered.{report.recovery.basis}", at=w.clock(report.recovery.at),
                         hosts=w.join(list(report.recovery.hosts))))
    states = report.states
    ok = [s for s in states if s.status == "OK" and not s.reached_only]
    if ok:
        lines.append(w.t("result.ok", hosts=w.join([s.host for s in ok]), at=w.clock(max(s.checked_at for s in ok))))
    reached = [s for s in states if s.status == "OK" and s.reached_only]
    if reached:   # a step ran there and nothing looked at its condition: reached is all we know
        lines.append(w.t("result.reached", hosts=w.join([s.host for s in reached]),
                         at=w.clock(max(s.checked_at for s in reached))))
    if with_open:
        lines += [w.t("result.host", host=s.host, text="; ".join(dict.fromkeys(w.say(o.message) for o in s.not_ok)))
                  for s in states if s.status != "OK"]
    if not states:
        lines.append(w.t("result.unchecked"))
    lines += [disk_line(d, w) for d in relevant_disks(report)]
    return tuple(lines)


def follows(report: Report, w: Wording) -> tuple[str, ...]:
    """What happens next, from the open points; never "we are on it" when all is well."""
    if report.open_points:
        return w.grouped(report.open_points)
    if report.states and not all(s.reached_only for s in report.states):
        return (w.t("follows.ok"),)
    return (w.t("follows.pending"),)


def overview(report: Report, w: Wording) -> tuple[str, ...]:
    """The next-day report's summary paragraph: what happened, why, what we did, how it ended."""
    out: list[str] = []
    inc = report.incident
    if inc is not None:
        out.append(w.t("summary.incident", received=w.dt(inc.received), channel=w.channel(inc.channel),
                       category=inc.category) + (f" {w.t('reported.summary', summary=inc.summary)}"
                                                 if inc.summary else ""))
    impact = _impact(report, w)
    if impact:
        out.append(impact)
    if report.cause.assessment is not None:
        out.append(w.say(report.cause.assessment))
    measures = report.measures
    if measures:
        rank = {h.name: i for i, h in enumerate(report.hosts)}
        hosts = sorted(dict.fromkeys(m.host for m in measures), key=lambda h: rank.get(h, len(rank)))
        same = w.time(measures[0].ts) == w.time(measures[-1].ts)
        out.append(w.counted("summary.work_at" if same else "summary.work", len(measures),
                             start=w.dt(measures[0].ts), end=w.time(measures[-1].ts), hosts=w.join(hosts)))
    elif report.runs:
        out.append(w.t("summary.no_measures"))
    if report.notes:
        out.append(w.counted("summary.notes", len(report.notes)))
    out += [line for line in result_lines(report, w, with_open=False)[:2]]
    if report.open_points:
        out.append(w.counted("summary.open", len(w.grouped(report.open_points))))
    return tuple(out)


def _impact(report: Report, w: Wording) -> str | None:
    visible = [f for h in report.hosts for f in h.findings if f.worst.customer_visible]
    if not visible:
        return None
    since: datetime = min(f.first_seen for f in visible)
    hosts = list(dict.fromkeys(f.host for f in visible))
    if report.recovery is not None:
        return w.t("summary.impact", hosts=w.join(hosts), since=w.clock(since), until=w.clock(report.recovery.at))
    return w.t("summary.impact_open", hosts=w.join(hosts), since=w.clock(since))


def signature(report: Report, w: Wording) -> Signature:
    """"Mit freundlichen Grüßen", who worked on it, the company and its on-call contact."""
    op, sig = report.operator, report.signature
    contact = w.t("sign.on_call", contact=sig.on_call_phone) if sig and sig.on_call_phone else ""
    brief = " · ".join(p for p in (op.name if op else "", sig.company if sig else "", contact) if p)
    return Signature(signature_lines(op, sig, w), brief)


def signature_lines(operator: Person | None, sig: SignatureBlock | None, w: Wording) -> tuple[str, ...]:
    """The sign-off's lines; none at all when neither a person nor a company is known."""
    lines = [w.t("sign.greeting")]
    if operator is not None:
        lines.append(w.person(operator.name, operator.email, operator.phone))
    if sig is not None:
        lines.append(" · ".join(p for p in (sig.company, sig.team) if p))
        contact = ", ".join(p for p in (sig.on_call_phone, sig.on_call_email) if p)
        if contact:
            lines.append(w.t("sign.on_call", contact=contact))
    return tuple(lines) if len(lines) > 1 else ()
