"""Benchmark: ``logs.archive`` against OpenSSH ``ssh HOST tar czf - FILES > out.tgz``.

    python bench/archive.py [--mib 500] [--runs 3] [--level 1] [--data DIR]

Starts its own one-host lab (real sshd on loopback, subnet 127.0.91 unless
RUNBOOK_BENCH_SUBNET says otherwise), generates ~500 MiB of deterministic, realistic log files
once (nginx access and error logs, a Java log; cached in DIR, default
/tmp/runbook-bench-logs), then times both ways of fetching the same files, median of
``--runs``, and prints MiB/s (of log bytes archived) for both and the ratio. The target is
ours >= 0.5x OpenSSH.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runbook.connection import ssh as ssh_module
from tests.support.loglab import run_steps
from tests.lab import Lab

VERSION = "2"
FILES = (("var/log/nginx/access.log", 0.45), ("var/log/nginx/access.log.1", 0.25),
         ("var/log/nginx/error.log", 0.05), ("var/log/nginx/error.log.1", 0.05),
         ("var/log/app/shop.log", 0.15), ("var/log/app/shop.log.1", 0.05))
PATHS = ("/", "/shop/", "/shop/cart", "/shop/item/", "/api/v1/orders", "/api/v1/stock", "/static/app.js",
         "/static/style.css", "/login", "/checkout", "/search?q=")
AGENTS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "curl/8.4.0", "Googlebot/2.1 (+http://www.google.com/bot.html)", "Prometheus/2.48.0")


def access_line(rng: random.Random, t: int) -> str:
    # Clients and items repeat, as on a real shop: a few thousand visitors, a catalogue of 5000.
    path = rng.choice(PATHS) + (str(rng.randrange(5000)) if rng.random() < 0.5 else "")
    status = rng.choices((200, 304, 404, 500, 302), (80, 8, 6, 2, 4))[0]
    client = rng.randrange(3000)
    return (f"{10 + client % 200}.{client // 200}.{client % 7}.{client % 251} - - "
            f"[{time.strftime('%d/%b/%Y:%H:%M:%S', time.gmtime(t))} +0000] \"GET {path} HTTP/1.1\" {status} "
            f"{rng.randrange(200, 90000)} \"-\" \"{rng.choice(AGENTS)}\" rt={rng.random():.3f}\n")


def app_line(rng: random.Random, t: int) -> str:
    level = rng.choices(("INFO", "WARN", "ERROR", "DEBUG"), (70, 15, 5, 10))[0]
    text = (f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t))},{rng.randrange(1000):03d} {level} "
            f"[http-nio-8080-exec-{rng.randrange(1, 200)}] de.shop.{rng.choice(('Cart', 'Order', 'Stock'))}"
            f"Service - request {rng.randrange(10**6)} took {rng.randrange(2, 4000)} ms\n")
    if level == "ERROR":
        text += "java.lang.IllegalStateException: stock mismatch\n\tat de.shop.StockService.reserve(StockService.java:88)\n"
    return text


def generate(root: Path, total_mib: int) -> list[str]:
    """Deterministic log files below root (generated once, reused while the marker fits)."""
    marker = root / f".complete-{VERSION}-{total_mib}"
    paths = [str(root / rel) for rel, _ in FILES]
    if marker.exists():
        return paths
    rng = random.Random(4)
    # Unique lines well beyond gzip's 32 KiB window, repeated to size: as compressible as real logs.
    pool_access = "".join(access_line(rng, 1_764_000_000 + i) for i in range(60_000)).encode()
    pool_app = "".join(app_line(rng, 1_764_000_000 + i) for i in range(60_000)).encode()
    for rel, share in FILES:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pool = pool_app if "app" in rel else pool_access
        want = int(total_mib * share * 1024 * 1024)
        with open(path, "wb") as fh:
            offset = rng.randrange(len(pool))
            while want > 0:
                piece = pool[offset:offset + want]
                fh.write(piece)
                want -= len(piece)
                offset = 0
    marker.write_text("ok\n")
    return paths


def time_ours(inventory: Path, runs_dir: Path, level: int) -> tuple[float, int]:
    began = time.monotonic()
    result, events = run_steps(inventory, [{"action": "logs.archive", "params": {"level": level}}], runs_dir)
    seconds = time.monotonic() - began
    outcome = result.outcomes[-1]
    if outcome.outcome != "changed" or "NOT verified" in outcome.message:
        raise SystemExit(f"logs.archive failed: {outcome.message}")
    artifact = next(e for e in events if e["event"] == "artifact")
    return seconds, int(artifact["bytes"])


def time_openssh(lab: Lab, paths: list[str], out: Path) -> tuple[float, int]:
    command = "tar czf - -C / " + " ".join(p.lstrip("/") for p in paths)
    began = time.monotonic()
    with open(out, "wb") as fh:
        subprocess.run([*lab.ssh_argv("web1"), command], stdout=fh, check=True)
    return time.monotonic() - began, out.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--level", type=int, default=1)
    parser.add_argument("--data", default=os.path.join(tempfile.gettempdir(), "runbook-bench-logs"))
    args = parser.parse_args()
    data = Path(args.data)
    began = time.monotonic()
    paths = generate(data, args.mib)
    raw = sum(os.path.getsize(p) for p in paths)
    print(f"data: {len(paths)} files, {raw / 2**20:.0f} MiB in {data} ({time.monotonic() - began:.1f}s)")
    with tempfile.TemporaryDirectory(prefix="runbook-bench-") as tmp, \
            Lab(Path(tmp) / "lab", ("web1",), subnet=os.environ.get("RUNBOOK_BENCH_SUBNET", "127.0.91")) as lab:
        inventory = lab.write_inventory(Path(tmp) / "inventory.yml", include_bad=False,
                                        extra_vars={"log_root": str(data), "log_set_defaults": False,
                                                    "log_sets": {"bench": {"globs": ["var/log/nginx/*.log",
                                                                                     "var/log/app/*.log"]}}})
        ours, theirs = [], []
        for i in range(args.runs):
            seconds, size = time_ours(inventory, Path(tmp) / "runs", args.level)
            ours.append((seconds, size))
            seconds_o, size_o = time_openssh(lab, paths, Path(tmp) / "openssh.tgz")
            theirs.append((seconds_o, size_o))
            print(f"run {i + 1}: ours {seconds:.2f}s ({size / 2**20:.1f} MiB), "
                  f"openssh {seconds_o:.2f}s ({size_o / 2**20:.1f} MiB)")
    mib = raw / 2**20
    ours_s = statistics.median(s for s, _ in ours)
    theirs_s = statistics.median(s for s, _ in theirs)
    print(f"\n{'':12}{'MiB/s':>10}{'median s':>10}{'archive MiB':>13}")
    print(f"{'logs.archive':12}{mib / ours_s:>10.1f}{ours_s:>10.2f}{ours[0][1] / 2**20:>13.1f}")
    print(f"{'openssh tar':12}{mib / theirs_s:>10.1f}{theirs_s:>10.2f}{theirs[0][1] / 2**20:>13.1f}")
    print(f"ratio ours/openssh: {theirs_s / ours_s:.2f}x  (gzip level {args.level}, "
          f"paramiko window {ssh_module.WINDOW_SIZE // 2**20} MiB, packet {ssh_module.MAX_PACKET} B)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
