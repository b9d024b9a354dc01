"""Shell completion in real bash, zsh and fish: the script `runbook --show-completion` prints in
each shell (what `--install-completion` installs) is loaded into that shell, and the shell's own
completion machinery asks runbook for host names, limits, playbook names, run ids and incident
ids, read from a real inventory and real journals."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import REPO, cli_env, local_inventory, runbook_cli

WAIT = 120.0  # a bound against a hang, not a performance target


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A `runbook` command on PATH that runs this checkout, an inventory, a run and an incident."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "runbook"
    wrapper.write_text(f'#!/bin/sh\ncd {REPO} && exec python3 -m runbook "$@"\n')
    wrapper.chmod(0o755)
    inventory = local_inventory(tmp_path / "inv.yml", {
        "web1": {"roles": ["web"]}, "web2": {"roles": ["web"]}, "db1": {"roles": ["db"]}})
    reports = tmp_path / "reports"
    env = cli_env(reports / "runs", RUNBOOK_REPORTS_DIR=str(reports), RUNBOOK_INVENTORY=str(inventory),
                  PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", HOME=str(tmp_path))
    done = runbook_cli("exec", "-l", "web1", "true", env=env)
    assert done.returncode == 0, done.stderr
    opened = runbook_cli("incident", "open", "ACME-412", "-c", "2", "--received", "2026-12-03T02:30", "--summary", "disk full", env=env)
    assert opened.returncode == 0, opened.stderr
    env["RUN_ID"] = next((reports / "runs").iterdir()).name
    return env


def shell(program: str, script: str, env: dict[str, str]) -> list[str]:
    if shutil.which(program) is None:
        pytest.skip(f"{program} is not installed (tests/install-deps.sh installs it)")
    done = subprocess.run([program, "-c", script], env=env, capture_output=True, text=True, timeout=WAIT, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done.stdout.splitlines()


BASH = """
eval "$(runbook --show-completion)"
ask() { COMP_WORDS=($1); [ "${1: -1}" = " " ] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]}-1))
        _runbook_completion runbook; echo "${COMPREPLY[*]}"; }
ask "runbook shell w"
ask "runbook exec -l web1,"
ask "runbook run on"
ask "runbook runs show 2"
ask "runbook incident show A"
ask "runbook sw"
"""


def test_bash_completes_hosts_limits_playbooks_runs_and_incidents(home: dict[str, str]) -> None:
    hosts, limits, playbooks, runs, incidents, commands = shell("bash", BASH, home)
    assert hosts.split() == ["web1", "web2"]
    # after a comma: the next pattern, not the one already given
    assert set(limits.split()) == {"web1,web2", "web1,db1", "web1,web", "web1,db", "web1,local"}
    assert "on-call" in playbooks.split()
    assert runs.split() == [home["RUN_ID"]]
    assert incidents.split() == ["ACME-412"]
    assert commands.split() == ["sweep"]


ZSH = """
compdef() { : }
_arguments() { print -rl -- "$@" }
eval "$(runbook --show-completion)"
words=(runbook shell w); CURRENT=3; _runbook_completion
words=(runbook run --incident A); CURRENT=4; _runbook_completion
"""


def test_zsh_completes_hosts_and_incidents(home: dict[str, str]) -> None:
    out = "\n".join(shell("zsh", ZSH, home))
    assert '"web1"' in out and '"web2"' in out and '"db1"' not in out
    assert '"ACME-412"' in out


FISH = """
runbook --show-completion | source
complete -C "runbook shell w"
echo ==
complete -C "runbook exec -l d"
echo ==
complete -C "runbook runs show 2"
"""


def test_fish_completes_hosts_limits_and_runs(home: dict[str, str]) -> None:
    out = shell("fish", FISH, home)
    hosts, limits, runs = "\n".join(out).split("\n==\n")
    assert hosts.split() == ["web1", "web2"]
    assert set(limits.split()) == {"db1", "db"}  # fish sorts what it shows
    assert runs.split() == [home["RUN_ID"]]


def test_a_broken_inventory_completes_nothing_and_prints_no_error(home: dict[str, str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("hosts: [\n")
    env = dict(home, RUNBOOK_INVENTORY=str(broken))
    assert shell("bash", BASH.split('ask "runbook exec')[0], env) == [""]


def test_install_completion_puts_it_where_each_shell_finds_it(home: dict[str, str], tmp_path: Path) -> None:
    env = dict(home, HOME=str(tmp_path / "home"))
    env.pop("XDG_CONFIG_HOME", None)  # typer installs fish's under ~/.config; fish looks there only then
    Path(env["HOME"]).mkdir()
    for program in ("bash", "zsh", "fish"):
        said = shell(program, "runbook --install-completion; true", env)
        assert f"{program} completion installed in" in "\n".join(said)
    # a new interactive bash reads ~/.bashrc, which now loads it
    assert shell("bash", "source ~/.bashrc; complete -p runbook", env) == [
        "complete -o default -F _runbook_completion runbook"]
    # fish loads ~/.config/fish/completions by itself
    assert shell("fish", 'complete -C "runbook shell w"', env) == ["web1", "web2"]
    # zsh: the function file on the fpath that ~/.zshrc extends
    assert "fpath+=~/.zfunc" in (tmp_path / "home" / ".zshrc").read_text()
    assert "_RUNBOOK_COMPLETE=complete_zsh" in (tmp_path / "home" / ".zfunc" / "_runbook").read_text()
