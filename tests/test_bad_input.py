"""Bad inventories and playbooks, through the real CLI: one line naming file:line and the field,
a non-zero exit status (78 for configuration, 64 for the command line), never a traceback.

Every case runs ``python -m runbook`` as a subprocess. They are started together by one
module fixture (each is mostly interpreter start-up), and each test then checks its own result.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import no_traceback, run_dirs, runbook_cli

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"
BASE_INVENTORY = BAD / "base-inventory.yml"
CONFIG, USAGE = 78, 64


@dataclass(frozen=True)
class Case:
    """One bad input: the command, and where and what the error must say."""

    id: str
    args: tuple[str, ...]
    file: str | None            # the file the message must name (relative to BAD), with ...
    line: int | None            # ... this exact line, or no line at all when None
    says: tuple[str, ...]       # field name and words the message must contain
    code: int = CONFIG


def check(playbook: str, *more: str) -> tuple[str, ...]:
    return ("check", str(BAD / playbook), *more)


def with_hosts(playbook: str) -> tuple[str, ...]:
    return check(playbook, "-i", str(BASE_INVENTORY))


def inventory(path: str) -> tuple[str, ...]:
    return ("inventory", "list", "-i", str(BAD / path))


CASES = [
    # -- playbooks --
    Case("yaml-syntax", check("pb-bad-yaml.yml"), "pb-bad-yaml.yml", 6,
         ("invalid YAML", "flow mapping on line 5")),
    Case("tab-indentation", check("pb-tab-indent.yml"), "pb-tab-indent.yml", 4, ("invalid YAML", "\\t")),
    Case("unknown-action", check("pb-unknown-action.yml"), "pb-unknown-action.yml", 7,
         ("steps[1].action", "reboot_everything")),
    Case("missing-action", check("pb-missing-action.yml"), "pb-missing-action.yml", 3,
         ("steps[0].action", "missing")),
    Case("check-mode-value", check("pb-check-mode-value.yml"), "pb-check-mode-value.yml", 6,
         ("steps[0].check_mode", "must be 'run'")),
    Case("check-mode-not-a-command", check("pb-check-mode-action.yml"), "pb-check-mode-action.yml", 5,
         ("steps[0].check_mode", "only a command step")),
    Case("check-mode-and-confirm", check("pb-check-mode-confirm.yml"), "pb-check-mode-confirm.yml", 7,
         ("steps[0].check_mode", "nothing to confirm")),
    Case("missing-param", check("pb-missing-param.yml"), "pb-missing-param.yml", 6,
         ("steps[0].params.cmd", "required")),
    Case("wrong-param-type", check("pb-wrong-param-type.yml"), "pb-wrong-param-type.yml", 7,
         ("steps[0].params.sudo", "true or false", "'maybe'")),
    Case("unknown-param", check("pb-unknown-param.yml"), "pb-unknown-param.yml", 7,
         ("steps[0].params.become_user", "unknown param")),
    Case("unknown-top-level-key", check("pb-unknown-top-key.yml"), "pb-unknown-top-key.yml", 2,
         ("hosts", "unknown key")),
    Case("unknown-var-in-template", with_hosts("pb-unknown-var.yml"), "pb-unknown-var.yml", 9,
         ("steps[1].params.cmd", "log_dri", "web1")),
    Case("template-syntax-without-hosts", check("pb-template-syntax.yml"), "pb-template-syntax.yml", 6,
         ("steps[0].params.cmd", "template syntax error")),
    Case("unknown-var-in-when", with_hosts("pb-bad-when.yml"), "pb-bad-when.yml", 6,
         ("steps[0].when", "disk_wran")),
    Case("duplicate-yaml-key", check("pb-duplicate-key.yml"), "pb-duplicate-key.yml", 6,
         ("action", "duplicate key", "first on line 4")),
    Case("bad-on-failure", check("pb-bad-on-failure.yml"), "pb-bad-on-failure.yml", 6,
         ("steps[0].on_failure", "'abort' or 'continue'")),
    Case("bad-timeout", check("pb-bad-timeout.yml"), "pb-bad-timeout.yml", 6,
         ("steps[0].timeout", "not a duration")),
    Case("empty-steps", check("pb-empty-steps.yml"), "pb-empty-steps.yml", 3, ("steps", "non-empty")),
    Case("playbook-not-a-mapping", check("pb-not-a-mapping.yml"), "pb-not-a-mapping.yml", 1, ("mapping",)),
    Case("missing-playbook", check("pb-does-not-exist.yml"), "pb-does-not-exist.yml", None,
         ("file not found",)),
    Case("run-validates-before-connecting", ("run", str(BAD / "pb-unknown-var.yml"), "-i", str(BASE_INVENTORY)),
         "pb-unknown-var.yml", 9, ("steps[1].params.cmd", "log_dri")),
    # -- inventories --
    Case("duplicate-host-in-a-file", inventory("inv-duplicate-host.yml"), "inv-duplicate-host.yml", 5,
         ("web1", "duplicate key", "first on line 3")),
    Case("duplicate-host-across-files", inventory("dup-across"), "dup-across/b.yml", 5,
         ("hosts.web1", "duplicate host", "dup-across/a.yml:3")),
    Case("bad-port-type", inventory("inv-bad-port.yml"), "inv-bad-port.yml", 7, ("hosts.web1.port", "int")),
    Case("port-out-of-range", inventory("inv-port-range.yml"), "inv-port-range.yml", 3,
         ("defaults.port", "1-65535")),
    Case("inventory-not-a-mapping", inventory("inv-not-a-mapping.yml"), "inv-not-a-mapping.yml", 1,
         ("must be a mapping",)),
    Case("unknown-host-key", inventory("inv-unknown-host-key.yml"), "inv-unknown-host-key.yml", 5,
         ("hosts.web1.hostname", "unknown key")),
    Case("bad-contract-duration", inventory("inv-bad-contract.yml"), "inv-bad-contract.yml", 7,
         ("contract.reaction.2", "'4 hours'")),
    Case("inventory-unclosed-quote", inventory("inv-bad-yaml.yml"), "inv-bad-yaml.yml", 2,
         ("invalid YAML", "quoted scalar")),
    Case("inventory-without-hosts", inventory("inv-no-hosts.yml"), "inv-no-hosts.yml", 1,
         ("hosts", "at least one host")),
    Case("roles-not-a-list", inventory("inv-bad-roles.yml"), "inv-bad-roles.yml", 3,
         ("hosts.web1.roles", "list of role names")),
    Case("bad-connection-kind", inventory("inv-bad-connection.yml"), "inv-bad-connection.yml", 4,
         ("hosts.self.connection", "'ssh' or 'local'")),
    Case("missing-inventory", inventory("inv-does-not-exist.yml"), "inv-does-not-exist.yml", None,
         ("file not found",)),
    # -- the command line --
    # a value given on the command line is a usage error (64), and says what would be allowed
    Case("limit-matches-nothing", (*inventory("base-inventory.yml"), "-l", "web1,wbe2"), None, None,
         ("--limit", "'wbe2' matches no host", "hosts web1"), USAGE),
    Case("extra-var-without-value", (*with_hosts("pb-bad-when.yml"), "-e", "disk_warn"), None, None,
         ("-e/--extra-var", "key=value"), USAGE),
    Case("forks-zero", ("run", str(BAD / "pb-bad-when.yml"), "-i", str(BASE_INVENTORY), "--forks", "0"),
         None, None, ("--forks",), USAGE),
    Case("unknown-option", ("run", "--frobnicate"), None, None, ("--frobnicate",), USAGE),
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Every case's CLI run, started a few at a time."""
    base = tmp_path_factory.mktemp("bad-input-runs")

    def one(case: Case) -> tuple[subprocess.CompletedProcess[str], Path]:
        runs = base / case.id
        return runbook_cli(*case.args, runs_dir=runs), runs

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip((c.id for c in CASES), pool.map(one, CASES)))


def test_there_are_at_least_fifteen_distinct_bad_inputs() -> None:
    files = {c.file for c in CASES if c.file}
    assert len(files) >= 15 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_line_with_file_line_and_field(
        case: Case, results: dict[str, tuple[subprocess.CompletedProcess[str], Path]]) -> None:
    result, runs = results[case.id]

    no_traceback(result.stdout, result.stderr)
    assert result.returncode == case.code, result.stderr
    lines = result.stderr.strip().splitlines()
    if case.code == CONFIG:
        assert len(lines) == 1, result.stderr
        assert result.stdout == ""
    message = lines[0]
    if case.file is not None:
        where = str(BAD / case.file) + (f":{case.line}:" if case.line else ":")
        assert where in message, f"expected {where!r} in {message!r}"
        if case.line is None:  # no line number invented for a file that cannot be read
            assert f"{BAD / case.file}: " in message
    for words in case.says:
        assert words in message, f"expected {words!r} in {message!r}"
    # Nothing was started: no host was contacted, no journal was opened.
    assert run_dirs(runs) == []
