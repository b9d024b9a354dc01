"""``python -m runbook.analysis FILE... [--format F] [--since T] [--until T] [--json]``

The same entry runs on the server (from the stdin bundle, see ``remote``) and locally on an
archived copy. With ``--json`` it prints ``Analysis.to_json()`` and nothing else on stdout;
without it a short plain-text summary (the rich tables are ``render``'s job, locally).
Exit codes are in ``ExitCode``; only ``main`` decides them.
"""

from __future__ import annotations

import argparse
import sys
from enum import IntEnum
from typing import List, Optional, TextIO

from .analyze import analyze_paths
from .clock import Clock, parse_user_time
from .formats import ALIASES, FORMATS
from .model import SEVERITIES, Analysis


class ExitCode(IntEnum):
    """How the analyzer ended. NO_PYTHON is produced by the shell wrapper of ``remote``."""

    OK = 0
    NOTHING_READ = 1  # no file could be read at all
    USAGE = 2  # argparse's own code for bad arguments
    NO_PYTHON = 127  # no python3 >= 3.7 on the server: analyse the archived copy instead


def _parser() -> argparse.ArgumentParser:
    names = sorted(set(FORMATS) | set(ALIASES))
    parser = argparse.ArgumentParser(
        prog="python -m runbook.analysis",
        description="Analyse log files: counts per severity and minute, status classes, "
                    "error fingerprints, slow requests.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--format", default="auto", choices=["auto"] + names, metavar="FORMAT",
                        help="auto (default) or one of: " + ", ".join(names))
    parser.add_argument("--since", help="window start: ISO time, 'now' or e.g. -30m")
    parser.add_argument("--until", help="window end (exclusive), same forms")
    parser.add_argument("--last", metavar="DURATION",
                        help="window of this length (e.g. 30m, 2h) ending at --until or now")
    parser.add_argument("--baseline", choices=["previous-day"],
                        help="mark fingerprints not seen in the same window 24 h earlier")
    parser.add_argument("--baseline-since", help="explicit baseline window start")
    parser.add_argument("--baseline-until", help="explicit baseline window end")
    parser.add_argument("--top", type=int, default=10, help="rows per top-N table")
    parser.add_argument("--tz", help="zone of log times without one, e.g. +01:00 or UTC "
                                     "(default: this machine's local zone)")
    parser.add_argument("--slow", type=float, default=1.0,
                        help="seconds from which a request/query counts as slow")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: Optional[List[str]] = None, out: Optional[TextIO] = None) -> int:
    """Run the CLI; returns the exit code (the caller passes it to sys.exit)."""
    out = sys.stdout if out is None else out
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        clock = Clock(args.tz)
        since, until = args.since, args.until
        if args.last:
            end = parse_user_time(until, clock) if until else parse_user_time("now", clock)
            since = parse_user_time("-" + args.last.lstrip("-"), clock, now=end)
            until = end
        baseline = args.baseline
        if args.baseline_since or args.baseline_until:
            baseline = (args.baseline_since, args.baseline_until)
        result = analyze_paths(args.files, fmt=args.format, since=since, until=until,
                               baseline=baseline, top=args.top, naive_tz=args.tz,
                               slow=args.slow)
    except ValueError as error:
        parser.print_usage(sys.stderr)
        sys.stderr.write("error: %s\n" % error)
        return ExitCode.USAGE
    if args.json:
        out.write(result.to_json() + "\n")
    else:
        out.write(summary(result))
    for note in result.notes:
        sys.stderr.write("note: %s\n" % note)
    return ExitCode.NOTHING_READ if result.nothing_read else ExitCode.OK


def summary(result: Analysis) -> str:
    """A plain-text summary, for terminals without rich (e.g. on the server itself)."""
    lines = []
    for log in result.sets:
        lines.append("== %s (%s): %d lines, %d garbage, %d events in window"
                     % (log.name, log.format, log.lines, log.garbage, log.events))
        if log.first_event:
            lines.append("   from %s to %s" % (log.first_event.isoformat(),
                                                 log.last_event.isoformat()
                                                 if log.last_event else "?"))
        counts = ", ".join("%s %d" % (sev, log.severity_counts[sev])
                           for sev in SEVERITIES if sev in log.severity_counts)
        lines.append("   severities: " + (counts or "-"))
        if log.access:
            acc = log.access
            lines.append("   requests %d, 5xx rate %.2f%%, classes %s" % (
                acc.requests, 100 * acc.rate_5xx,
                " ".join("%s=%d" % kv for kv in sorted(acc.status_classes.items()))))
            for title, rows in (("5xx paths", acc.top_paths_5xx),
                                ("5xx clients", acc.top_clients_5xx)):
                if rows:
                    lines.append("   %s: %s" % (title, ", ".join(
                        "%s (%d)" % (r.key, r.count) for r in rows[:5])))
        for fp in log.fingerprints[:10]:
            flag = " NEW" if fp.new else ""
            lines.append("   %6d %-7s %s%s" % (fp.count, fp.severity, fp.template[:100], flag))
        for slow in (log.access.slowest if log.access else log.slowest)[:5]:
            lines.append("   slow %.3fs %s" % (slow.seconds, slow.what[:100]))
    return "\n".join(lines) + "\n"
