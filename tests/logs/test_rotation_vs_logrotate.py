"""The built-in rotation against Debian's real logrotate.

Each case builds two identical directories (a live log and earlier rotations with real
content), then for several rounds appends to the live log and rotates: one directory with
``logrotate [-f] -s STATE CONFIG`` (the config generated from the same options), the other
with our fact + planner + shell commands through a LocalConnection. After every round both
must hold the same names with the same (decompressed) contents, modes and owners.

The clock: logrotate reads the real clock, so dateext cases use a per-second dateformat, wait
for a fresh second, and hand our planner the time read just before logrotate ran (failing if
the second or hour changed while it ran, rather than guessing).
"""

from __future__ import annotations

import grp
import gzip
import os
import pwd
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from runbook.connection.local import LocalConnection
from runbook.errors import ActionError
from runbook.logs.rotation import (
    RotationOptions,
    RotationPlan,
    apply_plan,
    format_date,
    plan_rotation,
    read_log_state,
    show_path,
)

LOGROTATE = "/usr/sbin/logrotate"
LOG = "app.log"
SECONDS = "-%Y%m%d-%H%M%S"
HOSTILE = "-x $(touch pwned) it's.log"
NOBODY = pwd.getpwnam("nobody")
NOBODY_GROUP = grp.getgrgid(NOBODY.pw_gid).gr_name


@dataclass(frozen=True)
class Case:
    """One option combination: the starting directory and what is appended before each round
    (one entry per round; '' appends nothing)."""

    id: str
    options: RotationOptions
    before: dict[str, str] = field(default_factory=dict)
    live: str | None = "live line 1\nlive line 2\n"
    appends: tuple[str, ...] = ("", "round 2 line\n", "round 3 line\n")
    force: bool = True
    ages_days: dict[str, float] = field(default_factory=dict)
    live_mode: int = 0o644
    log_name: str = LOG


def _o(**kw: object) -> RotationOptions:
    return RotationOptions(**kw)  # type: ignore[arg-type]


def _plain(*numbers: int, name: str = LOG) -> dict[str, str]:
    return {f"{name}.{n}": f"old {n} line a\nold {n} line b\n" for n in numbers}


def _gz(*numbers: int, name: str = LOG) -> dict[str, str]:
    return {f"{name}.{n}.gz": f"older {n} compressed\n" for n in numbers}


def _dated(*stamps: str, ext: str = "") -> dict[str, str]:
    return {f"{LOG}{s}{ext}": f"dated {s}\n" for s in stamps}


