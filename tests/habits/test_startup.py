"""A start stays light: `--version`, `--help` and a mistyped command import no command module
(no Paramiko, Jinja2, holidays), and the help they show lists the real commands with their
real help lines. How long a start takes is measured in bench/startup.py, not here."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import typer.main

from runbook.cli import COMMAND_HELP, COMMAND_MODULES, app
from tests.support.cli import REPO, cli_env

HEAVY = ("paramiko", "jinja2", "holidays", "runbook.cli.run_cmds", "runbook.cli.sweep_cmds", "runbook.cli.report_cmds",
         "runbook.cli.completion", "runbook.actions", "runbook.inventory")


def imported_by(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "runbook", *args], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    return {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("nosuchcommand",)])
def test_a_light_start_imports_no_command_module(args: tuple[str, ...]) -> None:
    modules = imported_by(*args)
    assert "runbook.cli" in modules  # the measurement saw runbook start
    assert not {m for m in modules if m.split(".")[0] in ("paramiko", "jinja2", "holidays") or m in HEAVY}


def modules_after(*args: str) -> set[str]:
    """Every module loaded by the end of a whole ``runbook ARGS`` process (its exit included)."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('MODULES', ' '.join(sys.modules), file=sys.__stderr__))\n"
            "from runbook.cli import main\n"
            f"main({list(args)!r})\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=cli_env(), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode in (0, 1, 2, 3), done.stderr  # a sweep's verdict: OK/WARNING/CRITICAL/UNKNOWN
    return set(done.stderr.split("MODULES ", 1)[1].split())


@pytest.mark.parametrize("output", ["--json", "--nagios"])
def test_a_sweep_for_programs_loads_no_terminal_library(output: str, tmp_path) -> None:
    # cron runs these every few minutes: Rich (the consoles, tables, markup) is for people.
    modules = modules_after("sweep", output, "--runs-dir", str(tmp_path / "runs"))
    assert "runbook.cli.sweep_cmds" in modules and "runbook.health.monitoring" in modules
    assert not {m for m in modules if m.split(".")[0] == "rich"}
    assert "rich.table" in modules_after("sweep", "--runs-dir", str(tmp_path / "runs"))  # the table for people


def test_the_light_help_lists_every_real_command_with_its_own_help_line() -> None:
    for module in set(COMMAND_MODULES.values()):
        importlib.import_module(f"runbook.cli.{module}")
    real = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    assert set(real) == set(COMMAND_HELP) == set(COMMAND_MODULES)
    for name, command in real.items():
        assert command.get_short_help_str(200) == COMMAND_HELP[name], name
