"""`runbook inventory list|show`."""

from __future__ import annotations

import json
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from runbook.cli import app, options as opt
from runbook.cli.context import CliContext
from runbook.cli.exitcodes import ExitCode
from runbook.errors import ConfigError
from runbook.inventory import load_inventory, parse_extra_vars, select_hosts

inventory_app = typer.Typer(help="Show resolved hosts and vars.", no_args_is_help=True)
app.add_typer(inventory_app, name="inventory")


@inventory_app.command("list")
def list_hosts(inventory: opt.InventoryList = opt.Inventories, limit: Optional[str] = opt.Limit,
               extra_var: opt.StrList = opt.ExtraVars, as_json: bool = opt.Json) -> int:
    """Every selected host with its customer, roles and address."""
    inv = load_inventory(inventory, parse_extra_vars(extra_var or []))
    hosts = select_hosts(inv, limit)
    if as_json:
        print(json.dumps([h.to_json() for h in hosts], indent=2))
        return ExitCode.OK
    table = Table()
    for col in ("host", "customer", "roles", "connection", "address"):
        table.add_column(col)
    for h in hosts:
        target = "local" if h.connection == "local" else f"{h.user or ''}@{h.address}:{h.port}" + (
            f" via {h.jump}" if h.jump else "")
        table.add_row(*(Text(v) for v in (h.name, h.customer, ",".join(h.roles), h.connection, target)))
    CliContext.create().out.print(table)
    return ExitCode.OK


@inventory_app.command("show")
def show_host(host: str = typer.Argument(..., help="Host name."), inventory: opt.InventoryList = opt.Inventories,
              extra_var: opt.StrList = opt.ExtraVars, as_json: bool = opt.Json) -> int:
    """One host, fully resolved: connection settings and merged vars (secrets shown as ***)."""
    inv = load_inventory(inventory, parse_extra_vars(extra_var or []))
    if host not in inv.hosts:
        raise ConfigError(f"no host {host!r} in the inventory", file=", ".join(str(f) for f in inv.files))
    data = inv.hosts[host].to_json()
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        out = CliContext.create().out
        for key, value in data.items():
            if key != "vars":
                out.print(f"[bold]{key}[/]: {escape(str(value))}", highlight=False)
        out.print("[bold]vars[/]:")
        for key, value in sorted(data["vars"].items()):
            out.print(f"  {escape(str(key))}: {escape(repr(value))}", highlight=False)
    return ExitCode.OK
