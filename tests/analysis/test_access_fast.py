"""The chunked fast path must count exactly what a line-by-line reading counts."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from runbook.analysis import analyze_paths
from runbook.analysis.access import AccessScanner
from runbook.analysis.clock import Clock

LINE = re.compile(r'^(\S+) \S+ \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d):\d\d [+-]\d{4}\] '
                  r'"(?:[^"\\]|\\.)*" (\d{3}) ')


def make_log(path, seed: int, lines: int = 6000) -> None:
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        minute, second = divmod(i // 10, 60)
        status = rng.choice([200] * 20 + [301, 404, 404, 500, 502, 503])
        request = rng.choice(['GET /p/%d HTTP/1.1' % rng.randint(1, 50),
                              'GET /q?x=\\"y\\" HTTP/1.1',
                              'POST /api/orders HTTP/1.1'])
        out.append('10.0.%d.%d - - [02/Jan/2024:03:%02d:%02d +0000] "%s" %d 99 "-" "ua/%d"'
                   % (rng.randint(0, 3), rng.randint(1, 9), minute, second, request, status, i))
        if rng.random() < 0.004:
            out.append(rng.choice(["", "garbage", '1.2.3.4 - - [broken', "\x00\x01",
                                   '1.2.3.4 - - [02/Jan/2024:03:00:00 +0000] "GET / HTTP/1.1"']))
    path.write_text("\n".join(out) + "\n")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fast_path_matches_a_line_by_line_count(tmp_path, seed, monkeypatch):
    path = tmp_path / "access.log"
    make_log(path, seed)
    expected = Counter()
    per_minute = Counter()
    clients_5xx = Counter()
    garbage = 0
    for line in path.read_text().split("\n")[:-1]:
        match = LINE.match(line)
        if not match:
            garbage += 1
            continue
        expected[match.group(3)] += 1
        per_minute[(match.group(2)[-5:], match.group(3)[0] + "xx")] += 1
        if match.group(3).startswith("5"):
            clients_5xx[match.group(1)] += 1
    # Small pieces so a single file exercises chunking and the bisection around bad lines.
    monkeypatch.setattr("runbook.analysis.access._PIECE", 2048)
    monkeypatch.setattr("runbook.analysis.sources.CHUNK", 64 * 1024)
    for since in (None, "2000-01-01T00:00:00Z"):
        log = analyze_paths([str(path)], since=since, top=100).sets[0]
        assert log.garbage == garbage
        assert log.access.statuses == dict(expected)
        got = Counter({(b.start.strftime("%H:%M"), k): n
                       for b in log.access.per_minute for k, n in b.counts.items()})
        assert got == per_minute
        assert {r.key: r.count for r in log.access.top_clients_5xx} == dict(clients_5xx)


def test_scanner_reports_lines_and_garbage_per_chunk():
    scanner = AccessScanner(Clock("UTC"), (None, None), None, None, 10, 1.0, None)
    chunk = (b'1.2.3.4 - - [02/Jan/2024:03:04:05 +0000] "GET / HTTP/1.1" 200 5 "-" "-"\n'
             b'not an access line\n'
             b'1.2.3.4 - - [02/Jan/2024:03:04:06 +0000] "GET /x HTTP/1.1" 503 5 "-" "-"\n')
    assert scanner.feed(chunk) == (3, 1)
    result = scanner.result("t", "access", ())
    assert result.access.statuses == {"200": 1, "503": 1}
    assert [fp.template for fp in result.fingerprints] == ["503 GET /x"]
