"""When will a disk be full? A least-squares line through the used space of recent sweeps.

Per host and mount, the used percentage of space and of inodes against time, from the sweeps
of the last days (``runbook.sweeps.history``). A trend needs at least ``MIN_POINTS`` sweeps spanning
at least ``MIN_SPAN``; with fewer, nothing is said (a single busy hour is no trend). The line
gives the growth per day and, where it grows, when it reaches the check's critical threshold
and 100 %: "/var on web1: +1.2 GiB/day, 95 % in ~3 days".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from runbook.units import format_bytes
from runbook.sweeps.history import SweepRecord, iso_seconds

MIN_POINTS = 3
MIN_SPAN = timedelta(hours=6)
#: the sweep table and the daily report show forecasts that reach a threshold within this
SOON = timedelta(days=7)
KINDS = {"disk": "space", "inodes": "inodes"}


@dataclass(frozen=True)
class Forecast:
    """The trend of one mount's space or inodes on one host.

    used_percent: the line's value at the newest sweep; percent_per_day: its slope;
    bytes_per_day: the growth of used bytes (space only); crit: the critical threshold in
    percent; crit_at / full_at: when the line reaches crit / 100 % (None when it does not grow,
    or is there already).
    """

    host: str
    mount: str
    kind: str                  # "space" | "inodes"
    points: int
    first: datetime
    last: datetime
    used_percent: float
    percent_per_day: float
    bytes_per_day: float | None
    crit: float | None
    crit_at: datetime | None
    full_at: datetime | None

    def due_within(self, horizon: timedelta, now: datetime) -> bool:
        """Whether crit or full is reached within ``horizon`` of ``now``."""
        return any(t is not None and t - now <= horizon for t in (self.crit_at, self.full_at))

    def sentence(self, now: datetime) -> str:
        """"/var on web1: +1.2 GiB/day, 95 % in ~3 days, full in ~5 days"."""
        what = self.mount if self.kind == "space" else f"{self.mount} inodes"
        growth = (f"{'+' if self.bytes_per_day >= 0 else '-'}{format_bytes(abs(self.bytes_per_day))}/day"
                  if self.bytes_per_day is not None else f"{self.percent_per_day:+.2f} %/day")
        parts = [f"{what} on {self.host}: {growth} ({self.percent_per_day:+.2f} %/day, now {self.used_percent:.1f} %)"]
        if self.crit_at is not None and self.crit is not None:
            parts.append(f"{self.crit:g} % in {_in(self.crit_at - now)}")
        if self.full_at is not None:
            parts.append(f"full in {_in(self.full_at - now)}")
        if self.crit_at is None and self.full_at is None:
            parts.append("not growing" if self.percent_per_day <= 0 else "at or past its thresholds")
        return ", ".join(parts)

    def to_json(self, now: datetime) -> dict[str, Any]:
        return {"host": self.host, "mount": self.mount, "kind": self.kind, "points": self.points,
                "first": _iso(self.first), "last": _iso(self.last), "used_percent": round(self.used_percent, 2),
                "percent_per_day": round(self.percent_per_day, 4),
                "bytes_per_day": None if self.bytes_per_day is None else round(self.bytes_per_day),
                "crit": self.crit, "crit_at": _iso(self.crit_at), "full_at": _iso(self.full_at),
                "days_to_crit": _days(self.crit_at, now), "days_to_full": _days(self.full_at, now),
                "sentence": self.sentence(now)}


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through (xs, ys); at least two distinct xs."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def forecasts(recs: Iterable[SweepRecord]) -> list[Forecast]:
    """One forecast per host, mount and kind with enough points, sorted by host and mount."""
    series: dict[tuple[str, str, str], list[tuple[datetime, float, int | None, float | None]]] = {}
    for record in recs:
        for p in record.points:
            prefix, _, mount = p.check.partition(":")
            if prefix in KINDS and p.value is not None:
                series.setdefault((p.host, mount, KINDS[prefix]), []).append(
                    (p.at, float(p.value), p.used_bytes, p.crit))
    found = []
    for (host, mount, kind), points in sorted(series.items()):
        points.sort(key=lambda item: item[0])
        if len(points) < MIN_POINTS or points[-1][0] - points[0][0] < MIN_SPAN:
            continue
        found.append(_trend(host, mount, kind, points))
    return found


def _trend(host: str, mount: str, kind: str,
           points: list[tuple[datetime, float, int | None, float | None]]) -> Forecast:
    origin = points[0][0]
    days = [(at - origin).total_seconds() / 86400 for at, *_ in points]
    slope, intercept = least_squares(days, [value for _, value, *_ in points])
    used = [u for _, _, u, _ in points]
    bytes_per_day = least_squares(days, used)[0] if all(u is not None for u in used) else None  # type: ignore[arg-type]
    now_value = intercept + slope * days[-1]
    crit = points[-1][3]
    last = points[-1][0]

    def reaches(level: float | None) -> datetime | None:
        if level is None or slope <= 0 or now_value >= level:
            return None
        return last + timedelta(days=(level - now_value) / slope)

    return Forecast(host=host, mount=mount, kind=kind, points=len(points), first=origin, last=last,
                    used_percent=now_value, percent_per_day=slope, bytes_per_day=bytes_per_day, crit=crit,
                    crit_at=reaches(crit), full_at=reaches(100.0))


def _in(delta: timedelta) -> str:
    hours = max(delta.total_seconds() / 3600, 0)
    return f"~{hours:.0f} hours" if hours < 48 else f"~{hours / 24:.0f} days"


def _days(when: datetime | None, now: datetime) -> float | None:
    return None if when is None else round((when - now).total_seconds() / 86400, 2)


def _iso(when: datetime | None) -> str | None:
    return None if when is None else iso_seconds(when)
