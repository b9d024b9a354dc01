"""Finding the processes a command left behind (by a unique marker in their command line), and
waiting for a condition without a fixed sleep."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from typing import Any

import psutil

def unique_marker() -> str:
    """Digits for a unique ``sleep 300.<marker>`` that ``processes_with`` can find again."""
    return str(secrets.randbelow(10**8)).zfill(8)


def processes_with(marker: str) -> list[psutil.Process]:
    """Live (non-zombie) processes whose command line contains ``marker``, except this one."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if (proc.pid != os.getpid() and proc.info["status"] != psutil.STATUS_ZOMBIE
                    and marker in " ".join(proc.info["cmdline"] or ())):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def sleeps_with(marker: str) -> list[psutil.Process]:
    """The ``sleep`` processes (not their shells) carrying ``marker``."""
    return [p for p in processes_with(marker) if (p.info["cmdline"] or [""])[0].endswith("sleep")]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy; return its last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
