"""Render report models with Jinja2: text, Markdown and HTML, in German or English.

Templates live in ``runbook/reports/templates`` as ``<report>.<txt|md|html|jira>.j2``; the words
come from the catalogue through ``w`` (a ``Wording``), so one template serves both languages.
A customer can override any template: ``template_dirs`` are searched first, in order, and
the first file with the template's name wins.

HTML is autoescaped (``.html.j2``) and every template runs with ``StrictUndefined``, so a
misspelt field fails the render instead of silently printing nothing.
"""

from __future__ import annotations

import posixpath
import re
import textwrap
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from runbook.reports import charts
from runbook.reports.daily import build_daily
from runbook.reports.i18n import DEFAULT_TIMEZONE
from runbook.reports.model import Artifact, DailyReport, DiskPair, MemoryPair, Message, Report, TimelineEntry
from runbook.reports.views import build_view, signature_lines
from runbook.reports.wording import Wording

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
FORMATS = {"text": "txt", "markdown": "md", "html": "html"}
NEXT_DAY_FORMATS = ("html", "markdown")
# JIRA wiki markup: the immediate report as a comment on the customer's issue (issue 15).
IMMEDIATE_FORMATS = (*FORMATS, "jira")
_EXTENSIONS = {**FORMATS, "jira": "jira"}
#: customer: what the customer reads; internal: the same plus runs, events, commands and error details.
AUDIENCES = ("customer", "internal")
EVENT_COMMAND_CHARS = 160
#: Plain-text mail width: one screen of about 25 lines at this width holds the immediate report.
TEXT_WIDTH = 100
#: The customer version shows this many rows of the log timeline (the internal one all of them).
CUSTOMER_LOG_ROWS = 15

# Characters that would start Markdown (or raw HTML) inside running text; escaped with "\".
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!~])")
# JIRA wiki markup: characters that start formatting, links, macros, tables and lists, and the
# emoticons ("(x)", ":)") JIRA would draw as icons; each is made literal with "\\".
_JIRA_SPECIAL = re.compile(r"([\\*_+^~?{}\[\]|!#]|(?<!\w)-|-(?!\w))|(?<![\w\\])(\((?:x|!|/|\?|i|y|n|on|off|\*)\))|([:;][()PDp])")
_JIRA_BLOCK = re.compile(r"^(h[1-6]|bq)\.", re.IGNORECASE)
# A space between a number and its unit; textwrap does not break at a no-break space.
_NUMBER_UNIT = re.compile(r"(\d) (?=%|(?:[KMGTP]?i?B|Uhr|min|h|s|Tag|Tage|day|days)\b)")


