"""Jinja2 in playbook params: sandboxed, strict (an unknown variable is an error, not "")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from runbook.errors import ConfigError


@lru_cache(maxsize=1)
def _env() -> Any:
    """The one sandboxed, strict environment. Built (and Jinja2 imported) on first use: a
    playbook without templates, like the sweep's, never pays for it."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    return ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                         keep_trailing_newline=True)


#: names every template may use besides the host's vars
BUILTIN_NAMES = frozenset({"host", "address", "roles", "customer", "check_mode", "incident", "range", "lipsum",
                           "dict", "cycler", "joiner", "namespace"})


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def strings_in(value: Any, path: str) -> Iterable[tuple[str, str]]:
    """Every string in a nested params value, with its dotted path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from strings_in(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings_in(v, f"{path}[{i}]")


def undeclared(text: str) -> set[str]:
    """Variables a template reads; raises jinja2.TemplateSyntaxError on bad syntax."""
    from jinja2 import meta
    return meta.find_undeclared_variables(_env().parse(text))


def check_syntax(text: str, *, file: str, line: int, field: str) -> None:
    """Syntax only: what can be checked before the hosts (and so the vars) are known."""
    import jinja2
    try:
        _env().parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"template syntax error: {exc.message}", file=file, line=line, field=field) from None


def check_template(text: str, known: set[str], *, file: str, line: int, field: str) -> None:
    """Syntax and unknown-variable check, done before any host is contacted."""
    import jinja2
    try:
        names = undeclared(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"template syntax error: {exc.message}", file=file, line=line, field=field) from None
    unknown = sorted(names - known - BUILTIN_NAMES)
    if unknown:
        raise ConfigError(f"template uses undefined variable(s): {', '.join(unknown)}", file=file,
                          line=line, field=field)


def render(value: Any, context: Mapping[str, Any], *, file: str, line: int, field: str) -> Any:
    """Render every template string inside ``value`` with ``context``."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        import jinja2
        try:
            return _env().from_string(value).render(context)
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"template: {exc.message}", file=file, line=line, field=field) from None
        except jinja2.TemplateError as exc:
            raise ConfigError(f"template: {exc}", file=file, line=line, field=field) from None
    if isinstance(value, Mapping):
        return {k: render(v, context, file=file, line=line, field=f"{field}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context, file=file, line=line, field=f"{field}[{i}]") for i, v in enumerate(value)]
    return value


def evaluate(expression: str, context: Mapping[str, Any], *, file: str, line: int, field: str) -> bool:
    """A ``when`` condition, as a Jinja2 expression."""
    import jinja2
    try:
        return bool(_env().compile_expression(expression, undefined_to_none=False)(**context))
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"condition: {exc.message}", file=file, line=line, field=field) from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"condition: {exc}", file=file, line=line, field=field) from None


def check_expression(expression: str, known: set[str], *, file: str, line: int, field: str) -> None:
    import jinja2
    try:
        names = undeclared("{{ " + expression + " }}")
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"condition syntax error: {exc.message}", file=file, line=line, field=field) from None
    unknown = sorted(names - known - BUILTIN_NAMES)
    if unknown:
        raise ConfigError(f"condition uses undefined variable(s): {', '.join(unknown)}", file=file,
                          line=line, field=field)
