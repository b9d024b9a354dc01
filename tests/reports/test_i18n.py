"""Numbers, dates and the catalogue: German and English as a person writes them."""

from __future__ import annotations

import string
from datetime import date, datetime, timedelta, timezone

import pytest

from runbook.reports import i18n
from runbook.reports.messages import DE, EN

UTC = timezone.utc


@pytest.mark.parametrize(("value", "lang", "expected"), [
    (4_509_715_660, "de", "4,2 GiB"),
    (4_509_715_660, "en", "4.2 GiB"),
    (52_428_800, "de", "50,0 MiB"),
    (512, "de", "512 B"),
    (1536, "en", "1.5 KiB"),
    (3 * 1024 ** 4, "de", "3,0 TiB"),
    (-2 * 1024 ** 3, "de", "-2,0 GiB"),
])
def test_format_bytes(value: int, lang: str, expected: str) -> None:
    assert i18n.format_bytes(value, lang) == expected


@pytest.mark.parametrize(("value", "lang", "digits", "expected"), [
    (1234.5, "de", 1, "1.234,5"),
    (1234.5, "en", 1, "1,234.5"),
    (1234567, "de", 0, "1.234.567"),
    (0.31, "de", 2, "0,31"),
])
def test_format_number(value: float, lang: str, digits: int, expected: str) -> None:
    assert i18n.format_number(value, lang, digits) == expected


def test_percent_has_the_german_space() -> None:
    assert i18n.format_percent(93, "de") == "93 %"
    assert i18n.format_percent(93.4, "de", 1) == "93,4 %"
    assert i18n.format_percent(93, "en") == "93%"


@pytest.mark.parametrize(("ts", "lang", "expected"), [
    (datetime(2026, 11, 25, 1, 14, tzinfo=UTC), "de", "25.11.2026, 02:14 Uhr"),
    (datetime(2026, 11, 25, 1, 14, tzinfo=UTC), "en", "25 Nov 2026, 02:14"),
    # summer time: UTC+2
    (datetime(2026, 7, 1, 0, 14, tzinfo=UTC), "de", "01.07.2026, 02:14 Uhr"),
    # the night of the clock change: 02:30 exists twice in Berlin
    (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "de", "25.10.2026, 02:30 Uhr"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "de", "25.10.2026, 02:30 Uhr"),
    # midnight UTC is already the next day in Berlin
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "de", "01.01.2027, 00:30 Uhr"),
])
def test_format_datetime_in_berlin(ts: datetime, lang: str, expected: str) -> None:
    assert i18n.format_datetime(ts, lang, "Europe/Berlin") == expected


def test_zone_label_tells_the_two_0230_apart() -> None:
    assert i18n.zone_label(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Berlin") == "CEST"
    assert i18n.zone_label(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Berlin") == "CET"


def test_format_day_names_the_weekday() -> None:
    assert i18n.format_day(date(2026, 11, 26), "de") == "Donnerstag, 26.11.2026"
    assert i18n.format_day(date(2026, 11, 26), "en") == "Thursday, 26 Nov 2026"


@pytest.mark.parametrize(("delta", "lang", "expected"), [
    (timedelta(minutes=54), "de", "54 min"),
    (timedelta(hours=3, minutes=54, seconds=10), "en", "3 h 54 min"),
    (timedelta(days=1, hours=2), "de", "1 Tag 2 h"),
    (timedelta(days=2), "en", "2 days"),
    (timedelta(seconds=40), "de", "40 s"),
    (-timedelta(minutes=12), "de", "12 min"),
])
def test_format_timedelta(delta: timedelta, lang: str, expected: str) -> None:
    assert i18n.format_timedelta(delta, lang) == expected


def test_format_seconds() -> None:
    assert i18n.format_seconds(0.31, "de") == "0,31 s"
    assert i18n.format_seconds(12.34, "en") == "12.3 s"
    assert i18n.format_seconds(125, "de") == "2 min 5 s"


def test_both_catalogues_have_the_same_ids_and_fields() -> None:
    assert set(DE) == set(EN)

    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    mismatched = [k for k in EN if fields(EN[k]) != fields(DE[k])]
    assert mismatched == []


def test_german_is_written_with_umlaute_not_transliterated() -> None:
    text = " ".join(DE.values())
    for real in ("Störung", "Maßnahme", "Größe", "über", "prüfen"):
        assert real in text
    for ersatz in ("Stoerung", "Massnahme", "Groesse", "ueber", "pruefen", "fuer "):
        assert ersatz not in text


def test_localized_picks_the_language_variant() -> None:
    assert i18n.localized({"en": "the shop", "de": "der Shop"}, "de") == "der Shop"
    assert i18n.localized("php-fpm", "de") == "php-fpm"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="fr"):
        i18n.t("fr", "title.immediate")