def environment(template_dirs: Sequence[Path] = ()) -> Environment:
    """A Jinja2 environment: customer dirs first, then the package's templates."""
    search = [str(Path(d)) for d in template_dirs] + [str(PACKAGE_TEMPLATES)]
    env = Environment(
        loader=FileSystemLoader(search),
        autoescape=select_autoescape(enabled_extensions=("html.j2", "html"), default_for_string=False,
                                     default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_text
    env.filters["code"] = markdown_code
    env.filters["wrap"] = wrap
    env.filters["jira"] = jira_text
    env.globals.update(WIDTH=TEXT_WIDTH, LOG_ROWS=CUSTOMER_LOG_ROWS)
    return env


def markdown_text(value: Any) -> str:
    """Text that came from a server or a person, made inert in Markdown (and its raw HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def jira_text(value: Any) -> str:
    """Text that came from a server or a person, made inert in JIRA wiki markup (one line)."""
    text = " ".join(str(value).split())
    text = _JIRA_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return _JIRA_BLOCK.sub(lambda m: m.group(1) + "\\.", text)


def markdown_code(value: Any, cell: bool = False) -> str:
    """An inline code span that no backtick inside ``value`` can close early.

    In a table ``cell`` a pipe must be escaped even inside code (GitHub-flavoured tables split
    cells before they parse code spans).
    """
    text = " ".join(str(value).split())
    if not text:
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    span = f"{fence}{pad}{text}{pad}{fence}"
    return span.replace("|", "\\|") if cell else span


def wrap(value: Any, width: int = 78, indent: str = "", first: str | None = None) -> str:
    """Wrap a sentence for a plain-text e-mail; ``first`` replaces the indent on line one.

    A number and its unit ("4,2 GiB", "02:41 Uhr") stay on one line.
    """
    glued = _NUMBER_UNIT.sub("\\1\u00a0", str(value))
    text = textwrap.fill(glued, width=width, initial_indent=indent if first is None else first,
                         subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    return text.replace("\u00a0", " ")


def _template_name(report: str, fmt: str, allowed: Sequence[str]) -> str:
    if fmt not in allowed:
        raise ValueError(f"unsupported format {fmt!r} for the {report} report (use {', '.join(allowed)})")
    return f"{report}.{_EXTENSIONS[fmt]}.j2"


def report_title(report: Report, kind: str, lang: str) -> str:
    """"Sofortbericht – Störung ACME-412"; ``kind`` is "immediate" or "next_day"."""
    w = Wording(lang, report.timezone)
    title = w.t(f"title.{kind}")
    return w.t("title.with_incident", title=title, id=report.incident.id) if report.incident else title


def mail_subject(report: Report, kind: str, lang: str) -> str:
    """An e-mail subject: the title, with the customer in front when known."""
    title = report_title(report, kind, lang)
    return f"{report.customer}: {title}" if report.customer else title


def _context(report: Report, w: Wording, kind: str, audience: str, include_planned: bool) -> dict[str, Any]:
    return {"report": report, "w": w, "lang": w.lang, "title": report_title(report, kind, w.lang),
            "view": build_view(report, w), "internal": audience == "internal", "include_planned": include_planned,
            "run_numbers": {r.id: i for i, r in enumerate(report.runs, start=1)},
            "disk_chart": lambda host, disks: disk_chart(host, disks, w),
            "memory_chart": lambda pair: memory_chart(pair, w),
            "event": lambda e: event_line(e, w), "log_event": w.log_event,
            "archive_line": lambda a: archive_line(a, w)}


def archive_line(a: Artifact, w: Wording) -> str:
    """"web1: 22 log files secured (12.4 MiB), all checksums verified"."""
    count = len(a.files)
    dirs = sorted({posixpath.dirname(f.path) for f in a.files if f.path.startswith("/")})
    args = {"host": a.host, "count": count, "size_bytes": a.bytes, "dirs": dirs or ["–"]}
    if a.verified is not None and a.verified < count:
        return w.say(Message("archive.partial", {**args, "verified": a.verified}))
    return w.say(Message("archive.summary", args))


def disk_chart(host: str, disks: Sequence[DiskPair], w: Wording) -> Markup:
    """One host's mounts, before and after, with their thresholds."""
    if not disks:
        return Markup("")
    return charts.before_after_chart(charts.disk_rows(disks), w.t("chart.disk", host=host), w,
                                     min(d.before_ts for d in disks), max(d.after_ts for d in disks))


def memory_chart(pair: MemoryPair, w: Wording) -> Markup:
    """RAM (and swap) in use before and after, with the memory check's thresholds."""
    return charts.before_after_chart(charts.memory_rows(pair, w), w.t("chart.memory", host=pair.host), w,
                                     pair.before_ts, pair.after_ts)


def event_line(e: TimelineEntry, w: Wording) -> str:
    """One journal event for the internal appendix (commands shortened)."""
    f = e.fields
    step = str(f["step"] + 1) if isinstance(f.get("step"), int) else "?"
    if e.event == "run.start":
        return w.t("ev.run.start", playbook=(f.get("playbook") or {}).get("name") or "?", user=f.get("user", "?"),
                   check=w.t("ev.check_mode") if f.get("check") else "")
    if e.event == "step.start":
        return w.t("ev.step.start", step=step, name=f.get("name", ""), action=f.get("action", ""))
    if e.event == "host.start":
        return w.t("ev.host.start", step=step)
    if e.event == "command":
        command = str(f.get("command", ""))
        command = command if len(command) <= EVENT_COMMAND_CHARS else command[:EVENT_COMMAND_CHARS - 1] + "…"
        duration = w.secs(float(f.get("duration") or 0))
        why = f.get("cut_short") or ("timeout" if f.get("timed_out") else None)
        if why or f.get("exit_code") is None:
            return w.t("ev.command.cut", duration=duration, why=w.word("cut_short", why or "connection lost"),
                       command=command)
        return w.t("ev.command", code=f.get("exit_code"), duration=duration, command=command)
    if e.event == "evidence":
        return w.t("ev.evidence", kind=f.get("kind", ""), phase=f.get("phase", ""))
    if e.event == "artifact":
        return w.t("ev.artifact", path=f.get("path", ""), size=w.bytes(f.get("bytes")))
    if e.event == "host.end":
        return w.t("ev.host.end", step=step, outcome=w.word("outcome", f.get("outcome")),
                   message=str(f.get("message") or "")[:300])
    if e.event == "step.end":
        return w.t("ev.step.end", step=step)
    if e.event == "run.end":
        return w.t("ev.run.end", status=w.word("runstatus", f.get("status")),
                   duration=w.secs(float(f.get("duration") or 0)))
    return w.t("ev.other", event=e.event)


def render_immediate(report: Report, lang: str, fmt: str, *, template_dirs: Sequence[Path] = (),
                     audience: str = "customer", include_planned: bool = False) -> str:
    """The short report right after the work: text, markdown, html or jira (wiki markup)."""
    name = _template_name("immediate", fmt, IMMEDIATE_FORMATS)
    w = Wording(lang, report.timezone)
    return environment(template_dirs).get_template(name).render(
        _context(report, w, "immediate", _audience(audience), include_planned))


def render_next_day(report: Report, lang: str, fmt: str, *, template_dirs: Sequence[Path] = (),
                    audience: str = "customer", include_planned: bool = False) -> str:
    """The detailed, printable report for the next business day: html or markdown."""
    name = _template_name("next_day", fmt, NEXT_DAY_FORMATS)
    w = Wording(lang, report.timezone)
    return environment(template_dirs).get_template(name).render(
        _context(report, w, "next_day", _audience(audience), include_planned))


def _audience(audience: str) -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r} (use {' or '.join(AUDIENCES)})")
    return audience


def daily_title(day: date, lang: str) -> str:
    """"Tagesübersicht der Prüfläufe – 25.11.2026"."""
    w = Wording(lang, DEFAULT_TIMEZONE)
    return w.t("title.with_day", title=w.t("title.daily"), day=w.date(day))


def render_daily_report(daily: DailyReport, lang: str, fmt: str, *,
                        template_dirs: Sequence[Path] = ()) -> str:
    """Render an already built daily summary."""
    name = _template_name("daily", fmt, tuple(FORMATS))
    w = Wording(lang, daily.timezone)
    title = daily_title(daily.day, lang)
    lines = signature_lines(None, daily.signature, w)
    return environment(template_dirs).get_template(name).render(
        {"daily": daily, "w": w, "lang": w.lang, "title": title, "signature_lines": lines})


def render_daily(run_dirs: Sequence[Path], day: date, lang: str, fmt: str, *,
                 timezone: str = DEFAULT_TIMEZONE, customers: Mapping[str, str] | None = None,
                 customer: str | None = None, template_dirs: Sequence[Path] = ()) -> str:
    """All sweeps of ``day`` among ``run_dirs``, per customer (or one): text, markdown or html."""
    daily = build_daily(run_dirs, day, timezone=timezone, customers=customers, customer=customer)
    return render_daily_report(daily, lang, fmt, template_dirs=template_dirs)
