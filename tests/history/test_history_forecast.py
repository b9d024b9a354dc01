"""`runbook history` and `runbook forecast` on sweep journals made at known times with known
usage; the sweep table's forecast line after a real sweep of the lab."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from runbook.sweeps.forecast import least_squares
from runbook.sweeps.history import POINTS_FILE
from tests.history.sweeps import GIB, disk, write_sweep
from tests.lab import Lab
from tests.support.cli import runbook_cli

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def test_least_squares_finds_the_line_through_noisy_points() -> None:
    xs = [0, 1, 2, 3, 4]
    ys = [1.1, 2.9, 5.2, 6.8, 9.0]    # about 2x + 1
    slope, intercept = least_squares(xs, ys)
    assert slope == pytest.approx(1.97) and intercept == pytest.approx(1.06)   # by hand: 19.7 / 10, 5 - 2 * 1.97


def growing_history(runs: Path) -> None:
    """web1 /var: 60 % two days ago, +5 GiB (5 %) a day, a sweep every 6 hours, the last a
    minute ago. db1 /var: flat at 50 %. app1: three sweeps within two hours only."""
    last = NOW - timedelta(minutes=1)
    for i in range(9):
        when = last - timedelta(hours=6 * (8 - i))
        hosts = {"web1": [disk("/var", int((60 + 5 * i / 4) * GIB))], "db1": [disk("/var", 50 * GIB)]}
        write_sweep(runs, when, hosts)
    for minutes in (120, 60, 2):
        write_sweep(runs, NOW - timedelta(minutes=minutes), {"app1": [disk("/srv", 10 * GIB)]})


def test_forecast_gives_the_growth_and_when_crit_and_full_are_reached(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    growing_history(runs)
    done = runbook_cli("forecast", "--json", runs_dir=runs)
    assert done.returncode == 0, done.stderr
    found = {(f["host"], f["mount"], f["kind"]): f for f in json.loads(done.stdout)["forecasts"]}
    web = found[("web1", "/var", "space")]
    assert web["points"] == 9
    assert web["bytes_per_day"] == pytest.approx(5 * GIB, rel=0.001)
    assert web["percent_per_day"] == pytest.approx(5.0, abs=0.01)
    assert web["used_percent"] == pytest.approx(70.0, abs=0.01)
    assert web["crit"] == 90.0
    assert web["days_to_crit"] == pytest.approx(4.0, abs=0.01)     # (90 - 70) / 5
    assert web["days_to_full"] == pytest.approx(6.0, abs=0.01)     # (100 - 70) / 5
    assert web["sentence"].startswith("/var on web1: +5.0 GiB/day")
    flat = found[("db1", "/var", "space")]
    assert flat["percent_per_day"] == 0 and flat["days_to_crit"] is None and flat["days_to_full"] is None
    assert not any(host == "app1" for host, *_ in found)             # 3 sweeps within 2 hours: no trend
    text = runbook_cli("forecast", runs_dir=runs)
    assert "/var on web1: +5.0 GiB/day (+5.00 %/day, now 70.0 %), 90 % in ~4 days, full in ~6 days" in text.stdout


def test_history_says_since_when_a_check_has_its_status(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    times = [NOW - timedelta(hours=h) for h in (4, 3, 2, 1)]
    usage = [70, 85, 93, 95]                      # OK, WARNING, CRITICAL, CRITICAL
    for when, used in zip(times, usage):
        write_sweep(runs, when, {"web1": [disk("/var", used * GIB)],
                                 "db1": None if when == times[-1] else [disk("/", 10 * GIB)]})
    done = runbook_cli("history", "--json", "--since", "6h", runs_dir=runs)
    assert done.returncode == 0, done.stderr
    periods = json.loads(done.stdout)["periods"]
    var = [(p["status"], p["sweeps"], p["value"]) for p in periods if p["host"] == "web1" and p["check"] == "disk:/var"]
    assert var == [("CRITICAL", 2, 95.0), ("WARNING", 1, 85.0), ("OK", 1, 70.0)]
    critical = next(p for p in periods if p["check"] == "disk:/var")
    assert critical["first_seen"] == times[2].strftime("%Y-%m-%dT%H:%M:%SZ")
    reach = [(p["status"], p["sweeps"]) for p in periods if p["host"] == "db1" and p["check"] == "reachability"]
    assert reach == [("CRITICAL", 1), ("OK", 3)]
    assert all((run / POINTS_FILE).is_file() for run in runs.iterdir())  # kept beside each finished sweep
    narrow = runbook_cli("history", "--json", "--since", "90m", runs_dir=runs)
    assert {p["sweeps"] for p in json.loads(narrow.stdout)["periods"]} == {1}


def test_an_unfinished_sweep_is_read_but_its_points_are_not_kept(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    run = write_sweep(runs, NOW - timedelta(minutes=5), {"web1": [disk("/var", 50 * GIB)]}, finished=False)
    done = runbook_cli("history", "--json", runs_dir=runs)
    assert [p["status"] for p in json.loads(done.stdout)["periods"] if p["check"] == "disk:/var"] == ["OK"]
    assert not (run / POINTS_FILE).exists()


@pytest.mark.lab
def test_the_sweep_table_shows_a_forecast_under_seven_days(lab: Lab, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    growing_history(runs)
    inventory = lab.write_inventory(tmp_path / "inv.yml", include_bad=False,
                                    extra_vars={"load_warn": 1000, "load_crit": 1000})
    done = runbook_cli("sweep", "-i", inventory, "-l", "web1,db1", runs_dir=runs)
    assert done.returncode in (0, 1, 2), done.stderr   # whatever this machine's own disks say
    assert "forecast /var on web1: +5.0 GiB/day" in done.stdout
    assert "on db1" not in done.stdout.split("run ")[-1]   # flat: no forecast line


def test_the_daily_report_has_the_forecast_in_the_customers_language(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    growing_history(runs)
    day = (NOW - timedelta(minutes=1)).astimezone(ZoneInfo("Europe/Berlin")).date()
    english = runbook_cli("report", "daily", "--date", day.isoformat(), "--lang", "en", "--format", "markdown",
                          runs_dir=runs)
    assert english.returncode == 0, english.stderr
    assert "### Forecast" in english.stdout
    assert "- /var on web1 grows by 5.0 GiB per day: 90% around " in english.stdout
    german = runbook_cli("report", "daily", "--date", day.isoformat(), "--lang", "de", "--format", "markdown",
                         runs_dir=runs)
    assert "- /var auf web1 wächst um 5,0 GiB pro Tag: 90 % etwa am " in german.stdout
    assert "db1" not in german.stdout.split("Prognose")[-1]   # flat: no forecast


def test_an_inode_forecast_says_inodes_in_the_reports_language(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    last = NOW - timedelta(minutes=1)
    for i in range(9):   # /srv on app1: space flat, inodes from 40 % by 10 points a day
        write_sweep(runs, last - timedelta(hours=6 * (8 - i)),
                    {"app1": [disk("/srv", 20 * GIB, inodes_used_percent=40 + 10 * i / 4)]})
    day = last.astimezone(ZoneInfo("Europe/Berlin")).date()
    said = {lang: runbook_cli("report", "daily", "--date", day.isoformat(), "--lang", lang, "--format", "markdown",
                              runs_dir=runs) for lang in ("de", "en")}
    assert all(done.returncode == 0 for done in said.values()), {k: v.stderr for k, v in said.items()}
    assert "- /srv (Inodes) auf app1 wächst um 10,0 % pro Tag:" in said["de"].stdout, said["de"].stdout
    assert "- /srv (inodes) on app1 grows by 10.0% per day:" in said["en"].stdout, said["en"].stdout
