"""One timeline across hosts: "what happened between 02:05 and 02:20 everywhere".

Analyses are aggregates, so the timeline is built from what they keep: the first (and last)
sighting of every reported problem fingerprint, and every bucket in which errors were
counted (for access logs: how many 5xx out of how many requests). Sorted by time, then host,
then log, so the same analyses always give the same timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

from .model import PROBLEM_RANK, SEVERITY_RANK, Analysis, LogSetAnalysis, iso

_KIND_ORDER = {"errors": 0, "first": 1, "last": 2}


@dataclass(frozen=True)
class TimelineEvent:
    """One line of the merged timeline.

    kind: ``first`` / ``last`` (a fingerprint's first or last sighting; ``count`` is its
    total in the analysed window) or ``errors`` (a bucket with error events; ``count`` is
    how many, ``total`` of how many requests/events, and ``text`` says so in English).
    """

    time: datetime
    host: str
    log: str
    format: str
    severity: str
    kind: str
    text: str
    count: int
    new: Optional[bool] = None
    total: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready dict; ``time`` as ISO 8601 UTC."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["time"] = iso(self.time.timestamp())
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TimelineEvent":
        """Inverse of ``to_dict``."""
        values = dict(data)
        values["time"] = datetime.fromisoformat(values["time"])
        return cls(**values)


def _inside(moment: Optional[datetime], start: float, end: float) -> bool:
    return moment is not None and start <= moment.timestamp() < end


def _set_events(host: str, log: LogSetAnalysis, start: float, end: float
                ) -> List[TimelineEvent]:
    events = []
    for fp in log.fingerprints:
        if SEVERITY_RANK.get(fp.severity, 99) > PROBLEM_RANK and not fp.new:
            continue
        if _inside(fp.first_seen, start, end):
            events.append(TimelineEvent(fp.first_seen, host, log.name, log.format,  # type: ignore[arg-type]
                                        fp.severity, "first", fp.template, fp.count, fp.new))
        if fp.last_seen != fp.first_seen and _inside(fp.last_seen, start, end):
            events.append(TimelineEvent(fp.last_seen, host, log.name, log.format,  # type: ignore[arg-type]
                                        fp.severity, "last", fp.template, fp.count, fp.new))
    if log.access is not None:
        for bucket in log.access.per_minute:
            bad = bucket.counts.get("5xx", 0)
            if bad and _inside(bucket.start, start, end):
                total = sum(bucket.counts.values())
                events.append(TimelineEvent(
                    bucket.start, host, log.name, log.format, "error", "errors",
                    "%d x 5xx of %d requests (%.1f%%)" % (bad, total, 100.0 * bad / total), bad,
                    total=total))
        return events
    for bucket in log.per_minute:
        bad = sum(n for sev, n in bucket.counts.items()
                  if SEVERITY_RANK.get(sev, 99) <= SEVERITY_RANK["error"])
        if bad and _inside(bucket.start, start, end):
            total = sum(bucket.counts.values())
            worst = min((sev for sev in bucket.counts), key=lambda s: SEVERITY_RANK.get(s, 99))
            events.append(TimelineEvent(bucket.start, host, log.name, log.format, worst,
                                        "errors", "%d error events of %d" % (bad, total), bad,
                                        total=total))
    return events


def merge_timeline(named_analyses: Mapping[str, Analysis], start: datetime,
                   end: datetime) -> List[TimelineEvent]:
    """Events in [start, end) from every host's analysis, sorted by time, host, log.

    named_analyses: host name -> its Analysis (e.g. {"web1": ..., "db1": ...}).
    start, end:     the moment's bounds; naive datetimes are local time (Python's rule).
    """
    low, high = start.timestamp(), end.timestamp()
    events: List[TimelineEvent] = []
    for host in sorted(named_analyses):
        for log in named_analyses[host].sets:
            events.extend(_set_events(host, log, low, high))
    events.sort(key=lambda e: (e.time.timestamp(), e.host, e.log, _KIND_ORDER[e.kind], e.text))
    return events
