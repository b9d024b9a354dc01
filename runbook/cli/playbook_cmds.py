"""`runbook playbooks`: every playbook a name finds, shipped and local, with its description."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from runbook.cli import app, options as opt
from runbook.cli.console import console_pair
from runbook.cli.exitcodes import ExitCode
from runbook.errors import ConfigError
from runbook.playbook import load_playbook
from runbook.shipped import find_playbook, playbook_names


@app.command("playbooks")
def list_playbooks(inventory: opt.OptInventoryList = opt.OptInventories, as_json: bool = opt.Json) -> int:
    """The playbooks a name finds: shipped ones and local ones, with their descriptions.

    A local file of the same name (./NAME.yml, ./playbooks/NAME.yml, playbooks/ beside the
    inventory) is used instead of the shipped one; the list says so."""
    inventories = [Path(p) for p in inventory or []]
    rows = []
    for name in playbook_names(inventories):
        found = find_playbook(name, inventories)
        try:
            book = load_playbook(found.path)
            title, description, steps = book.name, book.description, len(book.steps)
        except ConfigError as exc:
            title, description, steps = "", f"cannot be loaded: {exc}", 0
        rows.append({"name": name, "origin": found.origin, "path": str(found.path), "title": title,
                     "description": " ".join(description.split()), "steps": steps,
                     "shadows": str(found.shadows) if found.shadows else None})
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return ExitCode.OK
    out, _ = console_pair()
    table = Table()
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("from", no_wrap=True)
    table.add_column("steps", justify="right")
    table.add_column("what it does")
    for row in rows:
        origin = row["origin"] if row["origin"] == "shipped" else f"local: {row['path']}"
        if row["shadows"]:
            origin += " (instead of the shipped one)"
        summary = first_sentence(row["description"])
        table.add_row(escape(row["name"]), escape(origin), str(row["steps"]),
                      escape(f"{row['title']}: {summary}" if row["title"] else summary))
    out.print(table)
    out.print("run one with `runbook run NAME -i INVENTORY`; --json gives the whole descriptions",
              highlight=False, markup=False)
    return ExitCode.OK


def first_sentence(text: str) -> str:
    """A description's first sentence (``--json`` has all of it)."""
    head, dot, _ = text.partition(". ")
    return head + dot.strip() if dot else text
