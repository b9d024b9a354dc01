"""Shared helpers for the log-analysis tests: fixture paths and copies with a chosen mtime."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy a fixture into tmp_path (optionally renamed, with a given mtime)."""

    def copy(name: str, as_name: str = "", mtime: float = 0.0) -> Path:
        target = tmp_path / (as_name or name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / name, target)
        if mtime:
            os.utime(target, (mtime, mtime))
        return target

    return copy
