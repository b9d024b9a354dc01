"""What is told to the customer: reports rendered from run journals.

- ``model``     the frozen values a report is made of (no language, no format); ``Message`` is
                a catalogue id with typed arguments
- ``build``     journals + incident record -> ``Report``: the one place the journal is read, with
                ``findings`` (health checks, services, hung processes -> observations) and
                ``sections`` (evidence pairs, archives, analyses, the cross-host log timeline)
- ``story``     state now, recovery, likely cause, SLA, the incident's timeline (pure)
- ``advice``    recommendations and open points, from the final state
- ``daily``     a day's sweeps -> ``DailyReport`` (one customer's, or all)
- ``i18n``      formatters and the catalogue lookup; ``messages`` holds the sentences (de/en)
- ``wording``   messages and values -> words in one language; ``views`` picks them per report
- ``charts``    inline SVG before/after bars with labelled thresholds
- ``render``    Jinja2 templates (``templates/``, overridable per customer) -> text/Markdown/HTML

Delivery by e-mail lives in ``runbook.mail``.
"""

from __future__ import annotations

from runbook.reports.build import build_report
from runbook.reports.daily import build_daily
from runbook.reports.model import DailyReport, Report
from runbook.reports.render import (
    mail_subject,
    render_daily,
    render_daily_report,
    render_immediate,
    render_next_day,
    report_title,
)

__all__ = [
    "DailyReport", "Report", "build_daily", "build_report", "mail_subject", "render_daily",
    "render_daily_report", "render_immediate", "render_next_day", "report_title",
]
