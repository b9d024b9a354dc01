"""What goes wrong in the on-call night, done for real to the lab's hosts and service stack.

- ``database_errors``: logins PostgreSQL refuses (a role that does not exist), so db1's log
  has FATAL lines before anything else goes wrong;
- ``hang_shop``: the app's only worker blocks (``LabStack.hang_app``) and shop requests run
  into nginx's proxy timeout, so web1 answers 504 and logs "upstream timed out";
- ``full_shop_log_mount``: the shop application's log directory on web1 is a small ext4
  filesystem, filled with the current log and three weeks of rotated ones to over 90 %.

Every lab host shares this machine's mount table and ignores what lies under /tmp (see
``tests.lab.night``); ``judge_shop_mount`` names web1's small filesystem as web1's disk.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import yaml

from tests.support.loglab import small_mount
from tests.lab.services import LabStack, http_get

#: Size of web1's shop log filesystem, and what lies on it before the night.
SHOP_MOUNT_KIB = 16 * 1024
ROTATED = 24
ROTATED_BYTES = 600_000


def database_errors(stack: LabStack, count: int = 3) -> None:
    """Logins with a role PostgreSQL does not know: FATAL lines in db1's log."""
    for _ in range(count):
        subprocess.run(["psql", "-h", stack.db.address, "-p", "5432", "-U", "shop_reader", "-d", "postgres",
                        "-c", "select 1"], capture_output=True, timeout=10, check=False,
                       env={**os.environ, "PGCONNECT_TIMEOUT": "3"})


def exhaust_db_slots(stack: LabStack, most: int = 60) -> int:
    """The shop leaks database connections: each /leak leaves one idle in the app's worker, until
    PostgreSQL has no slot left for the shop's role and /health answers 503. Returns how many.

    A /leak starts its psql and answers at once, so a 503 may come while leaked logins are still
    under way and hold a slot they then lose (refused, they exit): the slots count as used up
    only once every leaked psql that lives is an idle session and /health still answers 503."""
    leak = stack.urls["app"].replace("/health", "/leak")
    for count in range(1, most + 1):
        assert http_get(leak, 5.0)[0] == 200
        if count >= 10 and http_get(stack.urls["app"], 5.0)[0] == 503:
            _settle_leaks(stack)
            if http_get(stack.urls["app"], 5.0)[0] == 503:
                return count
    raise AssertionError(f"PostgreSQL still takes the shop's connections after {most} leaked ones")


def _settle_leaks(stack: LabStack, timeout: float = 20.0) -> None:
    """Wait until each leaked psql still alive holds an idle session (none is logging in)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = sum(1 for p in psutil.process_iter(["name", "cmdline", "status"])
                    if p.info["name"] == "psql" and p.info["status"] != psutil.STATUS_ZOMBIE
                    and "-U" in (cmd := p.info["cmdline"] or []) and "shop" in cmd and "-tAc" not in cmd)
        idle = subprocess.run(["psql", "-h", stack.db.address, "-p", "5432", "-U", "postgres", "-d", "postgres",
                               "-tAc", "select count(*) from pg_stat_activity where usename = 'shop' and state = 'idle'"],
                              capture_output=True, text=True, timeout=10, check=False).stdout.strip()
        if idle == str(alive):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"leaked logins still under way after {timeout:.0f}s: {alive} psql, {idle} idle sessions")
        time.sleep(0.2)


def hang_shop(stack: LabStack, requests: int = 2) -> None:
    """Block the app's worker, then let shop visitors run into nginx's timeout (504)."""
    stack.hang_app()
    visitors = [threading.Thread(target=http_get, args=(stack.urls["web"], 15.0)) for _ in range(requests)]
    for visitor in visitors:
        visitor.start()
    for visitor in visitors:
        visitor.join()


@contextmanager
def full_shop_log_mount(web_root: Path) -> Iterator[Path]:
    """web1's var/log/shop as a small filesystem over 90 % full of shop logs; removed after."""
    where = web_root / "var/log/shop"
    with small_mount(where, SHOP_MOUNT_KIB):
        now = time.time()
        lines = "".join(f"2026-12-03 01:{m % 60:02d}:00 INFO order {m} accepted\n" for m in range(4000))
        (where / "shop.log").write_text(lines)
        for i in range(1, ROTATED + 1):
            rotated = where / f"shop.log.{i}.gz"
            with gzip.open(rotated, "wb", compresslevel=1) as out:
                out.write(os.urandom(ROTATED_BYTES))  # compressed logs do not compress further
            os.utime(rotated, (now - i * 86400, now - i * 86400))
        yield where


def used_percent(path: Path) -> float:
    """How full the filesystem at ``path`` is, as df counts it."""
    st = os.statvfs(path)
    return 100.0 * (st.f_blocks - st.f_bfree) / (st.f_blocks - st.f_bfree + st.f_bavail)


def judge_shop_mount(inventory: Path, mount: Path) -> None:
    """Make web1's small filesystem at ``mount`` one of web1's disks in the shop's inventory
    (the lab's hosts ignore what lies under /tmp unless a host names it)."""
    document = yaml.safe_load(inventory.read_text())
    web1 = document["hosts"]["web1"].setdefault("vars", {})
    web1["disk_thresholds"] = {str(mount): {"warn": 80, "crit": 90}}
    header = "".join(line for line in inventory.read_text().splitlines(keepends=True) if line.startswith("#"))
    inventory.write_text(header + yaml.safe_dump(document, sort_keys=False, default_flow_style=None, width=120))


def shop_answers(stack: LabStack) -> bool:
    """Whether the shop's front page answers as its customers expect."""
    return http_get(stack.urls["web"], 5.0)[0] == 200


__all__ = ["database_errors", "full_shop_log_mount", "hang_shop", "judge_shop_mount", "shop_answers",
           "used_percent"]