CASES = [
    Case("rotate3", _o(rotate=3), {**_plain(1, 2, 3, 4), **_plain(9)}),
    Case("rotate2+compress", _o(rotate=2, compress=True), _gz(1, 2, 3)),
    Case("compress+delaycompress", _o(rotate=3, compress=True, delaycompress=True),
         {**_plain(1), **_gz(2, 3, 4)}),
    Case("compress-over-plain-1", _o(rotate=2, compress=True), {**_plain(1), **_gz(1)}),
    Case("copytruncate", _o(rotate=2, copytruncate=True), _plain(1, 2)),
    Case("copytruncate+compress", _o(rotate=2, copytruncate=True, compress=True), _gz(1)),
    Case("create-0640-owner", _o(rotate=2, create_mode=0o640, create_owner="nobody",
                                 create_group=NOBODY_GROUP), _plain(1)),
    Case("create-keeps-mode", _o(rotate=1), _plain(1), live_mode=0o604),
    Case("nocreate", _o(rotate=2, create=False), _plain(1)),
    Case("dateext", _o(rotate=2, dateext=True, dateformat=SECONDS),
         {**_dated("-20200101-000000", "-20200102-000000", "-2020"), **_plain(1)}),
    Case("dateext-daily-format", _o(rotate=3, dateext=True),
         {**_dated("-20200101", "-20200102", "-20200103", "-20200104"),
          **_dated("-20200105", ext=".gz")}, appends=("",)),
    Case("dateext+compress", _o(rotate=2, dateext=True, dateformat=SECONDS, compress=True),
         {**_dated("-20200101-000000", ext=".gz"), **_dated("-20200102-000000")},
         appends=("", "more\n")),
    Case("dateext+compress+delaycompress",
         _o(rotate=3, dateext=True, dateformat=SECONDS, compress=True, delaycompress=True),
         {**_dated("-20200101-000000", ext=".gz"), **_dated("-20200102-000000")}),
    Case("dateext-epoch", _o(rotate=2, dateext=True, dateformat=".%s"),
         {f"{LOG}.1500000000": "a\n", f"{LOG}.1600000000": "b\n", f"{LOG}.999": "c\n"},
         appends=("",)),
    Case("missingok-missing", _o(rotate=2, missingok=True), _plain(1), live=None,
         appends=("", "")),
    Case("notifempty-empty", _o(rotate=2, ifempty=False), _plain(1), live=""),
    Case("ifempty-empty", _o(rotate=2), _plain(1), live="", appends=("", "", "")),
    Case("size-1k", _o(rotate=2, size=1024), _plain(1), live="x" * 500,
         appends=("", "y" * 600, "z" * 100), force=False),
    Case("size-1k-forced", _o(rotate=2, size=1024), _plain(1), live="x" * 10),
    Case("minsize-1k-due", _o(rotate=2, minsize=1024), _plain(1), live="x" * 500,
         appends=("", "y" * 600, "z" * 100), force=False),
    Case("minsize-1k-forced", _o(rotate=2, minsize=1024), _plain(1), live="x" * 10),
    Case("rotate0", _o(rotate=0), {**_plain(1), **_gz(3)}),
    Case("rotate0+compress", _o(rotate=0, compress=True), {**_gz(1), **_plain(3)}),
    Case("rotate0+copytruncate", _o(rotate=0, copytruncate=True), _plain(1, 2)),
    Case("rotate0+dateext", _o(rotate=0, dateext=True, dateformat=SECONDS),
         _dated("-20200101-000000", "-20200102-000000"), appends=("", "more\n")),
    Case("maxage", _o(rotate=4, maxage=5), _plain(1, 2, 3, 4, 5),
         ages_days={f"{LOG}.1": 3, f"{LOG}.2": 10, f"{LOG}.4": 10, f"{LOG}.5": 10}),
    Case("maxage+dateext", _o(rotate=4, maxage=5, dateext=True, dateformat=SECONDS),
         _dated("-20200101-000000", "-20200102-000000", "-20200103-000000"),
         ages_days={f"{LOG}-20200103-000000": 10}, appends=("",)),
    Case("postrotate-before-compress",
         _o(rotate=2, compress=True,
            postrotate='ls "$(dirname "$1")" >> "$1.reloads"; basename "$2" >> "$1.reloads"'),
         _gz(1)),
    Case("backup-in-the-way", _o(rotate=2, compress=True, delaycompress=True),
         {**_plain(1), **_gz(1)}, appends=("",)),
    Case("hostile-name", _o(rotate=2, compress=True, delaycompress=True),
         {**_plain(1, name=HOSTILE), **_gz(2, name=HOSTILE)}, log_name=HOSTILE),
]


