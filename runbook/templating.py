"""Jinja2 in playbook params: sandboxed, strict (an unknown variable is an error, not "").

A template is the playbook author's code running in runbook's process, so besides the sandbox
(no attribute access to internals, ``range`` at most 100,000 items) every render is bounded:

- in time: ``RENDER_TIME_LIMIT`` seconds, and it stops when the run is stopped (Ctrl-C,
  SIGTERM): every loop iteration, call and intercepted operator checks the clock and the stop
  flag, so ``{% for i in range(100000) %}{% for j in range(100000) %}`` ends as an error;
- in size: a string or list made by ``*``, ``+``, ``~``, ``%`` or a widening filter may hold
  ``MAX_TEXT`` characters (items), and ``**`` may not make numbers beyond ``MAX_POWER_BITS``;
- in what it can raise: recursion, division by zero, an overflow or a wrong type is a
  ConfigError naming the playbook's file, line and field, like an unknown variable.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from runbook.errors import ConfigError, Interrupted

#: seconds one params value or ``when`` may take to render
RENDER_TIME_LIMIT = 10.0
#: characters of a string, or items of a list, a template may build
MAX_TEXT = 1_000_000
#: bits of a number ``**`` may make (a 2,000-digit number is already no size or count)
MAX_POWER_BITS = 8192
#: str methods whose int argument is the length of what they build
_WIDENING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


class TemplateLimit(Exception):
    """A template went past a bound (time, size); the message says which."""


@dataclass(frozen=True)
class _Budget:
    deadline: float
    stop: threading.Event | None


_active = threading.local()  # the budget of the render running in this thread


def _tick() -> None:
    """Called from inside a render: stop it when the run stops or its time is up."""
    budget: _Budget | None = getattr(_active, "budget", None)
    if budget is None:
        return
    if budget.stop is not None and budget.stop.is_set():
        raise Interrupted("template rendering interrupted")
    if time.monotonic() > budget.deadline:
        raise TemplateLimit(f"still rendering after {RENDER_TIME_LIMIT:g}s (a loop that does not end?)")


def _sized(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_TEXT:
        raise TemplateLimit(f"builds a value of {len(value):,} characters or items (at most {MAX_TEXT:,})")
    return value


def _loop(iterable: Any) -> Iterator[Any]:
    """What every ``{% for %}`` iterates over: the same items, with the clock checked."""
    for item in iterable:
        _tick()
        yield item


def _check_widening(obj: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """A str method about to build a string longer than MAX_TEXT from its arguments."""
    method = getattr(obj, "__wrapped__", obj)  # the sandbox wraps str.format in a safe formatter
    owner = getattr(method, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(method, "__name__", "")
    if name in _WIDENING_METHODS and any(isinstance(a, int) and a > MAX_TEXT for a in (*args, *kwargs.values())):
        raise TemplateLimit(f"str.{name} would build more than {MAX_TEXT:,} characters")
    if name in ("format", "format_map"):
        _check_str_format(owner, args, kwargs)
    if name == "replace" and len(args) >= 2:
        if len(owner) + owner.count(str(args[0])) * max(0, len(str(args[1])) - len(str(args[0]))) > MAX_TEXT:
            raise TemplateLimit(f"str.replace would build more than {MAX_TEXT:,} characters")
    if name == "join" and args:
        items = list(args[0]) if isinstance(args[0], (list, tuple, str)) else []
        if sum(len(str(i)) for i in items) + len(owner) * len(items) > MAX_TEXT:
            raise TemplateLimit(f"str.join would build more than {MAX_TEXT:,} characters")


def _power_fits(base: Any, exponent: Any) -> bool:
    if not isinstance(base, (int, float)) or not isinstance(exponent, (int, float)) or exponent <= 1:
        return True
    magnitude = abs(base)
    return magnitude <= 1 or exponent * math.log2(magnitude) <= MAX_POWER_BITS


_PRINTF_FIELD = re.compile(r"%[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC_NUMBER = re.compile(r"\{[^{}]*:[^{}]*?(\d{7,})")


def _check_printf(template: Any, values: Any) -> None:
    """``template % values`` would not build more than MAX_TEXT characters from its widths."""
    if not isinstance(template, str) or "%" not in template:
        return
    values = values if isinstance(values, tuple) else (values,)
    big_value = any(isinstance(v, int) and not isinstance(v, bool) and v > MAX_TEXT for v in values)
    for match in _PRINTF_FIELD.finditer(template):
        for part in match.groups():
            if (part == "*" and big_value) or (part and part.isdigit() and int(part) > MAX_TEXT):
                raise TemplateLimit(f"a width in {template[:40]!r} would build more than {MAX_TEXT:,} characters")


def _check_str_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """``template.format(...)``: no literal width past MAX_TEXT, and no width taken from a value past it."""
    if _FORMAT_SPEC_NUMBER.search(template) and any(int(n) > MAX_TEXT for n in _FORMAT_SPEC_NUMBER.findall(template)):
        raise TemplateLimit(f"a width in {template[:40]!r} would build more than {MAX_TEXT:,} characters")
    nested = re.search(r"\{[^{}]*:[^{}]*\{", template)
    values = list(args) + list(kwargs.values())
    if nested and any(isinstance(v, int) and not isinstance(v, bool) and v > MAX_TEXT for v in values):
        raise TemplateLimit(f"a width in {template[:40]!r} would build more than {MAX_TEXT:,} characters")


def _guarded_filter(name: str, original: Any) -> Any:
    """Filters that make their result larger than their input: checked before they build it.
    (``functools.wraps`` keeps Jinja's mark of which filters are passed the context.)"""

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if name == "join":  # (eval_ctx, value, d="", attribute=None)
            items = [str(i) for i in args[1]] if len(args) > 1 else []
            separator = str(args[2] if len(args) > 2 else kwargs.get("d", ""))
            if sum(len(i) for i in items) + len(separator) * len(items) > MAX_TEXT:
                raise TemplateLimit(f"join would build more than {MAX_TEXT:,} characters")
            return original(args[0], items, *args[2:], **kwargs)
        if name == "replace" and len(args) >= 4:  # (eval_ctx, s, old, new, count=None)
            text, old, new = str(args[1]), str(args[2]), str(args[3])
            if len(text) + text.count(old) * max(0, len(new) - len(old)) > MAX_TEXT:
                raise TemplateLimit(f"replace would build more than {MAX_TEXT:,} characters")
        if name == "format" and args:
            _check_printf(args[0], tuple(args[1:]) or tuple(kwargs.values()))
        if name in ("center", "indent", "wordwrap") and any(
                isinstance(a, int) and a > MAX_TEXT for a in (*args[1:], *kwargs.values())):
            raise TemplateLimit(f"{name} would build more than {MAX_TEXT:,} characters")
        return _sized(original(*args, **kwargs))

    return guarded


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:
    if n > 100 or max > 1000:
        raise TemplateLimit("lipsum: at most 100 paragraphs of 1,000 words")
    from jinja2.utils import generate_lorem_ipsum
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


@lru_cache(maxsize=1)
def _env() -> Any:
    """The one sandboxed, strict, bounded environment. Built (and Jinja2 imported) on first
    use: a playbook without templates, like the sweep's, never pays for it."""
    import jinja2
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class BoundedCode(CodeGenerator):
        """Every for loop iterates through ``_loop``, every ``~`` through ``_sized``."""

        def visit_For(self, node: Any, frame: Any) -> None:
            node.iter = nodes.Call(nodes.EnvironmentAttribute("runbook_loop"), [node.iter], [], None, None,
                                   lineno=node.lineno)
            super().visit_For(node, frame)

        def visit_Concat(self, node: Any, frame: Any) -> None:
            self.write("environment.runbook_sized(")
            super().visit_Concat(node, frame)
            self.write(")")

    class BoundedSandbox(ImmutableSandboxedEnvironment):
        code_generator_class = BoundedCode
        intercepted_binops = frozenset({"*", "**", "+", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            _tick()
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_TEXT:
                        raise TemplateLimit(f"'*' would build {len(seq) * times:,} characters or items "
                                            f"(at most {MAX_TEXT:,})")
            if operator == "%":
                _check_printf(left, right)
            if operator == "**" and not _power_fits(left, right):
                raise TemplateLimit(f"'**' would make a number of more than {MAX_POWER_BITS} bits")
            return _sized(super().call_binop(context, operator, left, right))

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            _tick()
            _check_widening(__obj, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)

    env = BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.runbook_loop = _loop  # type: ignore[attr-defined]
    env.runbook_sized = _sized  # type: ignore[attr-defined]
    env.globals["lipsum"] = _lipsum
    for name in ("join", "center", "indent", "wordwrap", "format", "replace"):
        env.filters[name] = _guarded_filter(name, env.filters[name])
    return env


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


def render(value: Any, context: Mapping[str, Any], *, file: str, line: int, field: str,
           stop: threading.Event | None = None) -> Any:
    """Render every template string inside ``value`` with ``context``; ``stop`` set (the run
    was interrupted) ends a render that is still going with Interrupted."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        return _bounded("template", file, line, field, stop,
                        lambda: _env().from_string(value).render(context))
    if isinstance(value, Mapping):
        return {k: render(v, context, file=file, line=line, field=f"{field}.{k}", stop=stop)
                for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context, file=file, line=line, field=f"{field}[{i}]", stop=stop)
                for i, v in enumerate(value)]
    return value


def evaluate(expression: str, context: Mapping[str, Any], *, file: str, line: int, field: str,
             stop: threading.Event | None = None) -> bool:
    """A ``when`` condition, as a Jinja2 expression (bounded like ``render``)."""
    return bool(_bounded("condition", file, line, field, stop,
                         lambda: _env().compile_expression(expression, undefined_to_none=False)(**context)))


def _bounded(what: str, file: str, line: int, field: str, stop: threading.Event | None, work: Any) -> Any:
    """Run ``work`` (one render) within the time limit; whatever the template's own code raises
    becomes a ConfigError naming the playbook's file, line and field."""
    import jinja2
    _active.budget = _Budget(time.monotonic() + RENDER_TIME_LIMIT, stop)
    try:
        return work()
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{what}: {exc.message}", file=file, line=line, field=field) from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{what}: {exc}", file=file, line=line, field=field) from None
    except TemplateLimit as exc:
        raise ConfigError(f"{what}: {exc}", file=file, line=line, field=field) from None
    except RecursionError:
        raise ConfigError(f"{what}: recursion too deep (a macro that calls itself without end?)",
                          file=file, line=line, field=field) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError, MemoryError) as exc:
        # the template's own arithmetic or types: 1/0, 'a' + 1, int('x'), 10.0**400
        raise ConfigError(f"{what}: {type(exc).__name__}: {exc}", file=file, line=line, field=field) from None
    finally:
        _active.budget = None


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
