"""Words and numbers for customer reports, in German and English.

A plain dict of message ids per language (``runbook.reports.messages``) and a few formatters.
No gettext/babel: the reports need two languages, a handful of number and date shapes and
nothing that varies with the machine's locale. Babel's CLDR data would bring 30 MB for
"4,2 GiB" and "25.11.2026, 02:14 Uhr"; gettext's .po/.mo files would add a build step and
hide the German text from the people who write it. Formatting here never reads the process
locale, so the same journal gives the same bytes on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from runbook.reports.messages import MESSAGES

LANGUAGES = ("de", "en")
DEFAULT_TIMEZONE = "Europe/Berlin"

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def check_lang(lang: str) -> str:
    """Return ``lang`` if reports can be written in it, else raise ValueError."""
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported report language {lang!r} (use one of {', '.join(LANGUAGES)})")
    return lang


def t(lang: str, msgid: str, /, **args: Any) -> str:
    """The message ``msgid`` in ``lang`` with ``args`` filled in (str.format fields)."""
    text = MESSAGES[check_lang(lang)][msgid]
    return text.format(**args) if args else text


def has(lang: str, msgid: str) -> bool:
    """Whether the catalogue knows ``msgid`` (used for optional, name-derived message ids)."""
    return msgid in MESSAGES[check_lang(lang)]


def localized(value: Any, lang: str) -> Any:
    """Pick the ``lang`` variant of a ``{"de": ..., "en": ...}`` value; anything else as is.

    Actions may journal a value per language (e.g. ``{"en": "the shop", "de": "der Shop"}``)
    because only a person can say it well in both.
    """
    if isinstance(value, Mapping) and value and set(value) <= set(LANGUAGES):
        return value.get(lang, next(iter(value.values())))
    return value


# -- numbers -----------------------------------------------------------------------------------

def format_number(value: float | int, lang: str, digits: int = 0) -> str:
    """1234.5 -> "1.234,5" (de) or "1,234.5" (en); ``digits`` after the decimal point."""
    text = f"{value:,.{digits}f}"
    if check_lang(lang) == "de":
        # swap the two separators through a placeholder
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_percent(value: float | int, lang: str, digits: int = 0) -> str:
    """93.4 -> "93 %" (de, with the space German typography asks for) or "93%" (en)."""
    number = format_number(value, lang, digits)
    return f"{number} %" if lang == "de" else f"{number}%"


def format_bytes(value: int | float, lang: str) -> str:
    """Binary units with one decimal from KiB on: 4509715660 -> "4,2 GiB" / "4.2 GiB"."""
    size = float(value)
    sign = "-" if size < 0 else ""
    size = abs(size)
    unit = 0
    while size >= 1024 and unit < len(_BYTE_UNITS) - 1:
        size /= 1024
        unit += 1
    digits = 0 if unit == 0 else 1
    return f"{sign}{format_number(size, lang, digits)} {_BYTE_UNITS[unit]}"


def format_seconds(seconds: float, lang: str) -> str:
    """A command's duration: "0,12 s", "3,4 s", "2 min 5 s"."""
    if seconds < 10:
        return f"{format_number(seconds, lang, 2)} s"
    if seconds < 60:
        return f"{format_number(seconds, lang, 1)} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def format_timedelta(delta: timedelta, lang: str) -> str:
    """An SLA margin or a gap between events, always positive, to the minute: "3 h 54 min",
    "12 min"; seconds only for less than a minute ("40 s")."""
    total = abs(int(delta.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    day_word = ("Tag", "Tage") if lang == "de" else ("day", "days")
    parts = []
    if days:
        parts.append(f"{days} {day_word[0] if days == 1 else day_word[1]}")
    if hours:
        parts.append(f"{hours} h")
    if minutes or (not parts and not seconds):
        parts.append(f"{minutes} min")
    if seconds and not parts:  # "40 s", but "12 min" rather than "12 min 16 s"
        parts.append(f"{seconds} s")
    return " ".join(parts)


# -- dates and times ---------------------------------------------------------------------------

def _local(ts: datetime, tz: str) -> datetime:
    return ts.astimezone(ZoneInfo(tz))


def format_date(day: date | datetime, lang: str, tz: str = DEFAULT_TIMEZONE) -> str:
    """"25.11.2026" (de) or "25 Nov 2026" (en); a datetime is first put in ``tz``."""
    if isinstance(day, datetime):
        day = _local(day, tz).date()
    if check_lang(lang) == "de":
        return f"{day.day:02d}.{day.month:02d}.{day.year}"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_day(day: date, lang: str) -> str:
    """A due date with its weekday: "Donnerstag, 26.11.2026" / "Thursday, 26 Nov 2026"."""
    return f"{_WEEKDAYS[check_lang(lang)][day.weekday()]}, {format_date(day, lang)}"


def format_time(ts: datetime, lang: str, tz: str = DEFAULT_TIMEZONE, *, seconds: bool = False) -> str:
    """"02:14" in ``tz``; sentences add the German "Uhr" themselves where it belongs."""
    return _local(ts, tz).strftime("%H:%M:%S" if seconds else "%H:%M")


def format_datetime(ts: datetime, lang: str, tz: str = DEFAULT_TIMEZONE) -> str:
    """"25.11.2026, 02:14 Uhr" (de) or "25 Nov 2026, 02:14" (en), in ``tz``."""
    text = f"{format_date(ts, lang, tz)}, {format_time(ts, lang, tz)}"
    return f"{text} Uhr" if lang == "de" else text


def zone_label(ts: datetime, tz: str) -> str:
    """The zone abbreviation in force at ``ts`` ("CET", "CEST"), for the report header."""
    return _local(ts, tz).tzname() or tz
