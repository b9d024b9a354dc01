"""Loading and validating playbooks against the action registry, before any host is contacted."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
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
             "check_mode", "vars"}
INCLUDE_KEYS = {"include", "vars"}
#: Actions whose steps may say ``check_mode: run``: they change nothing unless the command
#: they are given does. Every other action plans in check mode already and changes nothing
#: there, so for them the key could only mean "change things in a dry run", which never is.
CHECK_MODE_RUN_ACTIONS = ("command",)
REGISTER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: names every template already has; a step's ``vars:`` may not redefine them
RESERVED_VARS = frozenset({"host", "address", "roles", "customer", "check_mode", "incident"})
MAX_INCLUDE_DEPTH = 10


def load_playbook(path: Path, *, text: str | None = None) -> Playbook:
    """Parse and validate structure, action names and params (templates are checked later,
    per host, by ``check_against_hosts``). ``include:`` steps are expanded in place: their
    steps take the include's ``vars:``, and every message about them names their own file and
    line and the chain of includes that led there."""
    return _load(path, text, chain=())


def _read(path: Path, file: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("file not found", file=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=file) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=file) from None


def _load(path: Path, text: str | None, chain: tuple[tuple[Path, str], ...],
          outer_vars: tuple[Any, ...] = ()) -> Playbook:
    """One playbook file; ``chain``: the (resolved file, "file:line") of each include that led here."""
    file = str(path)
    if text is None:
        text = _read(path, file)
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
    via = "".join(f" (included from {at})" for _, at in reversed(chain))
    expanded: list[Step] = []
    for i, spec in enumerate(steps_raw):
        if isinstance(spec, SourceMap) and "include" in spec:
            expanded.extend(_include(i, spec, path, chain, outer_vars))
        else:
            expanded.append(_step(i, spec, data, file, outer_vars, via))
    steps = tuple(replace(step, index=n) for n, step in enumerate(expanded))
    registered: set[str] = set()
    for step in steps:
        if step.register:
            if step.register in registered:
                raise ConfigError(f"{step.register!r} is registered twice{step.included_from}", file=step.file,
                                  line=step.line, field=f"{step.where}.register")
            registered.add(step.register)
    return Playbook(name=name.strip(), description=str(data.get("description", "")).strip(),
                    targets=tuple(targets), steps=steps, file=file,
                    sha256=hashlib.sha256(text.encode()).hexdigest())


def _step_vars(spec: SourceMap, where: str) -> Mapping[str, Any]:
    """A step's or an include's ``vars:``: a mapping of variable names (templates allowed)."""
    found = spec.get("vars")
    if found is None:
        return {}
    if not isinstance(found, Mapping):
        raise spec.error("must be a mapping of variable names to values", key="vars", field=f"{where}.vars")
    for name in found:
        if not isinstance(name, str) or not REGISTER_RE.match(name):
            raise spec.error(f"{name!r} is not a variable name", key="vars", field=f"{where}.vars")
        if name in RESERVED_VARS:
            raise spec.error(f"{name!r} is set by runbook for every host and cannot be redefined", key="vars",
                             field=f"{where}.vars.{name}")
    for path_, value in strings_in(dict(found), "vars"):
        if is_template(value):
            check_syntax(value, file=spec.file, line=_line(found, path_, spec.line), field=f"{where}.{path_}")
    return found  # a SourceMap still: later messages name each var's line


def _include(index: int, spec: SourceMap, path: Path, chain: tuple[tuple[Path, str], ...],
             outer_vars: tuple[Any, ...]) -> list[Step]:
    """The steps of ``include: NAME`` (a file relative to this one, a playbook beside it, or a
    shipped playbook), with the include's ``vars:`` as their outermost layer."""
    from runbook.shipped import find_playbook  # the same lookup as a name on the command line

    file = str(path)
    where = f"steps[{index}]"
    for key in spec:
        if key not in INCLUDE_KEYS:
            raise spec.error(f"an include step takes only include and vars, not {key!r}", key=key,
                             field=f"{where}.{key}")
    target = spec.get("include")
    if not isinstance(target, str) or not target.strip():
        raise spec.error("must name a playbook (a file or a playbook name)", key="include", field=f"{where}.include")
    at = f"{file}:{spec.line_of('include')}"
    relative = path.parent / target.strip()
    try:
        if relative.is_file():
            resolved = relative
        elif "/" in target or target.strip().endswith((".yml", ".yaml")):
            raise ConfigError(f"{relative}: file not found")
        else:
            resolved = find_playbook(target.strip(), cwd=path.parent).path
    except ConfigError as exc:
        raise ConfigError(f"cannot include {target!r}: {exc.message}", file=file,
                          line=spec.line_of("include"), field=f"{where}.include") from None
    seen = [p for p, _ in chain] + [path.resolve()]
    if resolved.resolve() in seen:
        cycle = " -> ".join(str(p) for p in [*seen[seen.index(resolved.resolve()):], resolved.resolve()])
        raise ConfigError(f"include cycle: {cycle}", file=file, line=spec.line_of("include"),
                          field=f"{where}.include")
    if len(chain) >= MAX_INCLUDE_DEPTH:
        raise ConfigError(f"includes nested deeper than {MAX_INCLUDE_DEPTH}", file=file,
                          line=spec.line_of("include"), field=f"{where}.include")
    layers = (*outer_vars, _step_vars(spec, where))
    try:
        inner = _load(resolved, None, (*chain, (path.resolve(), at)), layers)
    except ConfigError as exc:
        # the mistake is in the included file: say so, and how it was reached
        note = f" (included from {at})"
        if note in exc.message:
            raise
        raise ConfigError(exc.message + note, file=exc.file, line=exc.line, field=exc.field) from None
    return list(inner.steps)


def _step(index: int, spec: Any, parent: SourceMap, file: str, outer_vars: tuple[Any, ...] = (),
          via: str = "") -> Step:
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
    own = _step_vars(spec, where)
    return Step(index=index, name=str(name), action=action, params=params,
                when=None if when is None else str(when), on_failure=on_failure, confirm=confirm,
                timeout=timeout, register=register, serial=serial, file=file, line=spec.line,
                when_line=spec.line_of("when") if when is not None else None,
                vars=tuple(layer for layer in (*outer_vars, own) if layer), local_index=index, included_from=via,
                read_only=read_only)


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
    """Every template and condition only uses variables the hosts, earlier steps or the step's
    ``vars:`` define."""
    hosts = list(hosts)
    registered: set[str] = set()
    for step in playbook.steps:
        params = step.params
        for host in hosts:
            known = set(host.vars) | registered
            suffix = f" (host {host.name}){step.included_from}"
            for layer in step.vars:
                for path, text in strings_in(dict(layer), "vars"):
                    if is_template(text):
                        check_template(text, known, file=step.file, line=_line(layer, path, step.line),
                                       field=f"{step.where}.{path}{suffix}")
                known |= set(layer)
            if step.when is not None:
                check_expression(step.when, known, file=step.file, line=step.when_line or step.line,
                                 field=f"{step.where}.when{suffix}")
            for path, text in strings_in(dict(params), "params"):
                if is_template(text):
                    check_template(text, known, file=step.file, line=_line(params, path, step.line),
                                   field=f"{step.where}.{path}{suffix}")
        if step.register:
            registered.add(step.register)


def _line(mapping: Any, path: str, fallback: int) -> int:
    """The line of ``params.key...`` / ``vars.key...`` in the mapping it was read from."""
    key = path.split(".")[1].split("[")[0]
    return (mapping.line_of(key) or fallback) if isinstance(mapping, SourceMap) else fallback
