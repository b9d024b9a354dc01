"""Which catalogue language a rendered report speaks: the other catalogue's text must not be in it.

The words to look for are derived from the catalogues themselves (and the formatters' month
and weekday names), never listed by hand: every literal piece of every English sentence (the
text between its ``{fields}``) is looked for in a German report, and the other way round.
A piece is looked for as a phrase when it has two words or more, as a whole word when it is
one word that the other catalogue never uses. Before looking, everything the report quotes
verbatim is taken out: what customers' servers and people wrote (log lines, paths, URLs,
host and service names, the incident summary, notes), which may well be English in a German
report and is not the report's own language.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass
from typing import Any

from runbook.analysis.fingerprint import elide_placeholders
from runbook.reports import i18n
from runbook.reports.messages import DE, EN
from runbook.reports.model import Message, Report

_WORD = re.compile(r"[^\W\d_]+")
#: What a report must never show the customer as it is, so it is not taken out before looking:
#: the actions' and checks' own English lines, the runs' internals, words that are ids.
_NOT_VERBATIM = {("Measure", "text"), ("Observation", "detail"), ("StepProblem", "detail"), "runs", "events",
                 "commands", "status", "area", "key", "kind", "id", "timezone", "action", "basis", "channel"}
CATALOGUES = {"de": DE, "en": EN}
# Formatter words that are not in the catalogues (weekdays, English month names, "Tag(e)").
FORMATTER_WORDS = {"de": [*i18n._WEEKDAYS["de"], "Tag", "Tage"],
                   "en": [*i18n._WEEKDAYS["en"], *i18n._MONTHS_EN, "day", "days"]}


def _pieces(template: str) -> list[str]:
    """The literal text of a str.format template, piece by piece, whitespace normalised."""
    return [" ".join(literal.split()) for literal, _, _, _ in string.Formatter().parse(template) if literal.strip()]


def _words(texts: Iterable[str]) -> set[str]:
    return {w.lower() for text in texts for w in _WORD.findall(text)}


def foreign_text(lang: str) -> tuple[set[str], set[str]]:
    """(phrases, words) of the other language's catalogue that ``lang``'s catalogue never says."""
    other = "en" if lang == "de" else "de"
    own_values = list(CATALOGUES[lang].values()) + FORMATTER_WORDS[lang]
    own_words = _words(own_values)
    own_text = " ".join(" ".join(v.split()) for v in own_values)
    phrases: set[str] = set()
    words: set[str] = set()
    for template in list(CATALOGUES[other].values()) + FORMATTER_WORDS[other]:
        for piece in _pieces(template):
            found = _WORD.findall(piece)
            if len(found) >= 2:
                phrase = piece.strip(" ,.:;()–-“”„")
                if phrase and phrase not in own_text:
                    phrases.add(phrase)
            words |= {w for w in found if len(w) >= 3 and w.lower() not in own_words}
    return phrases, words


def verbatim(report: Report) -> list[str]:
    """Every piece of text the report shows as it was written elsewhere, longest first."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value.strip():
                found.add(value)
                found.add(elide_placeholders(value))  # a log line's pattern, as the report shows it
        elif isinstance(value, Message):
            for name, arg in value.args.items():
                if not (value.id.endswith(".text") and name == "text"):   # an action's own English sentence
                    walk(arg)
        elif isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                walk(item)
        elif is_dataclass(value) and not isinstance(value, type):
            for f in fields(value):
                if f.name not in _NOT_VERBATIM and (type(value).__name__, f.name) not in _NOT_VERBATIM:
                    walk(getattr(value, f.name))

    walk(report)
    return sorted(found, key=len, reverse=True)


def foreign_in(text: str, lang: str, report: Report) -> list[str]:
    """The other catalogue's phrases and words found in ``text`` (a report in ``lang``)."""
    for piece in verbatim(report):
        text = text.replace(piece, " ")
    phrases, words = foreign_text(lang)
    hits = sorted(p for p in phrases if p in text)
    hits += sorted(w for w in words if re.search(rf"(?<![\w/.-]){re.escape(w)}(?![\w/.-])", text))
    return hits
