"""logs.rotate against the real-sshd lab: logrotate where the host has it and a config for the
set, the built-in rotation otherwise; check mode changes nothing."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from tests.lab import Lab
from tests.support.loglab import events_of, log_root, run_steps, tree, write_inventory, write_log

needs_logrotate = pytest.mark.skipif(shutil.which("logrotate") is None and not Path("/usr/sbin/logrotate").exists(),
                                     reason="logrotate is not installed on this machine")


def with_config(root: Path) -> Path:
    config = root / "etc/logrotate.d/nginx"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"{root}/var/log/nginx/*access*.log {{\n  rotate 3\n  compress\n  missingok\n}}\n")
    (root / "var/lib").mkdir(parents=True, exist_ok=True)  # where the state file goes
    return config


@needs_logrotate
def test_logrotate_is_used_with_the_sets_config_and_state_file(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name, logrotate_state="var/lib/logrotate.status")
    root = log_root(lab, "web1", tmp_path.name)
    config = with_config(root)
    old = write_log(root / "var/log/nginx/access.log", 4000, seed=7).read_bytes()
    result, events = run_steps(inventory, [{"action": "logs.rotate", "params": {"sets": ["nginx-access", "nginx-error"]}}],
                               tmp_path / "runs", limit="web1")
    (outcome,) = result.outcomes
    assert outcome.outcome == "changed", outcome.message
    assert outcome.data["sets"]["nginx-access"]["method"] == "logrotate"
    assert gzip.decompress((root / "var/log/nginx/access.log.1.gz").read_bytes()) == old
    assert (root / "var/lib/logrotate.status").read_text().count("access.log") == 1
    # nginx-error shares the config: one logrotate run rotates both sets, never two.
    assert [c for c in outcome.changes if "logrotate -f" in c] == [
        f"rotate nginx-access, nginx-error with logrotate -f {config}"]
    commands = [e["command"] for e in events_of(events, "command") if "logrotate -f" in e["command"]]
    assert commands and commands[0].endswith(f"logrotate -f -s {root}/var/lib/logrotate.status {config}")
    assert events_of(events, "evidence", phase="before") and events_of(events, "evidence", phase="after")


def test_builtin_rotation_without_a_config(lab: Lab, tmp_path: Path) -> None:
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    root = log_root(lab, "web1", tmp_path.name)
    old = write_log(root / "var/log/nginx/access.log", 5000, seed=8).read_bytes()
    result, _ = run_steps(inventory, [{"action": "logs.rotate", "params": {"sets": ["nginx-access"]}}],
                          tmp_path / "runs", limit="web1")
    (outcome,) = result.outcomes
    assert outcome.outcome == "changed", outcome.message
    assert outcome.data["sets"]["nginx-access"]["method"] == "builtin"
    # Defaults: copytruncate (the writer keeps its file), delaycompress keeps .1 plain.
    assert (root / "var/log/nginx/access.log").stat().st_size == 0
    assert (root / "var/log/nginx/access.log.1").read_bytes() == old


def test_builtin_rotation_continues_a_plain_numbered_scheme(lab: Lab, tmp_path: Path) -> None:
    """access.log.1 .. .7 uncompressed on the host: shifted as they are, nothing compressed,
    never access.log.2 beside access.log.2.gz (issue 11)."""
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name)
    logs = log_root(lab, "web1", tmp_path.name) / "var/log/nginx"
    old = {n: write_log(logs / f"access.log.{n}", 1000 + n, seed=n).read_bytes() for n in range(1, 8)}
    live = write_log(logs / "access.log", 3000, seed=42).read_bytes()
    result, _ = run_steps(inventory, [{"action": "logs.rotate", "params": {"sets": ["nginx-access"]}}],
                          tmp_path / "runs", limit="web1")
    (outcome,) = result.outcomes
    assert outcome.outcome == "changed", outcome.message
    assert sorted(p.name for p in logs.iterdir()) == ["access.log", *(f"access.log.{n}" for n in range(1, 8))]
    assert (logs / "access.log.1").read_bytes() == live
    assert all((logs / f"access.log.{n + 1}").read_bytes() == old[n] for n in range(1, 7))


@needs_logrotate
def test_check_mode_shows_logrotates_dry_run_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    no_config = {"web1": {"log_sets": {"nginx-error": {"logrotate_config": None}}}}
    inventory = write_inventory(lab, tmp_path / "inv.yml", tmp_path.name, host_vars=no_config,
                                logrotate_state="var/lib/logrotate.status")
    root = log_root(lab, "web1", tmp_path.name)
    with_config(root)
    write_log(root / "var/log/nginx/access.log", 4000)
    write_log(root / "var/log/nginx/error.log", 4000)
    before = tree(root)
    result, _ = run_steps(inventory, [{"action": "logs.rotate", "params": {"sets": ["nginx-access", "nginx-error"]}}],
                          tmp_path / "runs", limit="web1", check=True)
    (outcome,) = result.outcomes
    assert tree(root) == before
    assert "rotating pattern" in outcome.data["sets"]["nginx-access"]["dry_run"]
    assert outcome.data["sets"]["nginx-error"]["method"] == "builtin"
    assert any("error.log" in c and "copy" in c for c in outcome.changes)
