"""Log analysis: what went wrong, when and where -- run on the server, only results travel.

Standard library only (Python 3.7+), because ``remote`` ships these sources to the server over
SSH and runs them with the server's python3 (``render`` is the one local-only module).

Public API::

    analyze_paths(paths, fmt="auto", since=None, until=None, baseline=None, top=10) -> Analysis
    Analysis.to_json() / Analysis.from_json(text)
    detect_format(lines) -> str
    merge_timeline({"web1": analysis, ...}, start, end) -> list[TimelineEvent]
    remote.bundle() -> bytes;  remote.remote_command(paths, fmt, since, until) -> str
    render.render_analysis(result, console)

Formats (``--format``): access (nginx/Apache combined or common, aliases nginx-access,
apache-access), nginx-error, apache-error, syslog (RFC 3164), rfc5424, journal
(``journalctl -o short-iso``), java (Tomcat/Log4j/Logback, stack trace = one event),
postgres, postgres-csv, mysql-error, mysql-slow, generic; ``auto`` detects per log set.

JSON form (``Analysis.to_json()``; keys sorted, no whitespace, times ISO 8601 in UTC such as
``2024-01-02T02:03:04+00:00`` with a fraction only when the log had one; null where unknown)::

    {"schema": 1,
     "since", "until", "baseline_since", "baseline_until": time | null,
     "naive_tz": "local:CET/CEST" | "+01:00",   # how times without zone were read
     "notes": [str],                             # e.g. unreadable files
     "sets": [{                                  # one per log set (a log + rotated siblings)
        "name": "/var/log/nginx/access.log", "format": "access",
        "files": [{"path", "bytes_read", "lines", "garbage", "skipped", "error"}],
        "lines", "garbage", "events": int,       # events = inside the window
        "first_event", "last_event": time | null,
        "severity_counts": {"error": 3, "info": 120},   # syslog severity names
        "bucket_seconds": 60,                    # coarser when the span exceeds 2 days
        "per_minute": [{"start": time, "counts": {"error": 1, "info": 7}}],  # sparse
        "fingerprints": [{"template", "severity", "count", "first_seen", "last_seen",
                          "example", "new": bool | null}],
        "fingerprints_evicted": int,             # counts dropped by the bounded table
        "slowest": [{"time", "seconds", "what"}],   # MySQL slow log, PostgreSQL durations
        "access": null | {                       # access logs only
            "requests", "status_classes": {"2xx": n}, "statuses": {"502": n},
            "rate_5xx": float, "per_minute": [{"start", "counts": {"5xx": n}}],
            "top_paths_5xx", "top_clients_5xx", "top_paths_4xx", "top_clients_4xx":
                [{"key": str, "count": int}],
            "has_request_time": bool, "slow_threshold": float, "slow_requests": int,
            "slowest": [{"time", "seconds", "what"}]}}]}

Windows are half-open: since <= t < until. Memory is bounded: fingerprint and top-N tables
keep at most a few thousand keys (see ``fingerprint``), per-minute tables one row per minute.
"""

from __future__ import annotations

from .analyze import analyze_paths
from .detect import detect_format
from .model import (AccessSummary, Analysis, FileRead, Fingerprint, LogSetAnalysis,
                    MinuteBucket, Ranked, SlowEntry)
from .timeline import TimelineEvent, merge_timeline

__all__ = [
    "AccessSummary", "Analysis", "FileRead", "Fingerprint", "LogSetAnalysis", "MinuteBucket",
    "Ranked", "SlowEntry", "TimelineEvent", "analyze_paths", "detect_format", "merge_timeline",
]
