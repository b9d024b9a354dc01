"""JSON round trip, remote execution from a stdin bundle, and remote == local."""

from __future__ import annotations

import ast
import json
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from io import StringIO

import pytest
from rich.console import Console

from runbook.analysis import Analysis, analyze_paths, merge_timeline
from runbook.analysis.cli import ExitCode, main
from runbook.analysis.remote import NO_PYTHON_EXIT, bundle, remote_command
from runbook.analysis.render import render_analysis, render_timeline

from .conftest import FIXTURES

ALL = sorted(str(p) for p in FIXTURES.iterdir() if not p.name.endswith((".md", ".txt")))


def run_remote(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], input=bundle(), capture_output=True, timeout=60)


def test_json_round_trip_of_every_fixture():
    result = analyze_paths(ALL, since="2020-01-01T00:00:00Z", baseline=(
        "2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z"), naive_tz="UTC", slow=0.2)
    text = result.to_json()
    again = Analysis.from_json(text)
    assert again == result
    assert again.to_json() == text
    data = json.loads(text)
    assert data["schema"] == 1 and len(data["sets"]) == len(ALL)
    assert data["since"] == "2020-01-01T00:00:00+00:00"


@pytest.mark.parametrize("args", [
    dict(fmt="auto"),
    dict(fmt="auto", since="2026-11-25T09:03:26Z",
         until=datetime(2026, 11, 25, 9, 5, tzinfo=timezone.utc)),
    dict(fmt="nginx-access", naive_tz="+01:00"),
    dict(fmt="auto", since="2026-11-25T09:03:26+01:00-30m"),
])
def test_remote_and_local_analysis_give_identical_json(args):
    paths = ALL if args["fmt"] == "auto" else [str(FIXTURES / "nginx-access-timed.log")]
    done = run_remote(remote_command(paths, **args))
    assert done.returncode == 0, done.stderr.decode()
    local = analyze_paths(paths, **args)
    assert done.stdout.decode() == local.to_json() + "\n"
    assert Analysis.from_json(done.stdout.decode()) == local


def test_a_relative_window_reaches_the_analyzer_as_a_value_not_an_option():
    """on-call.yml without an incident analyses the last two hours: "-2h" starts with "-"."""
    before = datetime.now(timezone.utc)
    done = run_remote(remote_command(ALL, since="-2h", until="-1s"))
    assert done.returncode == 0, done.stderr.decode()
    result = json.loads(done.stdout.decode())
    since = datetime.fromisoformat(result["since"])
    assert abs((before - since).total_seconds() - 7200) < 60


def test_remote_command_quotes_every_value(tmp_path):
    odd = tmp_path / "it's a $(touch pwned) log; rm -rf x.log"
    odd.write_text((FIXTURES / "nginx-error.log").read_text())
    command = remote_command([str(odd), "-rf"], "auto", "2026-11-25 09:03:25", None)
    assert shlex.quote(str(odd)) in command
    done = run_remote(command)
    assert done.returncode == ExitCode.OK, done.stderr.decode()
    assert not (tmp_path / "pwned").exists()
    result = Analysis.from_json(done.stdout.decode())
    # the window starts at 09:03:25: the six start-up lines of 09:03:24 fall outside
    assert result.sets[0].format == "nginx-error" and result.sets[0].events == 40
    assert result.sets[1].files[0].error  # "-rf" is a path after "--", and missing


def test_no_usable_python_gives_the_documented_exit_code():
    done = run_remote(remote_command([str(FIXTURES / "nginx-error.log")],
                                     python="python3-that-does-not-exist"))
    assert done.returncode == NO_PYTHON_EXIT == ExitCode.NO_PYTHON
    assert done.stdout == b""


def test_old_python_is_refused(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexec %s -c 'import sys; sys.exit(1)'\n" % sys.executable)
    fake.chmod(0o755)
    done = run_remote(remote_command(["x"], python=str(fake)))
    assert done.returncode == NO_PYTHON_EXIT


def test_bundle_is_stable_and_stdlib_only():
    assert bundle() == bundle()
    import io
    import zipfile
    names = zipfile.ZipFile(io.BytesIO(bundle())).namelist()
    assert "rbanalysis/render.py" not in names and "rbanalysis/cli.py" in names
    archive = zipfile.ZipFile(io.BytesIO(bundle()))
    for name in names:
        tree = ast.parse(archive.read(name).decode())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] in sys.stdlib_module_names, (name, module)


