"""`runbook config show|path`: the engineer's settings and where each comes from."""

from __future__ import annotations

import json
import os

import typer
from rich.table import Table

from runbook.cli import app, options as opt
from runbook.cli.console import console_pair
from runbook.cli.exitcodes import ExitCode
from runbook.config import read_config, show

config_app = typer.Typer(help="Your settings: the config file, the environment and the defaults.",
                         no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("show")
def show_config(as_json: bool = opt.Json) -> int:
    """Every setting, its value and where it comes from (a flag given to a command wins over all)."""
    found = read_config()
    rows = show(os.environ, found)
    if as_json:
        print(json.dumps({"file": str(found.path), "file_exists": found.exists,
                          "settings": [{"key": r.key, "env": r.env, "value": r.value, "source": r.source}
                                       for r in rows]}, indent=2))
        return ExitCode.OK
    out, _ = console_pair()
    out.print(f"config file: {found.path}" + ("" if found.exists else " (none; create it to set defaults)"),
              highlight=False, markup=False)
    table = Table()
    for column in ("setting", "value", "from", "environment"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.key, r.value if r.value is not None else "-", r.source, r.env)
    out.print(table)
    out.print("precedence: a command's flag, else the environment, else the config file, else the default",
              highlight=False, markup=False)
    return ExitCode.OK
