"""The log files fact: name classification (pure), and the real listing command run on this
machine against a real tree (open files held by a real process, a symlinked directory,
hostile names)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from runbook.connection.local import LocalConnection
from runbook.facts.batch import new_nonce
from runbook.logs.files import classify, live_names, logfiles_command, parse_logfiles
from runbook.logs.sets import LogSet, glob_base


@pytest.mark.parametrize(("name", "live", "expected"), [
    ("access.log", {"access.log"}, (False, False, "access.log")),
    ("access.log.1", {"access.log"}, (True, False, "access.log")),
    ("access.log.2.gz", {"access.log"}, (True, True, "access.log")),
    ("access.log-20250101", {"access.log"}, (True, False, "access.log")),
    ("access.log-20250101.gz", {"access.log"}, (True, True, "access.log")),
    ("access.log-2025010113.xz", {"access.log"}, (True, True, "access.log")),
    ("access_log-20250101", {"access_log"}, (True, False, "access_log")),
    ("error.log.1", set(), (True, False, "error.log")),
    ("catalina.2025-01-01.log", set(), (True, False, "catalina.log")),
    ("localhost_access_log.2025-01-02.txt", set(), (True, False, "localhost_access_log.txt")),
    ("postgresql-15-main.log", {"postgresql-15-main.log"}, (False, False, "postgresql-15-main.log")),
    ("postgresql-15-main.log.3.gz", {"postgresql-15-main.log"}, (True, True, "postgresql-15-main.log")),
    ("mysqld.log", set(), (False, False, "mysqld.log")),
    ("old.log.gz", set(), (True, True, "old.log")),
])
def test_classify(name: str, live: set[str], expected: tuple[bool, bool, str]) -> None:
    assert classify(name, live) == expected


def test_live_names_keep_only_the_logs_being_written() -> None:
    names = {"access.log", "access.log.1", "access.log.1.gz", "catalina.out", "catalina.2025-01-01.log"}
    assert live_names(names) == {"access.log", "catalina.out"}


@pytest.mark.parametrize(("glob", "base", "depth"), [
    ("/var/log/nginx/*.log", "/var/log/nginx", 1),
    ("/var/log/tomcat*/catalina.out", "/var/log", 2),
    ("/var/lib/pgsql/*/data/log/*.log", "/var/lib/pgsql", 4),
    ("/var/log/mysqld.log", "/var/log", 1),
])
def test_glob_base(glob: str, base: str, depth: int) -> None:
    assert glob_base(glob) == (base, depth)


def test_listing_on_this_machine(tmp_path: Path) -> None:
    nginx = tmp_path / "var/log/nginx"
    nginx.mkdir(parents=True)
    for name in ("access.log", "access.log.1", "access.log.2.gz", "error.log", "unrelated.txt",
                 "new\nline-access.log", "$(touch x) access.log", "-rf-access.log",
                 ".access.log.1.gz.runbook-tmp"):
        (nginx / name).write_text("x\n")
    tomcat = tmp_path / "var/log/tomcat9"
    tomcat.mkdir(parents=True)
    (tomcat / "catalina.out").write_text("boot\n")
    (tomcat / "catalina.2025-01-01.log").write_text("old\n")
    elsewhere = tmp_path / "data/app"
    elsewhere.mkdir(parents=True)
    (elsewhere / "app.log").write_text("y\n")
    (tmp_path / "var/log/app").symlink_to(elsewhere)
    sets = [LogSet("nginx-access", (f"{nginx}/*access*.log",)),
            LogSet("tomcat", (f"{tmp_path}/var/log/tomcat*/catalina.out", f"{tmp_path}/var/log/tomcat*/catalina.*.log")),
            LogSet("app", (f"{tmp_path}/var/log/app/*.log",))]
    with open(nginx / "access.log.1", "rb") as held:
        holder = subprocess.Popen(["sleep", "30"], stdin=held)
    try:
        nonce = new_nonce()
        result = LocalConnection().run(logfiles_command(sets, nonce))
        files = {f.path: f for f in parse_logfiles(result.stdout, sets, nonce)}
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 0, result.stderr
    expected = {str(nginx / n) for n in ("access.log", "access.log.1", "access.log.2.gz", "new\nline-access.log",
                                          "$(touch x) access.log", "-rf-access.log")}
    expected |= {str(tomcat / "catalina.out"), str(tomcat / "catalina.2025-01-01.log"),
                 str(tmp_path / "var/log/app/app.log")}
    assert set(files) == expected
    one = files[str(nginx / "access.log.1")]
    assert one.rotated and not one.compressed and one.log == str(nginx / "access.log")
    assert holder.pid in one.open_by and not files[str(nginx / "access.log")].open_by
    assert files[str(nginx / "access.log.2.gz")].compressed
    assert one.inode == os.stat(nginx / "access.log.1").st_ino and one.size == 2
    assert files[str(tomcat / "catalina.2025-01-01.log")].rotated
    assert not files[str(tomcat / "catalina.out")].rotated
    assert files[str(tmp_path / "var/log/app/app.log")].symlinked
    assert not one.symlinked and one.mount is not None
    assert not (nginx / "x").exists() and not Path("x").exists()
