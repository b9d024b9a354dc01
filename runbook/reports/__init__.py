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

import importlib
from typing import Any

#: What ``from runbook.reports import X`` gives, by the module that defines it. Imported on
#: first use: ``runbook logs timeline`` needs ``reports.sections`` but not Jinja2, which
#: ``render`` brings.
_EXPORTS = {
    "DailyReport": "model", "Report": "model", "build_daily": "daily", "build_report": "build",
    "mail_subject": "render", "render_daily": "render", "render_daily_report": "render",
    "render_immediate": "render", "render_next_day": "render", "report_title": "render",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runbook.reports' has no attribute {name!r}")
    return getattr(importlib.import_module(f"runbook.reports.{module}"), name)
