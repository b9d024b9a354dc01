"""Benchmark of runbook.analysis on an nginx combined access log (issue 7's speed targets).

    python bench/analyze.py [--lines 3000000] [--keep DIR]

Generates a realistic combined log (deterministic seed: a Zipf-ish client mix, static and API
paths with ids, bots, a 5xx burst) in a temp dir, then measures in the same run:

- our whole-file analysis (a child process, interpreter start-up included) vs
  ``awk '{c[$9]++}'``, median of 3 each: lines/s and the ratio (target >= 0.3 and
  >= 500,000 lines/s); the CPU-time ratio is printed too, because on a shared machine the
  wall-clock one moves with the neighbours' load;
- peak RSS of the analysing process (resource.getrusage in the child);
- gzip input: analysis of a .gz vs analysis of the same lines uncompressed, and vs
  decompression alone. A forked child inflates while the parent parses (see
  ``runbook/analysis/sidecar.py``), so the .gz should cost about what the plain file does:
  the time is that of the slower of the two stages, parsing or inflating;
- remote mode: the JSON bytes the remote command prints vs the log bytes it read (<= 1%).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from runbook.analysis.remote import bundle, remote_command  # noqa: E402

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
    "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0", "python-requests/2.31.0",
)
PATHS = ("/", "/index.html", "/static/app.%d.js", "/static/style.css", "/img/p/%d.jpg",
         "/api/orders/%d", "/api/users/%d/cart", "/product/%d", "/search?q=shoes&page=%d",
         "/checkout", "/favicon.ico", "/robots.txt")


def generate(path: str, lines: int, seed: int = 7) -> None:
    """Write ``lines`` combined-format lines, ~33 requests/s, with a 5xx burst in the middle."""
    rng = random.Random(seed)
    clients = ["%d.%d.%d.%d" % (rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255),
                                rng.randint(1, 254)) for _ in range(20000)]
    # A few thousand prepared request tails, so generation is not the bottleneck.
    tails = []
    for _ in range(5000):
        target = rng.choice(PATHS)
        if "%d" in target:
            target = target % rng.randint(1, 200000)
        method = "POST" if target.startswith("/api") and rng.random() < 0.3 else "GET"
        referer = rng.choice(('"-"', '"https://shop.example.com/"',
                              '"https://www.google.com/"'))
        tails.append((method, target, referer, '"%s"' % rng.choice(AGENTS)))
    start = 1704067200 + 2 * 3600  # 2024-01-01 02:00 UTC
    burst = (lines // 2, lines // 2 + lines // 50)
    with open(path, "w") as out:
        batch = []
        stamp_cache = {}
        for i in range(lines):
            second = start + i // 33
            stamp = stamp_cache.get(second)
            if stamp is None:
                t = time.gmtime(second)
                stamp = "%02d/%s/%d:%02d:%02d:%02d +0000" % (
                    t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec)
                stamp_cache = {second: stamp}
            r = rng.random()
            if burst[0] <= i < burst[1] and r < 0.3:
                status = 502
            else:
                status = (200 if r < 0.88 else 304 if r < 0.93 else 301 if r < 0.95 else
                          404 if r < 0.985 else 403 if r < 0.99 else 500 if r < 0.996 else 503)
            method, target, referer, agent = tails[int(rng.random() * 5000)]
            client = clients[int(20000 * rng.random() ** 3)]
            batch.append('%s - - [%s] "%s %s HTTP/1.1" %d %d %s %s\n' % (
                client, stamp, method, target, status, int(rng.random() * 60000), referer,
                agent))
            if len(batch) >= 50000:
                out.write("".join(batch))
                batch = []
        out.write("".join(batch))


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median_time(run: Callable[[], object], repeat: int = 3
                ) -> Tuple[float, List[object], float]:
    """(median wall seconds, results, median CPU seconds of the child processes)."""
    times, results, cpus = [], [], []
    for _ in range(repeat):
        began, cpu = time.perf_counter(), _child_cpu()
        results.append(run())
        times.append(time.perf_counter() - began)
        cpus.append(_child_cpu() - cpu)
    return statistics.median(times), results, statistics.median(cpus)


_CHILD = ("import resource, sys; from runbook.analysis import analyze_paths; "
          "analyze_paths(sys.argv[1:]); "
          "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + "
          "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def analyse_child(path: str) -> int:
    """Analyse in a fresh interpreter; returns its peak RSS in KiB, plus that of the forked
    decompressor for compressed input (an upper bound: they share pages)."""
    done = subprocess.run([sys.executable, "-c", _CHILD, path], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    return int(done.stdout.strip())


def awk_count(path: str) -> None:
    subprocess.run(["awk", "{c[$9]++} END {for (k in c) print k, c[k]}", path], check=True,
                   stdout=subprocess.DEVNULL)


def decompress(path: str) -> None:
    with gzip.open(path, "rb") as stream:
        while stream.read(8 << 20):
            pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000000)
    parser.add_argument("--gzip-lines", type=int, default=1000000)
    parser.add_argument("--keep", help="generate into this directory and keep the files")
    args = parser.parse_args()
    workdir = args.keep or tempfile.mkdtemp(prefix="runbook-bench-")
    os.makedirs(workdir, exist_ok=True)
    try:
        log = os.path.join(workdir, "access.log")
        began = time.perf_counter()
        generate(log, args.lines)
        size = os.path.getsize(log)
        print("generated %d lines, %.0f MiB in %.1fs (%s)" % (
            args.lines, size / 2**20, time.perf_counter() - began, log))

        ours, rss, ours_cpu = median_time(lambda: analyse_child(log))
        theirs, _, theirs_cpu = median_time(lambda: awk_count(log))
        small = os.path.join(workdir, "access-small.log.gz")
        small_plain = os.path.join(workdir, "access-small.log")
        with open(log, "rb") as src, gzip.open(small, "wb", compresslevel=6) as dst, \
                open(small_plain, "wb") as plain:
            for n, line in enumerate(src):
                if n >= args.gzip_lines:
                    break
                dst.write(line)
                plain.write(line)
        gz_ours, gz_rss, _ = median_time(lambda: analyse_child(small), 5)
        gz_same_plain, _, _ = median_time(lambda: analyse_child(small_plain), 5)
        gz_plain, _, _ = median_time(lambda: decompress(small), 5)

        payload = bundle()
        done = subprocess.run(["sh", "-c", remote_command([log])], input=payload,
                              capture_output=True, check=True)
        result = json.loads(done.stdout)
        read = sum(f["bytes_read"] for s in result["sets"] for f in s["files"])

        rows = [
            ("lines", "%d (%.0f MiB)" % (args.lines, size / 2**20)),
            ("runbook.analysis (median of 3)", "%.2fs = %.0f lines/s (%.0f per CPU second)" % (
                ours, args.lines / ours, args.lines / ours_cpu)),
            ("awk '{c[$9]++}' (median of 3)", "%.2fs = %.0f lines/s (%.0f per CPU second)" % (
                theirs, args.lines / theirs, args.lines / theirs_cpu)),
            ("ratio ours/awk (target >= 0.3)", "%.2f wall-clock, %.2f by CPU time" % (
                theirs / ours, theirs_cpu / ours_cpu)),
            ("peak RSS of the analysis", "%.0f MiB" % (max(rss) / 1024)),
            ("gzip: %d lines, analysis (median of 5)" % args.gzip_lines,
             "%.2fs = %.0f lines/s" % (gz_ours, args.gzip_lines / gz_ours)),
            ("gzip: same lines uncompressed", "%.2fs (.gz/plain %.2fx; 1.00 = inflating "
                                              "costs no time)" % (gz_same_plain,
                                                                  gz_ours / gz_same_plain)),
            ("gzip: peak RSS, parent + decompressor", "%.0f MiB" % (max(gz_rss) / 1024)),
            ("gzip: decompression alone", "%.2fs (.gz analysis - plain analysis = %.2fs)" % (
                gz_plain, gz_ours - gz_same_plain)),
            ("remote JSON vs log bytes read", "%d / %d = %.4f%% (target <= 1%%)" % (
                len(done.stdout), read, 100.0 * len(done.stdout) / read)),
        ]
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print("%-*s  %s" % (width, name, value))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
