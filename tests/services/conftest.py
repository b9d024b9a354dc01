"""The real service stack on the lab (nginx -> gunicorn -> PostgreSQL), started once per session.

``stack`` hands each test a healthy stack and puts it back afterwards, whatever the test
broke; ``run_book`` runs a playbook text through the real engine and returns its journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lab import Lab
from tests.lab.services import LabStack, run_playbook, services_unavailable_reason

RunBook = Callable[..., tuple[Any, list[dict[str, Any]]]]


@pytest.fixture(scope="session")
def lab_stack(lab: Lab) -> Iterator[LabStack]:
    reason = services_unavailable_reason()
    if reason:
        pytest.skip(reason)
    stack = LabStack(lab)
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture
def stack(lab_stack: LabStack) -> Iterator[LabStack]:
    lab_stack.ensure_running()
    try:
        yield lab_stack
    finally:
        lab_stack.stop_helpers()
        lab_stack.ensure_running()


@pytest.fixture
def stack_inventory(stack: LabStack, tmp_path: Path) -> Path:
    return stack.write_inventory(tmp_path / "inventory.yml")


@pytest.fixture
def run_book(tmp_path: Path) -> RunBook:
    """Run playbook ``text`` over ``inventory``; return the result and the journal's events."""
    def run(inventory: Path, text: str, *, runs: Path | None = None, **kw: Any) -> tuple[Any, list[dict[str, Any]]]:
        return run_playbook(inventory, text, runs or tmp_path / "reports" / "runs", **kw)
    return run
