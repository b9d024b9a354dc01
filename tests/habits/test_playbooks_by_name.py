"""Shipped playbooks by name after `pip install`, `runbook playbooks`, and a local file of the same
name winning (the output says which was used)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from runbook.shipped import find_playbook
from tests.support.cli import REPO, cli_env, command_step, local_inventory, write_playbook

SHIPPED = sorted(p.stem for p in (REPO / "playbooks").glob("*.yml"))


def runbook_in(cwd: Path, *args: object) -> subprocess.CompletedProcess[str]:
    """``python -m runbook`` from another directory, on this checkout's code."""
    env = cli_env(PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "runbook", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)


def test_runbook_playbooks_lists_every_shipped_one_with_its_description(tmp_path: Path) -> None:
    done = runbook_in(tmp_path, "playbooks", "--json")
    assert done.returncode == 0, done.stderr
    found = {p["name"]: p for p in json.loads(done.stdout)}
    assert sorted(found) == SHIPPED
    assert all(p["origin"] == "shipped" and p["description"] and p["steps"] for p in found.values())
    assert found["on-call"]["title"] == "On-call standard sequence"


def test_a_shipped_playbook_runs_by_name_from_any_directory(tmp_path: Path) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    done = runbook_in(tmp_path, "run", "kernel-versions", "-i", inventory, "--runs-dir", tmp_path / "runs")
    assert done.returncode == 0, done.stderr
    assert "playbook kernel-versions: shipped (" in done.stderr
    assert "self1" in done.stdout and "Kernel version" in done.stdout
    assert runbook_in(tmp_path, "check", "disk-pressure").returncode == 0


def test_a_local_file_of_the_same_name_wins_and_the_output_says_so(tmp_path: Path) -> None:
    inventory = local_inventory(tmp_path / "inv.yml")
    write_playbook(tmp_path / "playbooks" / "kernel-versions.yml", command_step("echo ours-not-shipped"),
                   name="Our kernel check")
    done = runbook_in(tmp_path, "run", "kernel-versions", "-i", inventory, "--runs-dir", tmp_path / "runs", "--json")
    assert done.returncode == 0, done.stderr
    assert (f"playbook kernel-versions: local file {tmp_path / 'playbooks' / 'kernel-versions.yml'} "
            "-- used instead of the shipped one") in done.stderr
    assert {r["data"]["stdout"] for r in json.loads(done.stdout)["results"]} == {"ours-not-shipped\n"}
    listed = {p["name"]: p for p in json.loads(runbook_in(tmp_path, "playbooks", "--json").stdout)}
    assert listed["kernel-versions"]["origin"] == "local" and listed["kernel-versions"]["shadows"]
    assert listed["on-call"]["origin"] == "shipped"


def test_a_playbook_beside_the_inventory_is_found_by_name(tmp_path: Path) -> None:
    inventory = local_inventory(tmp_path / "customers" / "acme.yml")
    write_playbook(tmp_path / "customers" / "playbooks" / "acme-cache.yml", command_step("true"), name="ACME cache")
    found = find_playbook("acme-cache", [inventory], cwd=tmp_path)
    assert (found.origin, found.path) == ("local", tmp_path / "customers" / "playbooks" / "acme-cache.yml")


def test_an_unknown_name_says_where_it_looked_and_exits_78(tmp_path: Path) -> None:
    done = runbook_in(tmp_path, "check", "on-cal")
    assert done.returncode == 78
    assert "no playbook 'on-cal'" in done.stderr and "runbook playbooks" in done.stderr
    assert runbook_in(tmp_path, "check", "missing.yml").stderr.strip() == "runbook: error: missing.yml: file not found"


def test_the_wheel_carries_the_shipped_playbooks(tmp_path: Path) -> None:
    """What `pip install` installs: built as pip builds it, then run from that install."""
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("runbook-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"runbook/_shipped/playbooks/{n}.yml" for n in SHIPPED} <= set(names)
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    env = {**cli_env(), "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", "import runbook, sys; from runbook.shipped import find_playbook; "
                           "f = find_playbook('on-call'); print(f.origin, f.path)"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"shipped {target / 'runbook' / '_shipped' / 'playbooks' / 'on-call.yml'}"
    assert os.path.isfile(target / "runbook" / "_shipped" / "inventory" / "local.yml")
