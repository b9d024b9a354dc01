"""Hostile templates in playbook params and ``when``: each ends as a template error naming the
playbook's file:line and field, in bounded time and memory, never as "internal error" with a
traceback in the journal; a render that runs long stops at Ctrl-C and at the time limit."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

import runbook.templating
from tests.support.cli import (
    command_step,
    events_of,
    host_end,
    isolate,
    journal,
    local_inventory,
    no_traceback,
    run_dirs,
    run_main,
    start_runbook,
    write_playbook,
)

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"


@pytest.fixture
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return isolate(monkeypatch, tmp_path)


@pytest.mark.parametrize(("template", "says"), [
    ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion too deep"),
    ("{{ range(10**9)|list|length }}", "ranges larger than MAX_RANGE"),
    ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
    ("{{ 7 // 0 }}", "ZeroDivisionError"),
    ("{{ 'a' + 1 }}", "TypeError"),
    ("{{ 'x' * 10**10 }}", "'*' would build 10,000,000,000 characters"),
    ("{{ [0] * 10**9 }}", "'*' would build 1,000,000,000"),
    ("{{ 10 ** 100000 }}", "'**' would make a number of more than 8192 bits"),
    ("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
     "builds a value of 1,048,576 characters"),
    ("{{ 'x'.center(10**10) }}", "str.center would build more than 1,000,000 characters"),
    ("{{ '%*s' | format(10**9, 'a') }}", "a width in '%*s'"),
    ("{{ '%*s' % (10**9, 'a') }}", "a width in '%*s'"),
    ("{{ '{:>{w}}'.format('a', w=10**9) }}", "a width in '{:>{w}}'"),
    ("{{ ('a' * 1000) | replace('a', 'x' * 10000) }}", "replace would build more than 1,000,000"),
    ("{{ lipsum(10**7) }}", "lipsum: at most 100 paragraphs"),
], ids=["recursion", "range", "division", "floor-division", "type", "str-times", "list-times", "power", "doubling",
        "center", "format-filter", "percent", "str-format", "replace", "lipsum"])
def test_a_hostile_template_is_a_template_error_naming_the_playbook_line(
        hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], template: str, says: str) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"]}})
    playbook = write_playbook(tmp_path / "pb.yml", command_step(f"echo {template}", name="hostile"))

    code, out, err = run_main(capsys, "run", playbook, "-i", inventory)

    no_traceback(out, err)
    assert code == 4
    events = journal(hermetic)
    result = host_end(events, "self1")
    assert result["outcome"] == "failed"
    assert result["message"].startswith(f"{playbook}:6: steps[0].params.cmd: template: "), result["message"]
    assert says in result["message"], result["message"]
    assert "internal error" not in result["message"]
    assert events_of(events, "error") == [], "no traceback: the template's fault, not runbook's"
    assert events_of(events, "command") == [], "nothing ran on the host"
    assert events[-1]["event"] == "run.end"


def test_a_hostile_condition_names_the_when_line(hermetic: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"]}})
    playbook = write_playbook(tmp_path / "pb.yml", command_step("true", name="guarded", when="1 / 0 > 1"))

    code, _, err = run_main(capsys, "run", playbook, "-i", inventory)

    assert code == 4, err
    message = host_end(journal(hermetic), "self1")["message"]
    line = next(n for n, text in enumerate(playbook.read_text().splitlines(), 1) if text.strip().startswith("when:"))
    assert message.startswith(f"{playbook}:{line}: steps[0].when: condition: ZeroDivisionError"), message


def test_ordinary_templates_still_render(hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"], "vars": {"n": 3}}})
    template = ("{% for i in range(n) %}{{ i }}{% endfor %} {{ '%05d' | format(42) }} {{ '{:>4}'.format(7) }} "
                "{{ ['a', 'b'] | join('-') }} {{ 'ab' | center(6) }}| {{ 2 ** 10 }} {{ 'x' * 3 }} {{ 'a' ~ 'b' }}")
    playbook = write_playbook(tmp_path / "pb.yml", command_step(f"echo '{template}'", name="fine"))

    code, _, err = run_main(capsys, "run", playbook, "-i", inventory)

    assert code == 0, err
    assert host_end(journal(hermetic), "self1")["message"] == "012 00042    7 a-b   ab  | 1024 xxx ab"


def test_a_template_that_loops_too_long_ends_at_the_time_limit(
        monkeypatch: pytest.MonkeyPatch, hermetic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(runbook.templating, "RENDER_TIME_LIMIT", 0.5)  # 10 s in the shipped tool
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"]}})
    playbook = write_playbook(tmp_path / "pb.yml", command_step(f"echo {NESTED_LOOPS}", name="loops"))

    code, _, _ = run_main(capsys, "run", playbook, "-i", inventory)

    assert code == 4
    message = host_end(journal(hermetic), "self1")["message"]
    assert message.startswith(f"{playbook}:6: steps[0].params.cmd: template: still rendering after 0.5s"), message


def test_ctrl_c_stops_a_template_that_renders_for_ever(tmp_path: Path) -> None:
    inventory = local_inventory(tmp_path / "inv.yml", hosts={"self1": {"roles": ["web"]}})
    playbook = write_playbook(tmp_path / "pb.yml", command_step(f"echo {NESTED_LOOPS}", name="loops"))
    runs = tmp_path / "runs"
    proc = start_runbook("run", playbook, "-i", inventory, runs_dir=runs)
    try:
        # wait until the run has started the host (its host.start is journalled), then Ctrl-C
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (run_dirs(runs) and events_of(journal(runs), "host.start")):
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a bound against a hang, not a timing
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 130, err
    no_traceback(out, err)
    events = journal(runs)
    assert host_end(events, "self1")["message"] == "template rendering interrupted"
    assert events[-1]["event"] == "run.end" and events[-1]["status"] == "interrupted"
