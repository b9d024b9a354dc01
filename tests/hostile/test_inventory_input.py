"""Hostile inventories: refused at load with one line naming file, line and field (exit 78),
never a RecursionError, a hang, or a value that only fails when a host is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import isolate, no_traceback, run_main, runbook_cli

CONFIG = 78
HEAD = "customer: {name: Hostile GmbH}\nhosts:\n"


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


def inventory(tmp_path: Path, text: str, name: str = "inventory.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(capsys: pytest.CaptureFixture[str], path: Path, *more: str) -> str:
    """The one error line of `inventory list` over ``path``."""
    code, out, err = run_main(capsys, "inventory", "list", "-i", path, *more)
    no_traceback(out, err)
    assert code == CONFIG, err
    assert out == ""
    (line,) = err.splitlines()
    return line


def test_a_value_nested_thousands_deep_is_refused_not_a_recursion_error(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = inventory(tmp_path, HEAD + "  web1: {address: 10.0.0.1, vars: {deep: " + "[" * 3000 + "]" * 3000 + "}}\n")

    line = refused(capsys, path)

    assert f"{path}:3: hosts.web1.vars.deep[0]" in line and "nested more than 64 levels deep" in line, line


def test_deep_block_nesting_names_the_line_where_it_goes_too_deep(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys = "".join("  " * (i + 3) + f"k{i}:\n" for i in range(70))
    path = inventory(tmp_path, HEAD + "  web1:\n    vars:\n" + keys + "  " * 75 + "x: 1\n")

    line = refused(capsys, path)

    assert f"{path}:" in line and "hosts.web1.vars.k0" in line and "nested more than 64" in line, line


def test_a_billion_laughs_alias_bomb_is_refused_at_once(hermetic: Path, tmp_path: Path) -> None:
    lines = ["customer: {name: X}", "defaults:", "  vars:", '    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"    {name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    path = inventory(tmp_path, "\n".join(lines + ["hosts:", "  web1: {address: 10.0.0.1}"]) + "\n")
    assert path.stat().st_size < 2000

    # `inventory show` printed the expanded value and never finished; the bound is generous.
    # Line 9 (f) is the first anchor past 100,000 values: 9**6.
    done = runbook_cli("inventory", "show", "web1", "-i", path, timeout=60)

    assert done.returncode == CONFIG, done.stderr
    no_traceback(done.stderr)
    assert f"{path}:9: aliases expand this value to more than 100,000 values" in done.stderr, done.stderr


def test_a_few_aliases_as_inventories_use_them_still_load(hermetic: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = inventory(tmp_path, "customer: {name: X}\ndefaults:\n  vars:\n    common: &c {disk_warn: 85}\n"
                               "roles:\n  web: {vars: *c}\n  db: {vars: *c}\nhosts:\n  web1: {address: 10.0.0.1, roles: [web]}\n")

    code, out, err = run_main(capsys, "inventory", "show", "web1", "-i", path)

    assert code == 0, err
    assert "disk_warn: 85" in out


@pytest.mark.parametrize(("address", "says"), [
    ("a..b.example", "'a..b.example' is not a host name"),
    ("ex\u202eelpmaxe.com", "is not a host name"),
    ("-web.example", "label '-web'"),
    ("web 1.example", "label 'web 1'"),
    (" 10.0.0.1", "spaces around it"),
    ("x" * 64 + ".example", "at most 63"),
], ids=["empty-label", "right-to-left-override", "leading-hyphen", "space", "padded", "long-label"])
def test_an_address_no_resolver_would_take_is_refused_at_load(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str, says: str) -> None:
    path = inventory(tmp_path, HEAD + "  web1:\n    roles: [web]\n    address: " + repr(address).replace("\\u202e", "\u202e") + "\n")

    line = refused(capsys, path)

    assert f"{path}:5: hosts.web1.address: " in line and says in line, line
    assert "\u202e" not in line, "the override is shown written out, not acting on the line"


@pytest.mark.parametrize(("jump", "says"), [
    ("root@10.0.0.2:abc", "port 'abc' is not a port number"),
    ("10.0.0.2:70000", "port '70000' is not a port number"),
    ("bastion..example", "is not a host name"),
    ("a.example,b..example", "is not a host name"),
], ids=["port-word", "port-range", "bad-name", "bad-second-hop"])
def test_a_jump_host_that_cannot_be_used_is_refused_at_load(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], jump: str, says: str) -> None:
    path = inventory(tmp_path, HEAD + f"  web1: {{address: 10.0.0.1, jump: '{jump}'}}\n")

    line = refused(capsys, path)

    assert f"{path}:3: hosts.web1.jump: " in line and says in line, line


def test_a_bad_jump_in_the_defaults_names_the_defaults(hermetic: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = inventory(tmp_path, "customer: {name: X}\ndefaults:\n  jump: 'bastion:22x'\nhosts:\n  web1: {address: 10.0.0.1}\n")

    assert f"{path}:3: defaults.jump: " in refused(capsys, path)


def test_an_ssh_config_port_that_is_no_number_names_the_ssh_config(
        monkeypatch: pytest.MonkeyPatch, hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Host web1\n  HostName 10.0.0.1\n  Port twentytwo\n")
    monkeypatch.setenv("RUNBOOK_SSH_CONFIG", str(config))
    path = inventory(tmp_path, HEAD + "  web1: {roles: [web]}\n")

    line = refused(capsys, path)

    assert f"{config}: Port: 'twentytwo' (for host web1) is not a port number" in line, line


@pytest.mark.parametrize(("check", "says"), [
    ("{url: 'file:///etc/passwd'}", "is not an http:// or https:// URL"),
    ("{url: 'http://shop.example:99999/'}", "Port out of range"),
    ("{url: 'http://shop.example/', status: ok}", "status 'ok' is not an HTTP status"),
    ("{url: 'http://shop.example/', timeout: fast}", "timeout 'fast' is not a number"),
    ("{url: 'http://shop.example/', verify_tls: maybe}", "verify_tls 'maybe'"),
    ("{url: 'http://shop.example/', methd: POST}", "unknown key 'methd'"),
], ids=["file-url", "port-range", "status-word", "timeout-word", "verify-word", "unknown-key"])
def test_an_http_check_a_probe_could_not_use_is_refused_at_load(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], check: str, says: str) -> None:
    path = inventory(tmp_path, HEAD + f"  web1:\n    address: 10.0.0.1\n    http_checks:\n      - {check}\n")

    line = refused(capsys, path)

    assert f"{path}:6: hosts.web1.http_checks[0]: " in line and says in line, line


def test_a_service_port_out_of_range_is_refused(hermetic: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = inventory(tmp_path, HEAD + "  web1: {address: 10.0.0.1, service_ports: [443, 0]}\n")

    assert f"{path}:3: hosts.web1.service_ports: must be a list of port numbers 1-65535" in refused(capsys, path)


def test_an_extra_var_nested_thousands_deep_is_a_usage_error(hermetic: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = inventory(tmp_path, HEAD + "  web1: {address: 10.0.0.1}\n")

    code, _, err = run_main(capsys, "inventory", "list", "-i", path, "-e", "x=" + "[" * 3000 + "]" * 3000)

    assert code == 64 and "-e/--extra-var: x: nested more than 64 levels deep" in err, err
