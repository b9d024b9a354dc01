"""Headless Chromium (Debian's package) as the browser a customer opens a report in."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

CSP = re.compile(r'<meta http-equiv="Content-Security-Policy"[^>]*>')


def find_chromium() -> str | None:
    """Debian's chromium, if installed. Tests that run it take the ``chromium`` fixture
    (tests/conftest.py), which skips without it and marks the test ``chromium``."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_dom(chromium: str, page: Path, profile: Path) -> str:
    """The DOM after load, as headless Chromium sees it (scripts, if any, have run)."""
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def title_of(dom: str) -> str:
    """The page's <title>."""
    match = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert match, dom[:500]
    return match.group(1)
