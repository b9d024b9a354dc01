"""Loading and validating playbooks against the action registry, before any host is contacted."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runbook.actions import ACTIONS
from runbook.actions.params import ParamError, build
from runbook.errors import ConfigError
from runbook.inventory.model import Host
from runbook.playbook.model import Playbook, Step
from runbook.templating import check_expression, check_syntax, check_template, is_template, strings_in
from runbook.units import parse_duration
from runbook.yamlsource import SourceMap, parse_yaml

PLAYBOOK_KEYS = {"name", "description", "targets", "steps"}
STEP_KEYS = {"name", "action", "params", "when", "on_failure", "confirm", "timeout", "register", "serial",
             "check_mode"}
#: Actions whose steps may say ``check_mode: run``: they change nothing unless the command
#: they are given does. Every other action plans in check mode already and changes nothing
#: there, so for them the key could only mean "change things in a dry run", which never is.
CHECK_MODE_RUN_ACTIONS = ("command",)
REGISTER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def load_playbook(path: Path, *, text: str | None = None) -> Playbook:
    """Parse and validate structure, action names and params (templates are checked later,
    per host, by ``check_against_hosts``)."""
    file = str(path)
    if text is None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError("file not found", file=file) from None
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("not UTF-8 text", file=file) from None
    data = parse_yaml(text, file)
    if not isinstance(data, SourceMap):
        raise ConfigError("a playbook is a mapping with name and steps", file=file, line=1)
    for key in data:
        if key not in PLAYBOOK_KEYS:
            raise data.error(f"unknown key (expected one of: {', '.join(sorted(PLAYBOOK_KEYS))})", key=key)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise data.error("missing or not a string", key="name" if "name" in data else None, field="name")
    targets = data.get("targets", [])
    if isinstance(targets, str):
        targets = [targets]
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise data.error("must be a list of roles or host names", key="targets")
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise data.error("a playbook needs a non-empty list of steps", key="steps" if "steps" in data else None,
                         field="steps")
    steps = tuple(_step(i, s, data, file) for i, s in enumerate(steps_raw))
    registered: set[str] = set()
    for step in steps:
        if step.register:
            if step.register in registered:
                raise ConfigError(f"{step.register!r} is registered twice", file=file, line=step.line,
                                  field=f"steps[{step.index}].register")
            registered.add(step.register)
    return Playbook(name=name.strip(), description=str(data.get("description", "")).strip(),
                    targets=tuple(targets), steps=steps, file=file,
                    sha256=hashlib.sha256(text.encode()).hexdigest())


def _step(index: int, spec: Any, parent: SourceMap, file: str) -> Step:
    where = f"steps[{index}]"
    if not isinstance(spec, SourceMap):
        raise ConfigError("each step is a mapping with an action", file=file, line=parent.line_of("steps"),
                          field=where)
    for key in spec:
        if key not in STEP_KEYS:
            raise spec.error(f"unknown key (expected one of: {', '.join(sorted(STEP_KEYS))})", key=key,
                             field=f"{where}.{key}")
    action = spec.get("action")
    if not isinstance(action, str):
        raise spec.error("missing: every step names an action", key="action" if "action" in spec else None,
                         field=f"{where}.action")
    if action not in ACTIONS:
        raise spec.error(f"unknown action {action!r} (see `runbook actions`)", key="action",
                         field=f"{where}.action")
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise spec.error("must be a mapping", key="params", field=f"{where}.params")
    try:
        build(ACTIONS[action].Params, params, rendered=False)
    except ParamError as exc:
        line = params.line_of(exc.field.split(".")[0].split("[")[0]) if isinstance(params, SourceMap) else spec.line
        raise ConfigError(str(exc), file=file, line=line, field=f"{where}.params.{exc.field}") from None
    # Template syntax needs no host: `runbook check` without -i must already refuse a broken one.
    for path, text in strings_in(dict(params), "params"):
        if is_template(text):
            key = path.split(".")[1].split("[")[0]
            check_syntax(text, file=file, line=params.line_of(key) if isinstance(params, SourceMap) else spec.line,
                         field=f"{where}.{path}")
    on_failure = spec.get("on_failure", "abort")
    if on_failure not in ("abort", "continue"):
        raise spec.error("must be 'abort' or 'continue'", key="on_failure", field=f"{where}.on_failure")
    confirm = spec.get("confirm")
    if confirm is not None and not isinstance(confirm, bool):
        raise spec.error("must be true or false", key="confirm", field=f"{where}.confirm")
    timeout = spec.get("timeout")
    if timeout is not None:
        try:
            timeout = parse_duration(timeout)
        except ValueError as exc:
            raise spec.error(str(exc), key="timeout", field=f"{where}.timeout") from None
        if timeout <= 0:
            raise spec.error("must be > 0", key="timeout", field=f"{where}.timeout")
    when = spec.get("when")
    if when is not None and not isinstance(when, (str, bool)):
        raise spec.error("must be an expression string", key="when", field=f"{where}.when")
    if isinstance(when, str):
        check_syntax("{{ " + when + " }}", file=file, line=spec.line_of("when"), field=f"{where}.when")
    register = spec.get("register")
    if register is not None and (not isinstance(register, str) or not REGISTER_RE.match(register)):
        raise spec.error("must be a variable name", key="register", field=f"{where}.register")
    serial = spec.get("serial", False)
    if not isinstance(serial, bool):
        raise spec.error("must be true or false", key="serial", field=f"{where}.serial")
    read_only = _read_only(spec, action, where)
    name = spec.get("name") or action
    return Step(index=index, name=str(name), action=action, params=params,
                when=None if when is None else str(when), on_failure=on_failure, confirm=confirm,
                timeout=timeout, register=register, serial=serial, file=file, line=spec.line,
                when_line=spec.line_of("when") if when is not None else None, read_only=read_only)


def _read_only(spec: SourceMap, action: str, where: str) -> bool:
    """``check_mode: run`` (Ansible's ``check_mode: false`` is read the same): the step only
    reads, so it runs in check mode too and never asks."""
    if "check_mode" not in spec:
        return False
    value = spec.get("check_mode")
    if value not in ("run", False):
        raise spec.error("must be 'run' (the step only reads: run it in check mode too)", key="check_mode",
                         field=f"{where}.check_mode")
    if action not in CHECK_MODE_RUN_ACTIONS:
        raise spec.error(f"only a command step can say it only reads; {action} plans in check mode and "
                         "changes nothing there", key="check_mode", field=f"{where}.check_mode")
    if spec.get("confirm") is True:
        raise spec.error("a step that only reads has nothing to confirm", key="check_mode",
                         field=f"{where}.check_mode")
    return True


def check_against_hosts(playbook: Playbook, hosts: Iterable[Host]) -> None:
    """Every template and condition only uses variables the hosts (or earlier steps) define."""
    hosts = list(hosts)
    registered: set[str] = set()
    for step in playbook.steps:
        params = step.params
        for host in hosts:
            known = set(host.vars) | registered
            if step.when is not None:
                check_expression(step.when, known, file=step.file, line=step.when_line or step.line,
                                 field=f"steps[{step.index}].when (host {host.name})")
            for path, text in strings_in(dict(params), "params"):
                if is_template(text):
                    key = path.split(".")[1].split("[")[0]
                    line = params.line_of(key) if isinstance(params, SourceMap) else step.line
                    check_template(text, known, file=step.file, line=line,
                                   field=f"steps[{step.index}].{path} (host {host.name})")
        if step.register:
            registered.add(step.register)
