"""Each format, parsed from real output of the program that writes it (fixtures/logs/SOURCES.md)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from runbook.analysis import analyze_paths, detect_format
from runbook.analysis.sources import head_lines

from .conftest import FIXTURES


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


# file, detected format, lines, garbage, events, severity counts
CASES = [
    ("nginx-access-combined.log", "access", 22, 0, 22, {"error": 8, "warning": 9, "info": 5}),
    ("nginx-access-timed.log", "access", 22, 0, 22, {"error": 8, "warning": 9, "info": 5}),
    ("apache-access-combined.log", "access", 8, 0, 8, {"error": 2, "warning": 2, "info": 4}),
    ("apache-access-common.log", "access", 8, 0, 8, {"error": 2, "warning": 2, "info": 4}),
    ("nginx-error.log", "nginx-error", 46, 0, 46, {"error": 14, "notice": 12, "info": 20}),
    ("apache-error.log", "apache-error", 11, 0, 11, {"error": 5, "notice": 3, "info": 3}),
    ("syslog-newyear.log", "syslog", 11, 0, 11, {"crit": 1, "error": 5, "info": 5}),
    ("syslog-rfc5424.log", "rfc5424", 11, 0, 11,
     {"crit": 1, "error": 2, "warning": 3, "notice": 1, "info": 4}),
    ("syslog-iso.log", "journal", 11, 0, 11, {"crit": 1, "error": 5, "info": 5}),
    ("journal-short-iso.log", "journal", 8, 0, 8, {"emerg": 1, "error": 4, "info": 3}),
    ("java-log4j2.log", "java", 23, 0, 6, {"error": 3, "warning": 1, "info": 2}),
    ("java-logback.log", "java", 23, 0, 6, {"error": 3, "warning": 1, "info": 2}),
    ("tomcat-catalina.out", "java", 23, 0, 6, {"error": 3, "warning": 1, "info": 2}),
    ("java-jul.log", "java", 32, 0, 6, {"error": 3, "warning": 1, "info": 2}),
    ("gunicorn-error.log", "python", 56, 0, 17, {"crit": 1, "error": 4, "info": 12}),
    ("python-logging.log", "python", 42, 0, 6, {"crit": 1, "error": 3, "warning": 1, "info": 1}),
    ("postgresql-stderr.log", "postgres", 34, 0, 22, {"crit": 4, "error": 5, "info": 13}),
    ("postgresql.csv", "postgres-csv", 25, 0, 22, {"crit": 4, "error": 5, "info": 13}),
    ("mariadb-error.log", "mysql-error", 32, 0, 31, {"warning": 2, "notice": 29}),
    ("mariadb-slow.log", "mysql-slow", 17, 0, 2, {"warning": 2}),
]


@pytest.mark.parametrize("name,fmt,lines,garbage,events,severities", CASES,
                         ids=[c[0] for c in CASES])
def test_each_format_counts(name, fmt, lines, garbage, events, severities):
    path = str(FIXTURES / name)
    assert detect_format(head_lines(path)) == fmt
    log = analyze_paths([path]).sets[0]
    assert (log.format, log.lines, log.garbage, log.events) == (fmt, lines, garbage, events)
    assert log.severity_counts == severities


# file, template, count, severity, first seen, last seen
FINGERPRINTS = [
    ("nginx-access-combined.log", "502 GET /api/orders/<n>", 3, "error",
     utc(2026, 11, 25, 9, 3, 25), utc(2026, 11, 25, 9, 3, 25)),
    ("nginx-access-combined.log", "504 GET /slow/hang", 1, "error",
     utc(2026, 11, 25, 9, 3, 27), utc(2026, 11, 25, 9, 3, 27)),
    ("nginx-error.log", "connect() failed (<n>: Connection refused) while connecting to upstream, "
     'server: shop.test, request: "<q>", upstream: "<q>", host: "<q>"', 5, "error",
     utc(2026, 11, 25, 9, 3, 25), utc(2026, 11, 25, 9, 3, 27)),
    ("nginx-error.log", 'user "<q>": password mismatch, server: shop.test, request: "<q>", '
     'host: "<q>"', 1, "error", utc(2026, 11, 25, 9, 3, 27), utc(2026, 11, 25, 9, 3, 27)),
    ("apache-error.log", "AH01114: HTTP: failed to make connection to backend: <ip>", 2, "error",
     utc(2026, 11, 25, 9, 4, 22, 374760), utc(2026, 11, 25, 9, 4, 22, 383859)),
    ("postgresql-stderr.log", 'password authentication failed for user "<q>"', 3, "crit",
     utc(2026, 11, 25, 9, 4, 5, 644000), utc(2026, 11, 25, 9, 4, 5, 815000)),
    ("postgresql.csv", 'password authentication failed for user "<q>"', 3, "crit",
     utc(2026, 11, 25, 9, 4, 5, 644000), utc(2026, 11, 25, 9, 4, 5, 815000)),
    ("postgresql-stderr.log", 'relation "<q>" does not exist at character <n>', 1, "error",
     utc(2026, 11, 25, 9, 4, 4, 629000), utc(2026, 11, 25, 9, 4, 4, 629000)),
    ("mariadb-error.log", "Access denied for user '<q>'@'<q>' (using password: YES)", 2,
     "warning", utc(2026, 11, 25, 9, 4, 36), utc(2026, 11, 25, 9, 4, 36)),
    ("journal-short-iso.log", "nginx: nginx: [emerg] bind() to <ip> failed (<n>: Address "
     "already in use)", 1, "emerg", utc(2026, 11, 25, 2, 5, 13), utc(2026, 11, 25, 2, 5, 13)),
    ("syslog-rfc5424.log", "ORDER shop-app: payment gateway timeout after <n> ms for order <n>",
     1, "crit", utc(2027, 1, 1, 0, 2, 3, 123000), utc(2027, 1, 1, 0, 2, 3, 123000)),
]


@pytest.mark.parametrize("name,template,count,severity,first,last", FINGERPRINTS,
                         ids=["%s:%s" % (f[0], f[1][:30]) for f in FINGERPRINTS])
def test_fingerprints_of_real_errors(name, template, count, severity, first, last):
    log = analyze_paths([str(FIXTURES / name)], naive_tz="UTC").sets[0]
    found = {fp.template: fp for fp in log.fingerprints}
    assert template in found, sorted(found)
    fp = found[template]
    assert (fp.count, fp.severity, fp.first_seen, fp.last_seen) == (count, severity, first, last)


@pytest.mark.parametrize("name", ["java-log4j2.log", "java-logback.log", "tomcat-catalina.out",
                                  "java-jul.log"])
def test_a_stack_trace_is_one_event_with_its_root_cause(name):
    log = analyze_paths([str(FIXTURES / name)], naive_tz="UTC").sets[0]
    errors = [fp for fp in log.fingerprints if fp.severity == "error"]
    assert sorted(fp.count for fp in errors) == [1, 2]
    order = next(fp for fp in errors if fp.count == 2)
    assert "Request processing failed for <path>" in order.template
    assert "Shop$OrderException: order <n> failed" in order.template
    assert "caused by: java.sql.SQLException: Connection refused" in order.template
    assert "\tat Shop.place(Shop.java:10)" in order.example  # the trace travels with it
    npe = next(fp for fp in errors if fp.count == 1)
    assert "java.lang.NullPointerException" in npe.template


def test_access_tables_name_the_failing_paths_and_clients():
    acc = analyze_paths([str(FIXTURES / "nginx-access-combined.log")]).sets[0].access
    assert acc.requests == 22
    assert acc.statuses == {"200": 5, "400": 1, "401": 1, "404": 7, "500": 2, "502": 5, "504": 1}
    assert acc.status_classes == {"2xx": 5, "4xx": 9, "5xx": 8}
    assert acc.rate_5xx == round(8 / 22, 6)
    assert acc.top_paths_5xx[0].key == "/boom" and acc.top_paths_5xx[0].count == 2
    assert [(r.key, r.count) for r in acc.top_paths_4xx[:1]] == [("/wp-login.php", 2)]
    assert [(r.key, r.count) for r in acc.top_clients_5xx] == [("127.0.0.1", 8)]
    assert [(b.start, b.counts) for b in acc.per_minute] == [
        (utc(2026, 11, 25, 9, 3), {"2xx": 5, "4xx": 9, "5xx": 8})]
    assert acc.has_request_time is False and acc.slowest == ()


@pytest.mark.parametrize("threshold,expected", [
    (1.0, [(1.001, "GET /slow/hang 504")]),
    (0.2, [(1.001, "GET /slow/hang 504"), (0.301, "GET /slow/ok 200")]),
])
def test_slow_requests_from_request_time(threshold, expected):
    acc = analyze_paths([str(FIXTURES / "nginx-access-timed.log")], slow=threshold).sets[0].access
    assert acc.has_request_time
    assert [(s.seconds, s.what) for s in acc.slowest] == expected
    assert acc.slow_requests == len(expected)


def test_escaped_quote_in_apache_user_agent_is_no_garbage():
    log = analyze_paths([str(FIXTURES / "apache-access-combined.log")]).sets[0]
    assert log.garbage == 0 and log.access.statuses["200"] == 3


@pytest.mark.parametrize("name,expected", [
    ("mariadb-slow.log", [(0.70031, "select sleep(0.7), 1;"),
                          (0.60039, "select sleep(0.6), id from orders where id = 1;")]),
    ("postgresql-stderr.log", [(0.602025, "select pg_sleep(0.6), id from orders where id = 1")]),
])
def test_slow_queries(name, expected):
    log = analyze_paths([str(FIXTURES / name)]).sets[0]
    assert [(s.seconds, s.what) for s in log.slowest] == expected
    # MySQL's SET timestamp is exact UTC, whatever zone naive times are read in
    assert log.slowest[0].time.year == 2026


def test_postgres_secondary_lines_belong_to_their_error():
    log = analyze_paths([str(FIXTURES / "postgresql-stderr.log")]).sets[0]
    numeric = next(fp for fp in log.fingerprints if fp.template.startswith("invalid input"))
    assert "STATEMENT:  select *" in numeric.example
    assert "\t  where id = 42 and total > 'x'" in numeric.example


def test_a_python_traceback_is_one_event_named_by_what_was_raised():
    log = analyze_paths([str(FIXTURES / "gunicorn-error.log")], naive_tz="UTC").sets[0]
    found = {fp.template: fp for fp in log.fingerprints}
    boom = found["Error handling request GET <path> | RuntimeError: boom for order <n>"]
    assert (boom.count, boom.severity) == (2, "error")
    assert (boom.first_seen, boom.last_seen) == (utc(2026, 11, 25, 10, 44, 39), utc(2026, 11, 25, 10, 44, 40))
    assert 'File "/tmp/gu/app.py", line 5, in application' in boom.example  # the trace travels with it
    assert "Error handling request GET /key | KeyError: '<q>'" in found
    assert found["WORKER TIMEOUT (pid:<n>)"].severity == "crit"

    chained = analyze_paths([str(FIXTURES / "python-logging.log")], naive_tz="UTC").sets[0]
    templates = {fp.template: fp.count for fp in chained.fingerprints}
    assert templates["shop.orders: checkout failed for order <n> | RuntimeError: order <n> cannot be "
                     "priced | caused by: KeyError: '<q>'"] == 2


def test_a_bare_word_outside_a_traceback_is_garbage(tmp_path):
    text = (FIXTURES / "gunicorn-error.log").read_text().splitlines(keepends=True)
    (tmp_path / "gunicorn.log").write_text("".join(text[:2] + ["garbage\n", "RuntimeError: stray\n"] + text[2:]))
    log = analyze_paths([str(tmp_path / "gunicorn.log")], naive_tz="UTC").sets[0]
    assert (log.garbage, log.events) == (2, 17)
