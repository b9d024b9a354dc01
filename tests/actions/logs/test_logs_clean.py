"""logs.clean against the real-sshd lab: what is deleted is exactly what was planned, and
nothing outside the roots, behind a symlink, held open or unarchived ever is."""

from __future__ import annotations

import gzip
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab import Lab
from tests.support.loglab import events_of, log_root, run_steps, tree, write_inventory, write_log


HOSTILE = ("sp ace", "quo'te\"s", "$(touch CANARY)", "new\nline", "-rf")
ARCHIVE = {"action": "logs.archive", "params": {}}


@dataclass(frozen=True)
class Scene:
    inventory: Path
    root: Path
    nginx: Path
    outside: Path
    holder: subprocess.Popen


def gz(path: Path, age_days: float, text: bytes = b"GET / 200\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text * 200))
    when = os.path.getmtime(path) - age_days * 86400
    os.utime(path, (when, when))
    return path


@pytest.fixture
def scene(lab: Lab, tmp_path: Path) -> Iterator[Scene]:
    """web1 with nginx logs (9 rotated), hostile names, a file held open, a symlinked log
    directory, a symlink to a file outside, and a custom set whose files lie outside its roots."""
    sub = tmp_path.name
    custom = {"custom": {"globs": ["srv/data/*.log"], "roots": ["var/log/custom"], "keep": 0},
              "shop": {"globs": ["var/log/shop/*.log"], "keep": 0}}
    inventory = write_inventory(lab, tmp_path / "inv.yml", sub, host_vars={"web1": {"log_sets": custom}})
    root = log_root(lab, "web1", sub)
    nginx = root / "var/log/nginx"
    write_log(nginx / "access.log", 5000)
    for i in range(1, 10):
        gz(nginx / f"access.log.{i}.gz", age_days=i)
    for name in HOSTILE:
        write_log(nginx / f"{name}-access.log", 100)
        gz(nginx / f"{name}-access.log.1.gz", age_days=40)
    outside = root / "elsewhere"
    gz(outside / "precious.log.1.gz", age_days=50)
    (nginx / "access.log.10.gz").symlink_to(outside / "precious.log.1.gz")
    (root / "var/log").mkdir(parents=True, exist_ok=True)
    gz(outside / "app/shop.log.3.gz", age_days=60)
    write_log(outside / "app/shop.log", 10)
    (root / "var/log/shop").symlink_to(outside / "app")
    write_log(root / "srv/data/import.log", 10)
    gz(root / "srv/data/import.log.1.gz", age_days=70)
    with open(nginx / "access.log.8.gz", "rb") as held:
        holder = subprocess.Popen(["sleep", "120"], stdin=held)
    try:
        yield Scene(inventory, root, nginx, outside, holder)
    finally:
        holder.kill()
        holder.wait()


def test_clean_deletes_exactly_the_planned_files_and_nothing_unsafe(scene: Scene, tmp_path: Path) -> None:
    before = tree(scene.root)
    result, events = run_steps(scene.inventory, [ARCHIVE, {"action": "logs.clean", "params": {"keep": 3}}],
                               tmp_path / "runs", limit="web1")
    archive, clean = result.outcomes
    assert archive.outcome == "changed", archive.message
    assert clean.outcome == "changed", clean.message
    planned = {d["path"] for d in clean.data["delete"]}
    gone = {str(scene.root / name) for name in set(before) - set(tree(scene.root))}
    assert gone == planned
    assert set(clean.data["deleted"]) == planned
    expected = {str(scene.nginx / f"access.log.{i}.gz") for i in (4, 5, 6, 7, 9)}
    expected |= {str(scene.nginx / f"{name}-access.log.1.gz") for name in HOSTILE}
    assert planned == expected
    refused = {r["path"]: r["reason"] for r in clean.data["refused"]}
    assert "held open" in refused[str(scene.nginx / "access.log.8.gz")]
    assert (scene.nginx / "access.log.10.gz").is_symlink()
    assert "symlink" in refused[str(scene.root / "var/log/shop/shop.log.3.gz")]
    assert "outside the set's roots" in refused[str(scene.root / "srv/data/import.log.1.gz")]
    for survivor in ("access.log", "access.log.1.gz", "access.log.3.gz", "access.log.8.gz"):
        assert (scene.nginx / survivor).exists()
    assert (scene.outside / "precious.log.1.gz").is_file() and (scene.outside / "app/shop.log.3.gz").is_file()
    assert (scene.root / "srv/data/import.log.1.gz").is_file()
    assert not (scene.nginx / "CANARY").exists() and not Path("CANARY").exists()
    assert not (Path.home() / "CANARY").exists()
    assert len(clean.changes) == len(planned)
    assert events_of(events, "evidence", step=1, phase="before")
    assert events_of(events, "evidence", step=1, phase="after")
    assert clean.data["freed"].startswith(("freed", "used"))


def test_without_a_verified_archive_of_this_run_nothing_is_deleted(scene: Scene, tmp_path: Path) -> None:
    # An archive in an earlier run does not count: it must be this run's.
    run_steps(scene.inventory, [ARCHIVE], tmp_path / "runs", limit="web1")
    before = tree(scene.root)
    result, _ = run_steps(scene.inventory, [{"action": "logs.clean", "params": {"keep": 3}}], tmp_path / "runs",
                          limit="web1")
    (clean,) = result.outcomes
    assert clean.outcome == "ok" and clean.data["delete"] == []
    assert tree(scene.root) == before
    reasons = {r["reason"] for r in clean.data["refused"]}
    assert "no verified archive of it in this run" in reasons


def test_require_archive_false_deletes_and_says_so_loudly(scene: Scene, tmp_path: Path) -> None:
    result, _ = run_steps(scene.inventory, [{"action": "logs.clean", "params": {
        "keep": 3, "require_archive": False, "max_files": 2}}], tmp_path / "runs", limit="web1")
    (clean,) = result.outcomes
    assert clean.outcome == "changed"
    assert all("WITHOUT archive" in sentence for sentence in clean.changes)
    assert len(clean.data["deleted"]) == 2 and len(clean.data["capped"]) >= 3
    oldest = sorted(clean.data["deleted"])
    assert all(not Path(p).exists() for p in oldest)


def test_check_mode_changes_nothing(scene: Scene, tmp_path: Path) -> None:
    before = tree(scene.root)
    result, events = run_steps(scene.inventory, [ARCHIVE, {"action": "logs.clean", "params": {"keep": 3}}],
                               tmp_path / "runs", limit="web1", check=True)
    assert tree(scene.root) == before
    archive, clean = result.outcomes
    assert archive.data["check"] and clean.data["check"]
    assert not events_of(events, "artifact")
    # The plan is the list the real run deletes (once the archive step has verified it).
    expected = {str(scene.nginx / f"access.log.{i}.gz") for i in (4, 5, 6, 7, 9)}
    expected |= {str(scene.nginx / f"{name}-access.log.1.gz") for name in HOSTILE}
    assert {d["path"] for d in clean.data["delete"]} == expected
    assert len(clean.changes) == len(expected)