def logrotate_config(path: Path, opts: RotationOptions, *, due: bool) -> str:
    """The logrotate stanza that means what ``opts`` means to our planner."""
    lines = [f"rotate {opts.rotate}", "compress" if opts.compress else "nocompress"]
    lines += ["delaycompress"] if opts.delaycompress else []
    if opts.copytruncate:
        lines.append("copytruncate")
    elif opts.create:
        attrs = [f"{opts.create_mode:04o}" if opts.create_mode is not None else "",
                 opts.create_owner or "", opts.create_group or ""]
        lines.append(" ".join(["create", *filter(None, attrs)]))
    else:
        lines.append("nocreate")
    if opts.dateext:
        lines += ["dateext", f"dateformat {opts.dateformat}"]
    lines.append("missingok" if opts.missingok else "nomissingok")
    lines.append("ifempty" if opts.ifempty else "notifempty")
    lines += [f"size {opts.size}"] if opts.size is not None else []
    lines += [f"minsize {opts.minsize}"] if opts.minsize is not None else []
    lines += [f"maxage {opts.maxage}"] if opts.maxage is not None else []
    # Our unforced rotation means "the interval has passed": logrotate says so with an
    # interval and a state file that last rotated this log in 2000 (see _run_logrotate).
    lines += ["daily"] if due and opts.size is None else []
    if opts.postrotate:
        # Not sharedscripts: for one log it runs once all the same, and only the per-log form
        # passes clean paths as $1 and $2 (the shared one passes the raw config pattern).
        lines += ["postrotate", f"    {opts.postrotate}", "endscript"]
    body = "\n".join(f"    {line}" for line in lines)
    return f'"{path}" {{\n{body}\n}}\n'


def _build(directory: Path, case: Case) -> None:
    directory.mkdir()
    now = time.time()
    for name, text in case.before.items():
        data = text.encode()
        (directory / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        age = case.ages_days.get(name, 0.5)
        os.utime(directory / name, (now - age * 86400, now - age * 86400))
    if case.live is not None:
        live = directory / case.log_name
        live.write_text(case.live)
        live.chmod(case.live_mode)


def _append(directory: Path, case: Case, text: str) -> None:
    if text:
        with open(directory / case.log_name, "a", encoding="utf-8") as log:
            log.write(text)


Snapshot = dict[str, tuple[bool, bytes, int, int, int]]


def snapshot(directory: Path) -> Snapshot:
    """name -> (gzip?, decompressed content, mode, uid, gid)."""
    found = {}
    for entry in directory.iterdir():
        st = entry.lstat()
        data = entry.read_bytes()
        packed = data[:2] == b"\x1f\x8b"
        found[entry.name] = (packed, gzip.decompress(data) if packed else data,
                             st.st_mode & 0o7777, st.st_uid, st.st_gid)
    return found


def _wait_for_a_fresh_second(previous: datetime | None) -> None:
    """Per-second dateformats: start well inside a second, and not in the previous round's
    second (logrotate refuses a second rotation with the same date, and so do we)."""
    while True:
        now = time.time()
        if now % 1 < 0.8 and (previous is None or int(now) != int(previous.timestamp())):
            return
        time.sleep(1.01 - now % 1)


def _run_logrotate(work: Path, directory: Path, case: Case,
                   previous: datetime | None) -> datetime:
    """One real logrotate run; returns the local time it ran at (checked to one second)."""
    config, state = work / "logrotate.conf", work / "logrotate.state"
    path = directory / case.log_name
    config.write_text(logrotate_config(path, case.options, due=not case.force))
    if not case.force:
        state.write_text(f'logrotate state -- version 2\n"{path}" 2000-1-1-0:0:0\n')
        state.chmod(0o600)
    fmt = case.options.dateformat if case.options.dateext else "%Y%m%d%H"
    if "%S" in fmt or "%s" in fmt:
        _wait_for_a_fresh_second(previous)
    before = datetime.now()
    argv = [LOGROTATE, *(["-f"] if case.force else []), "-s", str(state), str(config)]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30,
                          cwd=work)
    after = datetime.now()
    assert done.returncode == 0, f"logrotate failed: {done.stderr}"
    for clock_format in (fmt, "-%Y%m%d%H"):
        if format_date(clock_format, before) != format_date(clock_format, after):
            pytest.fail(f"the clock moved past {clock_format} while logrotate ran; run again")
    return before


