"""Helpers for the service tests. The stack fixtures (``lab_stack``, ``stack``,
``stack_inventory``) live in tests/conftest.py, so every directory shares the one stack:
a second definition would start a second stack on the same addresses.

``run_book`` runs a playbook text through the real engine and returns its journal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.lab.services import run_playbook

RunBook = Callable[..., tuple[Any, list[dict[str, Any]]]]


@pytest.fixture
def run_book(tmp_path: Path) -> RunBook:
    """Run playbook ``text`` over ``inventory``; return the result and the journal's events."""
    def run(inventory: Path, text: str, *, runs: Path | None = None, **kw: Any) -> tuple[Any, list[dict[str, Any]]]:
        return run_playbook(inventory, text, runs or tmp_path / "reports" / "runs", **kw)
    return run
