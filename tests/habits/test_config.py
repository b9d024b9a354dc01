"""The config file as an engineer writes it: precedence flag > environment > file > default,
`runbook config show`, and one clear line for a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import isolate, local_inventory, run_dirs, run_main, runbook_cli, write_playbook, command_step


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """~/.config/runbook/config.toml of this test (XDG_CONFIG_HOME points into tmp_path)."""
    path = Path(tmp_path / "xdg-config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(path))
    (path / "runbook").mkdir(parents=True)
    return path / "runbook" / "config.toml"


def shown(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, str]]:
    code, out, err = run_main(capsys, "config", "show", "--json")
    assert code == 0, err
    return {s["key"]: s for s in json.loads(out)["settings"]}


def test_without_a_config_file_every_setting_is_its_default_and_reports_are_not_under_cwd(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = shown(capsys)
    assert settings["reports_dir"]["value"] == str(tmp_path / "data" / "runbook" / "reports")
    assert settings["forks"] == {**settings["forks"], "value": "20", "source": "default"}
    assert settings["operator"]["value"] is None


def test_the_file_fills_in_what_the_environment_does_not_set(config: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('reports_dir = "oncall"\nforks = 7\nsweep_forks = 9\n\n[operator]\nname = "Eva Berger"\n'
                      'email = "eva@service.example"\nphone = "+49 711 4000-21"\n[mail]\nsender = "noc@service.example"\n')
    monkeypatch.setenv("RUNBOOK_SWEEP_FORKS", "11")
    settings = shown(capsys)
    # relative to the file, never to the current directory
    assert settings["reports_dir"]["value"] == str(config.parent / "oncall")
    assert settings["reports_dir"]["source"] == f"{config}:1"
    assert settings["forks"]["value"] == "7"
    assert settings["sweep_forks"] == {**settings["sweep_forks"], "value": "11", "source": "environment"}
    assert settings["operator"]["value"] == "Eva Berger <eva@service.example>, +49 711 4000-21"
    assert settings["mail.sender"]["value"] == "noc@service.example"


def test_runs_go_where_the_config_says_and_a_flag_still_wins(config: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text(f'reports_dir = "{tmp_path / "from-config"}"\ninventory = "{tmp_path / "inv.yml"}"\n')
    local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step("true"))
    env = {"RUNBOOK_RUNS_DIR": ""}  # cli_env's own runs dir must not hide the config's

    done = runbook_cli("run", book, env=env)  # no -i: the config's inventory
    assert done.returncode == 0, done.stderr
    assert len(run_dirs(tmp_path / "from-config" / "runs")) == 1

    done = runbook_cli("run", book, "--reports-dir", tmp_path / "flag", env=env)
    assert done.returncode == 0, done.stderr
    assert len(run_dirs(tmp_path / "flag" / "runs")) == 1
    assert len(run_dirs(tmp_path / "from-config" / "runs")) == 1


def test_the_config_operator_is_recorded_unless_runbook_operator_names_another(
        config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    runs = isolate(monkeypatch, tmp_path)
    config.write_text('[operator]\nname = "Eva Berger"\nemail = "eva@service.example"\n')
    inventory = local_inventory(tmp_path / "inv.yml")
    book = write_playbook(tmp_path / "pb.yml", command_step("true"))
    assert run_main(capsys, "run", book, "-i", inventory)[0] == 0
    monkeypatch.setenv("RUNBOOK_OPERATOR", "Max Muster")
    assert run_main(capsys, "run", book, "-i", inventory)[0] == 0
    operators = [json.loads((d / "journal.jsonl").read_text().splitlines()[0])["operator"] for d in run_dirs(runs)]
    assert sorted(o["name"] for o in operators) == ["Eva Berger", "Max Muster"]


def test_connect_and_command_timeouts_from_the_config_sit_below_the_inventory(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text("connect_timeout = 4\ncommand_timeout = 33\n")
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {}, "self2": {"command_timeout": 5}})
    code, out, err = run_main(capsys, "inventory", "list", "-i", inventory, "--json")
    assert code == 0, err
    hosts = {h["name"]: h for h in json.loads(out)}
    assert (hosts["self1"]["connect_timeout"], hosts["self1"]["command_timeout"]) == (4.0, 33.0)
    assert hosts["self2"]["command_timeout"] == 5.0


@pytest.mark.parametrize("text, where", [
    ("forkz = 3\n", "config.toml:1: forkz: unknown setting"),
    ("\nforks = true\n", "config.toml:2: forks: must be a whole number"),
    ("forks = \n", "config.toml:1: not valid TOML"),
    ("[operator]\nemail = \"a@b.example\"\n", "config.toml:2: operator.name: operator.email and operator.phone need"),
    ("connect_timeout = -1\n", "config.toml:1: connect_timeout: must be a number of seconds > 0"),
])
def test_a_bad_config_file_is_one_line_with_file_line_and_setting_and_exit_78(
        config: Path, text: str, where: str) -> None:
    config.write_text(text)
    done = runbook_cli("runs", "list")
    assert done.returncode == 78
    assert done.stderr.count("\n") == 1 and where in done.stderr, done.stderr


def test_runbook_config_naming_a_missing_file_is_an_error(tmp_path: Path) -> None:
    done = runbook_cli("config", "show", env={"RUNBOOK_CONFIG": str(tmp_path / "nope.toml")})
    assert done.returncode == 78
    assert "nope.toml: RUNBOOK_CONFIG: file not found" in done.stderr
