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
