"""Windows, baselines ("new" fingerprints), garbage, year inference, rotation and gzip."""

from __future__ import annotations

import gzip
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from runbook.analysis import analyze_paths
from runbook.analysis.sources import log_sets

from .conftest import FIXTURES


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def access_line(minute: int, second: int, status: int, path: str, client: str = "10.0.0.1"):
    return ('%s - - [02/Jan/2024:02:%02d:%02d +0100] "GET %s HTTP/1.1" %d 10 "-" "curl/8"\n'
            % (client, minute, second, path, status))


@pytest.fixture
def two_nights(tmp_path: Path) -> Path:
    """An access log: a quiet night 01:00-01:20 UTC with one old error, then new failures."""
    lines = []
    for minute in range(20):
        for second in (0, 30):
            lines.append(access_line(minute, second, 200, "/"))
    lines.append(access_line(3, 10, 500, "/old/1"))
    lines.append(access_line(12, 10, 500, "/old/2"))
    lines.append(access_line(12, 59, 502, "/api/orders/7", "10.0.0.9"))
    lines.append(access_line(13, 0, 502, "/api/orders/8", "10.0.0.9"))
    path = tmp_path / "access.log"
    path.write_text("".join(sorted(lines, key=lambda line: line.split("[", 1)[1])))
    return path


@pytest.mark.parametrize("since,until,requests,errors", [
    (None, None, 44, 4),
    ("2024-01-02T01:10:00Z", None, 23, 3),
    ("2024-01-02T01:12:59Z", "2024-01-02T01:13:00Z", 1, 1),  # second precision, half-open
    ("2024-01-02T02:12:30+01:00", "2024-01-02T02:13:01+01:00", 4, 2),
    ("2024-01-02T05:00:00Z", None, 0, 0),
    # "from 30 seconds before the fault to 1 second after": shifted times, as a playbook
    # writes "{{ incident.received }}-30m"
    ("2024-01-02T02:13:00+01:00-30s", "2024-01-02T02:13:00+01:00+1s", 4, 2),
    ("2024-01-02T01:13:00Z-0.5m", "2024-01-02T01:13:00Z+1s", 4, 2),
])
def test_access_window(two_nights, since, until, requests, errors):
    log = analyze_paths([str(two_nights)], since=since, until=until).sets[0]
    assert log.access.requests == requests
    assert log.access.status_classes.get("5xx", 0) == errors
    assert log.lines == 44  # lines are what was read, the window picks the events


def test_window_and_whole_file_agree_on_everything_but_the_window(two_nights):
    whole = analyze_paths([str(two_nights)]).sets[0]
    wide = analyze_paths([str(two_nights)], since="2000-01-01T00:00:00Z").sets[0]
    assert whole.per_minute == wide.per_minute
    assert whole.access == wide.access
    assert whole.fingerprints == wide.fingerprints
    assert (whole.first_event, whole.last_event) == (utc(2024, 1, 2, 1, 0),
                                                     utc(2024, 1, 2, 1, 19, 30))


def test_baseline_marks_new_fingerprints(two_nights):
    result = analyze_paths([str(two_nights)], since="2024-01-02T01:10:00Z",
                           baseline=("2024-01-02T01:00:00Z", "2024-01-02T01:10:00Z"))
    flags = {fp.template: fp.new for fp in result.sets[0].fingerprints}
    assert flags == {"500 GET /old/<n>": False, "502 GET /api/orders/<n>": True}
    new = next(fp for fp in result.sets[0].fingerprints if fp.new)
    assert (new.count, new.first_seen, new.last_seen) == (
        2, utc(2024, 1, 2, 1, 12, 59), utc(2024, 1, 2, 1, 13, 0))
    assert result.baseline_since == utc(2024, 1, 2, 1, 0)


def test_previous_day_baseline_against_event_logs(tmp_path):
    lines = ["2024/01/01 02:10:00 [error] 1#1: *1 upstream timed out (110: Connection timed out)",
             "2024/01/02 02:10:00 [error] 1#1: *2 upstream timed out (110: Connection timed out)",
             "2024/01/02 02:11:00 [crit] 1#1: *3 SSL_do_handshake() failed"]
    path = tmp_path / "error.log"
    path.write_text("\n".join(lines) + "\n")
    result = analyze_paths([str(path)], since="2024-01-02T02:00:00", until="2024-01-02T03:00:00",
                           baseline="previous-day", naive_tz="UTC")
    flags = {fp.template: fp.new for fp in result.sets[0].fingerprints}
    assert flags == {"upstream timed out (<n>: Connection timed out)": False,
                     "SSL_do_handshake() failed": True}


def test_baseline_from_an_earlier_analysis(two_nights):
    earlier = analyze_paths([str(two_nights)], until="2024-01-02T01:10:00Z")
    later = analyze_paths([str(two_nights)], since="2024-01-02T01:10:00Z", baseline=earlier)
    assert [fp.template for fp in later.sets[0].fingerprints if fp.new] == [
        "502 GET /api/orders/<n>"]


