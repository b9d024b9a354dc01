"""`runbook logs analyze`: the server-side analyzer, run here on local files or an archive."""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path
from typing import List, Optional

import typer

from runbook.analysis import analyze_paths
from runbook.analysis.clock import Clock, parse_user_time
from runbook.analysis.model import to_datetime
from runbook.analysis.render import render_analysis, render_timeline
from runbook.cli import app, options as opt
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.errors import ConfigError, RunbookError
from runbook.journal import find_run, iter_runs, read_events
from runbook.reports.sections import journalled_analyses, log_timeline

logs_app = typer.Typer(help="Log files: analyse local copies or archives.", no_args_is_help=True)
app.add_typer(logs_app, name="logs")


def _expand(paths: List[Path], workdir: Path) -> list[str]:
    """Files as given; a .tar.gz made by logs.archive is unpacked (safely) and its members used."""
    files: list[str] = []
    for path in paths:
        if not path.exists():
            raise ConfigError("file not found", file=str(path))
        if path.name.endswith((".tar.gz", ".tgz")) and tarfile.is_tarfile(path):
            target = workdir / path.name
            try:
                with tarfile.open(path, "r:*") as tar:
                    members = [m for m in tar.getmembers() if m.isfile()]
                    outside = next((m.name for m in members if _escapes(m.name)), None)
                    if outside is not None:  # refused whole: nothing of it is extracted anywhere
                        raise ConfigError(f"member {outside!r} points outside the archive; nothing extracted",
                                          file=str(path))
                    tar.extractall(target, members=members, filter="data")
            except tarfile.TarError as exc:  # damaged, or a member the "data" filter refuses
                raise ConfigError(f"cannot unpack: {exc}", file=str(path)) from None
            files.extend(str(target / m.name) for m in members)
        else:
            files.append(str(path))
    return files


def _escapes(name: str) -> bool:
    """An archive member name that is absolute or climbs out with "..": never one of ours."""
    return name.startswith("/") or ".." in Path(name).parts


@logs_app.command("analyze")
def analyze(
    files: List[Path] = typer.Argument(..., help="Log files (rotated and .gz too) or logs.archive .tar.gz."),
    fmt: str = typer.Option("auto", "--format", help="auto, access, nginx-error, syslog, java, python (gunicorn), postgres, ..."),
    since: Optional[str] = typer.Option(None, "--since", help="ISO time or e.g. -30m."),
    until: Optional[str] = typer.Option(None, "--until", help="ISO time (exclusive)."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="previous-day: mark new fingerprints."),
    top: int = typer.Option(10, "--top", min=1, max=1000),
    as_json: bool = opt.Json,
) -> int:
    """Errors per minute, status classes, 5xx rate, error fingerprints and slow requests."""
    ctx = CliContext.create()
    with tempfile.TemporaryDirectory(prefix="runbook-logs-") as tmp:
        paths = _expand(files, Path(tmp))
        try:
            result = analyze_paths(paths, fmt=fmt, since=since, until=until, baseline=baseline, top=top)
        except ValueError as exc:
            raise ConfigError(str(exc), field="logs analyze") from None
    if as_json:
        print(result.to_json())
        for note in result.notes:  # the table view shows them; JSON readers get them on stderr too
            ctx.err.print("note: " + note, markup=False, highlight=False, soft_wrap=True)
    else:
        render_analysis(result, ctx.out)
    if result.nothing_read:
        ctx.err.print("[red]nothing could be read[/]")
        return ExitCode.FAILED
    return ExitCode.OK


@logs_app.command("timeline")
def timeline(
    runs: Optional[List[str]] = typer.Argument(None, metavar="[RUN]...",
                                               help="Runs (ids or unique prefixes); default: the newest with a log analysis."),
    since: Optional[str] = typer.Option(None, "--since", help="ISO time, -30m, or shifted: 2026-11-25T02:14:00+01:00-15m."),
    until: Optional[str] = typer.Option(None, "--until", help="As --since (exclusive)."),
    as_json: bool = opt.Json,
    reports_dir: Optional[Path] = opt.ReportsDir,
    runs_dir: Optional[Path] = opt.RunsDir,
) -> int:
    """What the logs.analyze steps found on every host, merged in time order."""
    ctx = CliContext.create(reports_dir, runs_dir)
    if runs:
        found = journalled_analyses(e for r in runs for e in read_events(find_run(ctx.paths.runs, r) / "journal.jsonl"))
    else:
        found = next((a for a in (journalled_analyses(read_events(p / "journal.jsonl"))
                                  for p in reversed(list(iter_runs(ctx.paths.runs)))) if a), {})
    if not found:
        raise RunbookError(f"no log analysis in {', '.join(runs) if runs else ctx.paths.runs}: "
                           "run a playbook with a logs.analyze step first")
    clock = Clock(None)
    try:
        window = [None if t is None else to_datetime(parse_user_time(t, clock)) for t in (since, until)]
    except ValueError as exc:
        raise ConfigError(str(exc), field="logs timeline") from None
    events, _ = log_timeline(found, since=window[0], until=window[1], rows=None)
    if as_json:
        print(json.dumps([e.to_dict() for e in events], indent=2))
    elif events:
        render_timeline(events, ctx.out)
    else:
        ctx.err.print("no errors in the analysed window")
    return ExitCode.OK
