"""The house's arrows point down: no import cycle in runbook/, no import from a lower layer to a
higher one (the README's Architecture section and shared/DESIGN.md's "Layers" picture).

Every import is read with ``ast``, those inside functions and under ``TYPE_CHECKING`` too: a
lazy import is still an arrow. Importing ``runbook.a.b`` from outside ``runbook.a`` also runs
``runbook/a/__init__.py``, so that counts as an arrow to the package as well.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "runbook"

#: Top to bottom. A module may import its own layer's modules and any lower layer's, never a
#: higher one's; a name maps to the layer of its longest listed prefix.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli", ("runbook.cli", "runbook.__main__")),
    ("run", ("runbook.run",)),
    ("playbook", ("runbook.playbook",)),
    ("actions", ("runbook.actions",)),
    ("reports", ("runbook.reports",)),
    ("domain", ("runbook.logs", "runbook.services", "runbook.processes", "runbook.health", "runbook.incidents",
                "runbook.tickets", "runbook.sweeps")),
    ("facts", ("runbook.facts",)),
    ("hosts and records", ("runbook.connection", "runbook.inventory", "runbook.hostvars", "runbook.journal",
                           "runbook.run_index", "runbook.task", "runbook.change", "runbook.mail", "runbook.paths",
                           "runbook.shipped")),
    # the contract's calendar and deadlines: the inventory reads each customer's contract with it
    ("contract", ("runbook.sla",)),
    ("foundation", ("runbook.units", "runbook.errors", "runbook.templating", "runbook.yamlsource", "runbook.limits",
                    "runbook.sshlib",
                    "runbook.config",
                    "runbook")),
    ("analysis", ("runbook.analysis",)),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def layer_of(module: str) -> int:
    best = (-1, -1)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            # the root package is its own __init__ only, not a catch-all for undeclared modules
            if module == prefix or (prefix != "runbook" and module.startswith(prefix + ".")):
                best = max(best, (len(prefix), index))
    if best[1] < 0:
        raise AssertionError(f"{module} is in no layer: declare it in tests/test_layers.py LAYERS")
    return best[1]


def imports_of(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported runbook module, line) for every import in ``path``, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from runbook.cli import options" imports the module runbook.cli.options
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        seen: list[str] = []
        for target in targets:
            if target != "runbook" and not target.startswith("runbook."):
                continue
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            seen.append(target)
            # runbook.a.b from outside runbook.a runs runbook/a/__init__.py first
            parent = target.rpartition(".")[0]
            while parent not in ("", "runbook"):
                if not (module == parent or module.startswith(parent + ".")):
                    seen.append(parent)
                parent = parent.rpartition(".")[0]
        for target in dict.fromkeys(seen):
            yield target, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    modules = all_modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in imports_of(name, path, known):
            if target != name:
                edges.setdefault(target, line)
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_layer_table_covers_every_module() -> None:
    for module in all_modules():
        layer_of(module)


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_arrow_points_up() -> None:
    modules = all_modules()
    upward = []
    for module, edges in import_graph().items():
        for target, line in edges.items():
            if layer_of(target) < layer_of(module):
                upward.append(f"{modules[module].relative_to(ROOT.parent)}:{line}: {module} "
                              f"({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(sorted(upward))


def test_analysis_imports_nothing_else_of_runbook() -> None:
    """It runs on the customer's server, sent over stdin: only the standard library is there."""
    outside = [f"{m} imports {t}" for m, edges in import_graph().items() if m.startswith("runbook.analysis")
               for t in edges if not t.startswith("runbook.analysis")]
    assert not outside


@pytest.mark.parametrize("module, source, expected", [
    ("runbook.facts.probe", "import runbook.cli\n", ["runbook.cli"]),
    ("runbook.facts.probe", "def f():\n    from runbook.actions.base import Action\n",
     ["runbook.actions.base", "runbook.actions"]),
    ("runbook.facts.probe", "from runbook.cli import options as opt, app\n", ["runbook.cli.options", "runbook.cli"]),
    ("runbook.actions.probe", "from . import base\n", ["runbook.actions.base"]),
    ("runbook.facts.probe", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from runbook.run.engine import E\n",
     ["runbook.run.engine", "runbook.run"]),
])
def test_the_walk_sees_every_kind_of_import(tmp_path: Path, module: str, source: str, expected: list[str]) -> None:
    """The checker itself: lazy, aliased, relative and TYPE_CHECKING imports all count."""
    path = tmp_path / "probe.py"
    path.write_text(source)
    known = {"runbook.cli", "runbook.cli.options", "runbook.actions", "runbook.actions.base",
             "runbook.run", "runbook.run.engine"}
    assert [t for t, _ in imports_of(module, path, known)] == expected


def test_a_cycle_is_found() -> None:
    graph = {"runbook.a": {"runbook.b": 1}, "runbook.b": {"runbook.c": 1}, "runbook.c": {"runbook.a": 1},
             "runbook.d": {"runbook.a": 1}}
    assert cycles(graph) == [["runbook.a", "runbook.b", "runbook.c"]]


def test_a_report_submodule_does_not_bring_jinja2() -> None:
    """``runbook logs timeline`` reads ``reports.sections``; only rendering needs Jinja2."""
    probe = ("import sys, runbook.reports.sections, runbook.reports.build; "
             "print('jinja2' in sys.modules); from runbook.reports import render_immediate; "
             "print('jinja2' in sys.modules)")
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                           cwd=ROOT.parent).stdout.split()
    assert shown == ["False", "True"]