def test_json_is_small_compared_with_the_log(tmp_path):
    line = ('10.1.2.%d - - [02/Jan/2024:02:%02d:%02d +0000] "GET /product/%d HTTP/1.1" %d 512 '
            '"-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0"\n')
    path = tmp_path / "access.log"
    with open(path, "w") as out:
        for i in range(60000):
            out.write(line % (i % 250, i // 1000, i % 60, i % 5000, 502 if i % 50 == 0 else 200))
    done = run_remote(remote_command([str(path)]))
    assert len(done.stdout) <= 0.01 * path.stat().st_size


def test_cli_text_and_json(capsys):
    out = StringIO()
    assert main([str(FIXTURES / "postgresql-stderr.log"), "--format", "postgresql"], out) == 0
    text = out.getvalue()
    assert "password authentication failed" in text and "crit 4" in text
    out = StringIO()
    assert main([str(FIXTURES / "mariadb-slow.log"), "--json", "--last", "10m",
                 "--until", "2026-11-25T09:10:00Z"], out) == 0
    assert Analysis.from_json(out.getvalue()).sets[0].events == 2
    with pytest.raises(SystemExit) as stop:
        main(["x.log", "--format", "no-such-format"], StringIO())
    assert stop.value.code == ExitCode.USAGE
    assert main([str(FIXTURES / "x-missing.log")], StringIO()) == ExitCode.NOTHING_READ


def test_merged_timeline_across_hosts():
    web = analyze_paths([str(FIXTURES / "nginx-access-combined.log"),
                         str(FIXTURES / "nginx-error.log")], naive_tz="UTC")
    db = analyze_paths([str(FIXTURES / "postgresql-stderr.log")])
    events = merge_timeline({"web1": web, "db1": db},
                            datetime(2026, 11, 25, 9, 3, tzinfo=timezone.utc),
                            datetime(2026, 11, 25, 9, 4, 5, tzinfo=timezone.utc))
    assert events == sorted(events, key=lambda e: (e.time, e.host, e.log))
    assert {e.host for e in events} == {"web1", "db1"}
    assert all(datetime(2026, 11, 25, 9, 3, tzinfo=timezone.utc) <= e.time
               < datetime(2026, 11, 25, 9, 4, 5, tzinfo=timezone.utc) for e in events)
    burst = [e for e in events if e.kind == "errors" and e.log.endswith("access-combined.log")]
    assert [(e.time, e.count, e.text) for e in burst] == [
        (datetime(2026, 11, 25, 9, 3, tzinfo=timezone.utc), 8, "8 x 5xx of 22 requests (36.4%)")]
    first_db = next(e for e in events if e.host == "db1" and e.kind == "first")
    assert first_db.text == 'relation "<q>" does not exist at character <n>'
    assert not any("password authentication" in e.text for e in events)  # 09:04:05.6: outside
    assert [type(e).from_dict(e.to_dict()) for e in events] == events


def test_render_shows_tables_and_sparkline():
    result = analyze_paths([str(FIXTURES / "nginx-access-timed.log"),
                            str(FIXTURES / "postgresql-stderr.log")], slow=0.2,
                           baseline=("2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z"))
    console = Console(file=StringIO(), width=140)
    render_analysis(result, console)
    render_timeline(merge_timeline({"web1": result}, datetime(2026, 11, 25, tzinfo=timezone.utc),
                                   datetime(2026, 11, 26, tzinfo=timezone.utc)), console)
    text = console.file.getvalue()
    for expected in ("top 5xx paths", "/boom", "502 GET /api/orders/<n>", "NEW", "█",
                     "GET /slow/hang 504", "password authentication failed", "timeline"):
        assert expected in text


def test_bundle_is_python_37_syntax():
    """The server's python3 may be old: the shipped sources must parse as Python 3.7."""
    import io
    import zipfile
    archive = zipfile.ZipFile(io.BytesIO(bundle()))
    for name in archive.namelist():
        ast.parse(archive.read(name).decode(), name, feature_version=(3, 7))
    from runbook.analysis import remote
    ast.parse(remote._BOOTSTRAP, "bootstrap", feature_version=(3, 7))
