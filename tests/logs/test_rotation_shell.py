"""The rotation's fact and commands on this machine, through LocalConnection: hostile file
names, what the fact reports, and that failures stop cleanly and lose nothing."""

from __future__ import annotations

import gzip
import os
from datetime import datetime
from pathlib import Path

import pytest

from runbook.connection.base import CommandResult
from runbook.connection.local import LocalConnection
from runbook.errors import CommandFailed
from runbook.logs.rotation import (
    Compress,
    Copy,
    Create,
    LogFileState,
    Operation,
    RotationOptions,
    apply_plan,
    format_date,
    operation_command,
    plan_rotation,
    read_log_state,
    state_command,
)

HOSTILE_NAMES = [
    "-rf $(touch pwned) `touch pwned2` 'q\" x.log",
    "new\nline.log",
    "glob[1]*?.log",
    " lead; space & amp.log",
    "--help",
]


def tree(root: Path, *, skip: Path | None = None) -> dict[str, bytes | str]:
    """Every path under root with its content (or link target), optionally without a subtree."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_symlink():
            found[str(path)] = "-> " + os.readlink(path)
        elif path.is_file():
            found[str(path)] = path.read_bytes()
        else:
            found[str(path)] = "dir"
    return found


def content(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def rotate(path: Path, opts: RotationOptions, now: datetime | None = None) -> list[str]:
    conn = LocalConnection()
    log, siblings = read_log_state(conn, str(path), timeout=10)
    plan = plan_rotation(log, siblings, opts, now or datetime.now(), force=True)
    apply_plan(conn, plan, timeout=30)
    return plan.sentences


@pytest.fixture()
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory and a neighbour directory that no rotation may touch."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    (tmp_path / "neighbour").mkdir()
    (tmp_path / "neighbour" / "keep.log").write_text("not mine\n")
    (tmp_path / "logs").mkdir()
    return tmp_path


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
@pytest.mark.parametrize("opts, kept", [
    (RotationOptions(rotate=2, compress=True, delaycompress=True,
                     postrotate='printf "%s|%s" "$1" "$2" > "$1.args"'), (".1", ".2.gz")),
    (RotationOptions(rotate=2, copytruncate=True, compress=True), (".1.gz", ".2.gz")),
], ids=["delaycompress+postrotate", "copytruncate+compress"])
def test_hostile_names_rotate_and_nothing_else_changes(outside: Path, name: str,
                                                       opts: RotationOptions,
                                                       kept: tuple[str, str]) -> None:
    logs = outside / "logs"
    live = logs / name
    before = tree(outside, skip=logs)
    for line in ("first\n", "second\n", "third\n"):
        live.write_text(line) if not live.exists() else live.open("a").write(line)
        sentences = rotate(live, opts)
        assert all("\n" not in s for s in sentences)
    names = sorted(p.name for p in logs.iterdir())
    extra = [f"{name}.args"] if opts.postrotate else []
    assert names == sorted([name, name + kept[0], name + kept[1], *extra])
    assert live.read_bytes() == b""
    assert content(logs / (name + kept[0])) == b"third\n"
    assert content(logs / (name + kept[1])) == b"second\n"
    if opts.postrotate:
        assert (logs / f"{name}.args").read_text() == f"{live}|{live}.1"
    assert tree(outside, skip=logs) == before
    assert not list(outside.rglob("pwned*"))


def test_hostile_name_with_dateext(outside: Path) -> None:
    live = outside / "logs" / HOSTILE_NAMES[0]
    live.write_text("dated\n")
    now = datetime.now()
    rotate(live, RotationOptions(rotate=1, dateext=True, compress=True), now)
    rotated = outside / "logs" / (live.name + format_date("-%Y%m%d", now) + ".gz")
    assert content(rotated) == b"dated\n"
    assert sorted(p.name for p in (outside / "logs").iterdir()) == sorted([live.name,
                                                                           rotated.name])


# --- the fact --------------------------------------------------------------------------------

def test_state_reports_the_log_and_its_siblings(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    live = logs / "app.log"
    live.write_text("12345")
    live.chmod(0o640)
    for name in ("app.log.1", "app.log.2.gz", "app.log-20240101", "app.log\nodd", "other.log",
                 "xapp.log"):
        (logs / name).write_text("x")
    (logs / "app.log.3").symlink_to("/etc/passwd")
    (logs / "app.log.d").mkdir()
    log, siblings = read_log_state(LocalConnection(), str(live), timeout=10)
    st = live.stat()
    assert log == LogFileState(str(live), True, size=5, mtime=log.mtime, mode=0o640,
                               uid=st.st_uid, gid=st.st_gid, kind="file", nlink=1)
    assert abs(log.mtime - st.st_mtime) < 0.001
    assert [(f.name, f.kind) for f in siblings] == sorted([
        ("app.log-20240101", "file"), ("app.log.1", "file"), ("app.log.2.gz", "file"),
        ("app.log.3", "symlink"), ("app.log.d", "directory"), ("app.log\nodd", "file")])


def test_state_of_odd_and_missing_places(tmp_path: Path) -> None:
    conn = LocalConnection()
    real = tmp_path / "real"
    real.mkdir()
    (real / "a[1].log").write_text("x")
    (real / "a[1].log.1").write_text("x")
    (real / "a1.log.1").write_text("x")
    (tmp_path / "link").symlink_to(real)
    log, siblings = read_log_state(conn, str(tmp_path / "link" / "a[1].log"), timeout=10)
    assert log.exists and [f.name for f in siblings] == ["a[1].log.1"]
    log, siblings = read_log_state(conn, str(tmp_path / "nowhere" / "a.log"), timeout=10)
    assert (log.exists, siblings) == (False, [])
    os.link(real / "a[1].log", tmp_path / "hard")
    log, _ = read_log_state(conn, str(real / "a[1].log"), timeout=10)
    assert log.nlink == 2
    assert "hard links" in (plan_rotation(log, [], RotationOptions(rotate=1), datetime.now(),
                                          True).skipped or "")


def test_state_command_quotes_the_path() -> None:
    line = state_command("/var/log/$(reboot)/a'b.log")
    assert "'/var/log/$(reboot)'" in line and "-name 'a'\"'\"'b.log*'" in line


# --- failures stop cleanly -----------------------------------------------------------------

def test_failed_compression_keeps_the_original_and_stops(tmp_path: Path) -> None:
    live = tmp_path / "app.log"
    live.write_text("live\n")
    (tmp_path / "app.log.1").write_text("yesterday\n")
    before = tree(tmp_path)
    opts = RotationOptions(rotate=2, compress=True, delaycompress=True, compresscmd="false")
    with pytest.raises(CommandFailed):
        rotate(live, opts)
    assert tree(tmp_path) == before  # no temp file, no rename after the failed step


def test_compression_into_a_directory_fails_without_loss(tmp_path: Path) -> None:
    (tmp_path / "app.log.1").write_text("yesterday\n")
    (tmp_path / "app.log.1.gz").mkdir()
    conn = LocalConnection()
    result = conn.run(operation_command(Compress(str(tmp_path / "app.log.1"))), timeout=10)
    assert result.exit_code != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log.1", "app.log.1.gz"]
    assert (tmp_path / "app.log.1").read_text() == "yesterday\n"


def test_postrotate_failure_stops_before_compress_and_removal(tmp_path: Path) -> None:
    live = tmp_path / "app.log"
    live.write_text("live\n")
    (tmp_path / "app.log.1.gz").write_bytes(gzip.compress(b"old\n"))
    seen: list[Operation] = []
    conn = LocalConnection()
    log, siblings = read_log_state(conn, str(live), timeout=10)
    opts = RotationOptions(rotate=1, compress=True, postrotate="exit 3")
    plan = plan_rotation(log, siblings, opts, datetime.now(), force=True)

    def record(op: Operation, result: CommandResult) -> None:
        seen.append(op)

    with pytest.raises(CommandFailed) as caught:
        apply_plan(conn, plan, timeout=10, on_step=record)
    assert caught.value.exit_code == 3
    assert [type(op).__name__ for op in seen] == ["Rename", "Rename", "Create"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.log", "app.log.1", "app.log.2.gz"]


def test_new_files_never_overwrite_or_follow_links(tmp_path: Path) -> None:
    (tmp_path / "app.log").write_text("live\n")
    (tmp_path / "app.log.1").write_text("precious\n")
    (tmp_path / "target").write_text("outside\n")
    (tmp_path / "new.log").symlink_to(tmp_path / "target")
    conn = LocalConnection()
    copy = Copy(str(tmp_path / "app.log"), str(tmp_path / "app.log.1"))
    create = Create(str(tmp_path / "new.log"), 0o600, "0", "0")
    for op in (copy, create):
        assert conn.run(operation_command(op), timeout=10).exit_code != 0
    assert (tmp_path / "app.log.1").read_text() == "precious\n"
    assert (tmp_path / "target").read_text() == "outside\n"
    assert (tmp_path / "app.log").read_text() == "live\n"