@pytest.mark.parametrize("name,junk", [
    ("nginx-access-combined.log", ["garbage line", "", "\x00\x01\x02binary", "- - [oops]"]),
    ("nginx-error.log", ["kernel: not nginx", "2024/99/99 99:99:99 [error] broken"]),
    ("postgresql-stderr.log", ["random text"]),
    ("syslog-newyear.log", ["no timestamp here"]),
    ("java-log4j2.log", ["free text between events"]),
])
def test_garbage_is_counted_never_fatal(tmp_path, name, junk):
    clean = analyze_paths([str(FIXTURES / name)], naive_tz="UTC").sets[0]
    lines = (FIXTURES / name).read_bytes().split(b"\n")
    dirty = lines[:3] + [j.encode() for j in junk] + lines[3:]
    path = tmp_path / name
    path.write_bytes(b"\n".join(dirty))
    os.utime(path, (os.stat(FIXTURES / name).st_mtime,) * 2)
    log = analyze_paths([str(path)], naive_tz="UTC").sets[0]
    assert log.garbage == clean.garbage + len([j for j in junk if j.strip() or "access" in name])
    assert log.events == clean.events
    assert log.severity_counts == clean.severity_counts


def test_syslog_without_year_across_new_year(fixture_copy):
    # rsyslog wrote these lines around midnight; the file was last written on 1 January 2027.
    new_year = datetime(2027, 1, 1, 0, 5, tzinfo=timezone.utc).timestamp()
    path = fixture_copy("syslog-newyear.log", mtime=new_year)
    log = analyze_paths([str(path)], naive_tz="UTC").sets[0]
    assert log.first_event == utc(2026, 12, 31, 23, 58, 1)
    assert log.last_event == utc(2027, 1, 1, 0, 2, 4)
    oom = next(fp for fp in log.fingerprints if "Out of memory" in fp.template)
    assert (oom.severity, oom.first_seen) == ("crit", utc(2027, 1, 1, 0, 0, 5))
    failed = next(fp for fp in log.fingerprints if "Failed password" in fp.template
                  and fp.example.find("oracle") > 0)
    assert failed.first_seen == utc(2026, 12, 31, 23, 59, 31)
    minutes = [b.start for b in log.per_minute]
    assert minutes == sorted(minutes) and minutes[0].year == 2026 and minutes[-1].year == 2027


def test_naive_zone_is_applied_and_recorded():
    result = analyze_paths([str(FIXTURES / "nginx-error.log")], naive_tz="+02:00")
    assert result.naive_tz == "+02:00"
    assert result.sets[0].first_event == utc(2026, 11, 25, 7, 3, 24)


def test_rotated_and_gzipped_files_are_read_in_time_order(tmp_path):
    lines = (FIXTURES / "nginx-access-combined.log").read_text().splitlines(keepends=True)
    # oldest part in access.log.2.gz, then access.log.1, newest in access.log
    with gzip.open(tmp_path / "access.log.2.gz", "wt") as handle:
        handle.writelines(lines[:8])
    (tmp_path / "access.log.1").write_text("".join(lines[8:15]))
    (tmp_path / "access.log").write_text("".join(lines[15:]))
    paths = [str(tmp_path / n) for n in ("access.log", "access.log.1", "access.log.2.gz")]
    assert log_sets(paths) == [(str(tmp_path / "access.log"),
                                [paths[2], paths[1], paths[0]])]
    log = analyze_paths(paths).sets[0]
    whole = analyze_paths([str(FIXTURES / "nginx-access-combined.log")]).sets[0]
    assert [f.path for f in log.files] == [paths[2], paths[1], paths[0]]
    assert [f.lines for f in log.files] == [8, 7, 7]
    assert (log.lines, log.access) == (whole.lines, whole.access)
    assert log.fingerprints == whole.fingerprints
    assert log.files[0].bytes_read == sum(len(line.encode()) for line in lines[:8])


@pytest.mark.parametrize("names,expected", [
    (["x/error.log", "x/error.log-20240102.gz", "x/error.log-20240101"],
     ["x/error.log-20240101", "x/error.log-20240102.gz", "x/error.log"]),
    (["c/catalina.2024-01-02.log", "c/catalina.2024-01-01.log"],
     ["c/catalina.2024-01-01.log", "c/catalina.2024-01-02.log"]),
    (["a.log.10.gz", "a.log.9.gz", "a.log"], ["a.log.10.gz", "a.log.9.gz", "a.log"]),
])
def test_rotation_order(names, expected):
    assert [files for _, files in log_sets(names)] == [expected]


def test_files_older_than_the_window_are_skipped_unread(fixture_copy):
    old = fixture_copy("nginx-access-combined.log", "access.log.1",
                       mtime=datetime(2026, 11, 24, tzinfo=timezone.utc).timestamp())
    new = fixture_copy("nginx-access-combined.log", "access.log")
    log = analyze_paths([str(new), str(old)], since="2026-11-25T00:00:00Z").sets[0]
    assert [(f.path, f.skipped) for f in log.files] == [(str(old), True), (str(new), False)]
    assert log.access.requests == 22


def test_a_missing_file_is_a_note_not_a_crash(tmp_path):
    result = analyze_paths([str(tmp_path / "gone.log")])
    assert result.sets[0].files[0].error
    assert "cannot read" in result.notes[0]


def test_concatenated_gzip_members_and_a_missing_last_newline(tmp_path):
    text = (FIXTURES / "nginx-error.log").read_bytes()
    cut = text.index(b"\n", len(text) // 2) + 1
    path = tmp_path / "error.log.1.gz"
    path.write_bytes(gzip.compress(text[:cut]) + gzip.compress(text[cut:].rstrip(b"\n")))
    log = analyze_paths([str(path)], naive_tz="UTC").sets[0]
    whole = analyze_paths([str(FIXTURES / "nginx-error.log")], naive_tz="UTC").sets[0]
    assert (log.format, log.lines, log.events) == ("nginx-error", whole.lines, whole.events)
    assert log.fingerprints == whole.fingerprints