def _run_ours(directory: Path, case: Case, now: datetime) -> RotationPlan:
    conn = LocalConnection()
    log, siblings = read_log_state(conn, str(directory / case.log_name), timeout=10)
    plan = plan_rotation(log, siblings, case.options, now, force=case.force)
    apply_plan(conn, plan, timeout=30)
    return plan


def _differences(real: Snapshot, ours: Snapshot) -> list[str]:
    lines = [f"only after logrotate: {n!r}" for n in sorted(set(real) - set(ours))]
    lines += [f"only after ours: {n!r}" for n in sorted(set(ours) - set(real))]
    for name in sorted(set(real) & set(ours)):
        if real[name] != ours[name]:
            lines.append(f"{name!r}: logrotate {real[name]!r} != ours {ours[name]!r}")
    return lines


@pytest.fixture(scope="module", autouse=True)
def _real_logrotate() -> None:
    assert os.access(LOGROTATE, os.X_OK), f"Debian's logrotate is needed at {LOGROTATE}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_files_as_logrotate(tmp_path: Path, case: Case) -> None:
    real_dir, our_dir, work = tmp_path / "real", tmp_path / "ours", tmp_path / "work"
    work.mkdir()
    _build(real_dir, case)
    _build(our_dir, case)
    assert snapshot(real_dir) == snapshot(our_dir)
    now: datetime | None = None
    for round_number, text in enumerate(case.appends, start=1):
        _append(real_dir, case, text)
        _append(our_dir, case, text)
        now = _run_logrotate(work, real_dir, case, now)
        plan = _run_ours(our_dir, case, now)
        diff = _differences(snapshot(real_dir), snapshot(our_dir))
        assert not diff, f"round {round_number}:\n" + "\n".join(diff + ["plan:", *plan.sentences])
        for op in plan.operations:
            for value in vars(op).values():
                if isinstance(value, str) and value.startswith(str(our_dir)):
                    assert show_path(os.path.basename(value)) in op.sentence
    assert sorted(p.name for p in work.iterdir()) == ["logrotate.conf", "logrotate.state"]


def test_missing_log_is_an_error_naming_it_like_logrotate(tmp_path: Path) -> None:
    directory, work = tmp_path / "logs", tmp_path / "work"
    directory.mkdir()
    work.mkdir()
    (directory / f"{LOG}.1").write_text("old\n")
    path = directory / LOG
    (work / "logrotate.conf").write_text(logrotate_config(path, _o(rotate=2), due=False))
    argv = [LOGROTATE, "-f", "-s", str(work / "state"), str(work / "logrotate.conf")]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode != 0 and str(path) in done.stderr

    log, siblings = read_log_state(LocalConnection(), str(path), timeout=10)
    assert not log.exists
    with pytest.raises(ActionError, match=re.escape(str(path))):
        plan_rotation(log, siblings, _o(rotate=2), datetime.now(), force=True)
    assert sorted(p.name for p in directory.iterdir()) == [f"{LOG}.1"]


def test_a_rotation_that_would_leave_log_2_beside_log_2_gz_is_refused(tmp_path: Path) -> None:
    """Where the host's files follow another scheme than the options, logrotate shifts the
    plain log.1 to log.2 beside the log.2.gz already there; we refuse and touch nothing."""
    case = Case("mixed", _o(rotate=0), {**_plain(1), **_gz(2)})
    real_dir, our_dir, work = tmp_path / "real", tmp_path / "ours", tmp_path / "work"
    work.mkdir()
    _build(real_dir, case)
    _build(our_dir, case)
    _run_logrotate(work, real_dir, case, None)
    assert {f"{LOG}.2", f"{LOG}.2.gz"} <= set(snapshot(real_dir))
    before = snapshot(our_dir)
    with pytest.raises(ActionError, match=re.escape(f"{LOG}.2 beside")):
        _run_ours(our_dir, case, datetime.now())
    assert snapshot(our_dir) == before
