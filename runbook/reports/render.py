"""Render report models with Jinja2: text, Markdown and HTML, in German or English.

Templates live in ``runbook/reports/templates`` as ``<report>.<txt|md|html|jira>.j2``; the words
come from the catalogue through ``w`` (a ``Wording``), so one template serves both languages.
A customer can override any template: ``template_dirs`` are searched first, in order, and
the first file with the template's name wins.

HTML is autoescaped (``.html.j2``) and every template runs with ``StrictUndefined``, so a
misspelt field fails the render instead of silently printing nothing.
"""

from __future__ import annotations

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
from runbook.reports.model import DailyReport, Evidence, Report
from runbook.reports.views import overview, summarise
from runbook.reports.wording import Wording

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
FORMATS = {"text": "txt", "markdown": "md", "html": "html"}
NEXT_DAY_FORMATS = ("html", "markdown")
# JIRA wiki markup: the immediate report as a comment on the customer's issue (issue 15).
IMMEDIATE_FORMATS = (*FORMATS, "jira")
_EXTENSIONS = {**FORMATS, "jira": "jira"}

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


def _context(report: Report, w: Wording, kind: str) -> dict[str, Any]:
    return {"report": report, "w": w, "lang": w.lang, "title": report_title(report, kind, w.lang),
            "view": summarise(report, w), "overview": overview(report, w),
            "run_numbers": {r.id: i for i, r in enumerate(report.runs, start=1)},
            "chart": lambda ev, host: evidence_chart(ev, host, w)}


def evidence_chart(ev: Evidence, host: str, w: Wording) -> Markup:
    """The before/after bars of one evidence pair (disk mounts, or *_percent values)."""
    rows = charts.disk_rows(ev.disks) + charts.percent_rows(ev.values, lambda name: w.word("value", name))
    title = w.t("chart.title", kind=w.word("evidence", ev.kind), host=host)
    return charts.before_after_chart(rows, title[:1].upper() + title[1:], w)


def render_immediate(report: Report, lang: str, fmt: str, *, template_dirs: Sequence[Path] = ()) -> str:
    """The short report right after the work: text, markdown, html or jira (wiki markup)."""
    name = _template_name("immediate", fmt, IMMEDIATE_FORMATS)
    w = Wording(lang, report.timezone)
    return environment(template_dirs).get_template(name).render(_context(report, w, "immediate"))


def render_next_day(report: Report, lang: str, fmt: str, *, template_dirs: Sequence[Path] = ()) -> str:
    """The detailed, printable report for the next business day: html or markdown."""
    name = _template_name("next_day", fmt, NEXT_DAY_FORMATS)
    w = Wording(lang, report.timezone)
    return environment(template_dirs).get_template(name).render(_context(report, w, "next_day"))


def render_daily_report(daily: DailyReport, lang: str, fmt: str, *,
                        template_dirs: Sequence[Path] = ()) -> str:
    """Render an already built daily summary."""
    name = _template_name("daily", fmt, tuple(FORMATS))
    w = Wording(lang, daily.timezone)
    title = w.t("title.with_day", title=w.t("title.daily"), day=w.date(daily.day))
    return environment(template_dirs).get_template(name).render(
        {"daily": daily, "w": w, "lang": w.lang, "title": title})


def render_daily(run_dirs: Sequence[Path], day: date, lang: str, fmt: str, *,
                 timezone: str = DEFAULT_TIMEZONE, customers: Mapping[str, str] | None = None,
                 template_dirs: Sequence[Path] = ()) -> str:
    """All sweeps of ``day`` among ``run_dirs``, per customer: text, markdown or html."""
    daily = build_daily(run_dirs, day, timezone=timezone, customers=customers)
    return render_daily_report(daily, lang, fmt, template_dirs=template_dirs)
