"""``runbook sweep`` as a real subprocess, its ``--json`` checked against the published schema,
and the threshold vars that make the lab's verdict independent of this shared machine.

The lab hosts are all this machine, so they share its one kernel: the same mounts, memory
and load. On a shared 2-core box a test controls neither the load (other tests run too) nor
the filesystems that other test sessions mount and fill. So the lab inventories of sweep
tests (``SHARED_MACHINE``) set load thresholds that no CI load reaches, and judge only ``/``
(plus any mount a test makes itself) by the default disk thresholds. Every other mount gets a
free-space threshold of 0 B, which is never crossed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from tests.lab.inventory import CALM_LOAD
from tests.support.cli import no_traceback, runbook_cli

SCHEMA = Path(__file__).resolve().parents[2] / "runbook" / "health" / "sweep.schema.json"
# The lab's inventory says connect_timeout: 3.
CONNECT_TIMEOUT = 3.0
DEFAULT_DISK = {"warn": 80, "crit": 90, "inode_warn": 80, "inode_crit": 90}


def judge_only(mounts: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    """Threshold vars that judge these mounts by the given limits and no other mount."""
    return {"disk_warn": "0B", "disk_crit": "0B", "inode_warn": 100, "inode_crit": 100,
            "disk_thresholds": {mount: dict(limits) for mount, limits in mounts.items()}}


SHARED_MACHINE = {**CALM_LOAD, **judge_only({"/": DEFAULT_DISK})}


def extra_vars(values: Mapping[str, object]) -> list[str]:
    """``-e name=value`` arguments; mappings as JSON, which the CLI reads as YAML."""
    return [arg for name, value in values.items()
            for arg in ("-e", f"{name}={json.dumps(value) if isinstance(value, Mapping) else value}")]


@dataclass(frozen=True)
class SweepRun:
    """One finished ``runbook sweep`` process."""

    code: int
    stdout: str
    stderr: str

    def document(self) -> dict[str, Any]:
        """The ``--json`` document, checked against the published schema."""
        doc = json.loads(self.stdout)
        validator = jsonschema.Draft202012Validator(
            json.loads(SCHEMA.read_text()), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        validator.validate(doc)
        assert doc["exit_code"] == self.code, "the document's exit_code is not the process's"
        return doc


def sweep(*args: object, runs_dir: Path) -> SweepRun:
    """``runbook sweep ARGS`` as a real subprocess, journals in ``runs_dir``; never a traceback."""
    done = runbook_cli("sweep", *args, "--runs-dir", runs_dir)
    run = SweepRun(done.returncode, done.stdout, done.stderr)
    no_traceback(run.stdout, run.stderr)
    return run


def host(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [h for h in doc["hosts"] if h["name"] == name]
    return found


def check(host_doc: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in host_doc["checks"] if c["name"] == name]
    return found


def table_row(output: str, name: str) -> list[str]:
    """The cells of the table row of host ``name`` (COLUMNS=200: one line per row)."""
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if len(cells) == 4 and cells[0] == name:
            return cells
    raise AssertionError(f"no table row for {name} in:\n{output}")


def used_percent(path: Path | str) -> tuple[float, int]:
    """A filesystem's used % as df computes it, used / (used + available), and its free bytes."""
    st = os.statvfs(path)
    used = (st.f_blocks - st.f_bfree) * st.f_frsize
    free = st.f_bavail * st.f_frsize
    return used * 100.0 / (used + free), free
