"""The report catalogue: every sentence and label, in German and English, written for customers.

Keys are message ids; values are ``str.format`` templates. Both languages must have the same
ids and the same fields (a test checks it). Times inside sentences come in as "02:41"; the
German sentences add "Uhr" themselves. Write German as a person would say it to a customer
("Sie"), with real Umlaute and „German quotes“.
"""

from __future__ import annotations

from runbook.reports.messages.de import DE
from runbook.reports.messages.en import EN

MESSAGES: dict[str, dict[str, str]] = {"en": EN, "de": DE}

__all__ = ["DE", "EN", "MESSAGES"]
