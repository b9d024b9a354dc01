"""One rule for sizes and durations (runbook.units): the README's "Sizes and durations" table."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.units import format_bytes, parse_duration, parse_size

KIB, MIB, GIB, TIB = 1024, 1024**2, 1024**3, 1024**4


@pytest.mark.parametrize("value, size", [
    # a bare number is bytes
    (512, 512), ("512", 512), ("512B", 512), ("512 b", 512), (0, 0), (1536.7, 1536),
    # GB, MB, kB: powers of 10 (df -H, disk vendors)
    ("5GB", 5_000_000_000), ("5 gb", 5_000_000_000), ("10kB", 10_000), ("10KB", 10_000),
    ("500MB", 500_000_000), ("2TB", 2 * 10**12), ("1.5GB", 1_500_000_000),
    # GiB, MiB, KiB: powers of 2 (df -h)
    ("5GiB", 5 * GIB), ("5 gib", 5 * GIB), ("500 MiB", 500 * MIB), ("10KiB", 10 * KIB),
    # a prefix letter alone: powers of 2, as df -h, du -h and logrotate write them
    ("5G", 5 * GIB), ("5g", 5 * GIB), ("100M", 100 * MIB), ("100k", 100 * KIB), ("1.5T", int(1.5 * TIB)),
])
def test_parse_size(value: Any, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", ["", "G", "5 XB", "5GiBs", "five", "-1", -1, "1e3", True, None, "5 G B"])
def test_parse_size_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(value)


@pytest.mark.parametrize("value, seconds", [
    (30, 30.0), (2.5, 2.5), ("30", 30.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0),
    ("1h 30m", 5400.0), ("2d", 172800.0), ("1d12h", 129600.0), ("1.5h", 5400.0), ("0s", 0.0),
    ("1h2m3s", 3723.0), (" 10m ", 600.0),
])
def test_parse_duration(value: Any, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "m", "5 minutes", "30m1h", "1w", "-1h", -5, True, None, "1h-30m"])
def test_parse_duration_refuses(value: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


@pytest.mark.parametrize("n, text", [(17, "17 B"), (1536, "1.5 KiB"), (1.2 * GIB, "1.2 GiB"),
                                     (12.34 * GIB, "12.3 GiB"), (123.4 * GIB, "123 GiB"),
                                     (3 * 1024**5, "3072 TiB"), (5_000_000_000, "4.7 GiB")])
def test_format_bytes(n: float, text: str) -> None:
    assert format_bytes(n) == text


def test_one_meaning_everywhere() -> None:
    """A threshold, a step param and a logrotate option read "100M" alike; "5GB" is decimal in
    a threshold and a param."""
    from runbook.logs.rotation import parse_logrotate_size
    from runbook.actions.params import ByteSize, convert
    from runbook.health.thresholds import BYTES, PERCENT, parse_threshold

    assert parse_logrotate_size("100M") == convert(ByteSize, "100M", "min_size", rendered=True) == 100 * MIB
    assert parse_threshold("100M", "disk_crit", (PERCENT, BYTES)).value == 100 * MIB
    assert convert(ByteSize, "5GB", "min_size", rendered=True) == 5_000_000_000
    assert parse_threshold("5GB", "disk_crit", (PERCENT, BYTES)).value == 5_000_000_000
