"""What is told to the customer: reports rendered from run journals.

- ``model``     the frozen values a report is made of (no language, no format)
- ``build``     journals (+ incident) -> ``Report``; ``sections`` reads evidence, archives, analyses
- ``daily``     a day's sweeps -> ``DailyReport``
- ``sla_summary``      the incident and its SLA verdict (asks ``runbook.incidents``)
- ``recommendations``  advice derived from the findings
- ``i18n``      formatters and the catalogue lookup; ``messages`` holds the sentences (de/en)
- ``wording``   report values -> sentences in one language; ``views`` picks them per report
- ``charts``    inline SVG before/after bars
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
