"""The engineer's own settings: ``~/.config/runbook/config.toml`` (``$XDG_CONFIG_HOME``), or the
file ``RUNBOOK_CONFIG`` names.

Every setting has an environment variable, and the file only fills in the variables that are
not set. So the precedence is the same everywhere, whichever part of runbook reads a setting:
a command-line flag, else the environment, else this file, else the built-in default.
``runbook config show`` prints each setting with its value and where it came from.

::

    inventory = "~/customers"                 # the default -i
    reports_dir = "~/oncall/reports"          # reports, incidents, alert state; runs/ below it
    runs_dir = "~/oncall/reports/runs"        # run journals (default: <reports_dir>/runs)
    forks = 20                                # hosts at a time for run and exec
    sweep_forks = 50                          # hosts at a time for sweep
    connect_timeout = 10                      # seconds, where the inventory sets none
    command_timeout = 120                     # seconds, where the inventory sets none

    [operator]                                # the person at the keyboard
    name = "Eva Berger"
    email = "eva.berger@service.example"
    phone = "+49 711 4000-21"

    [mail]
    sender = "bereitschaft@service.example"   # From of reports, alerts and provider notices

Relative paths are taken from the file's own directory, never from the current one: a cron
job and an interactive shell find the same journals.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook.errors import ConfigError

ENV_CONFIG = "RUNBOOK_CONFIG"


@dataclass(frozen=True)
class Setting:
    """One setting: its key in the file (``section.key`` inside a table), its environment
    variable, its kind ("path", "paths", "int", "seconds", "text") and what it is for."""

    key: str
    env: str
    kind: str
    default: str
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting("inventory", "RUNBOOK_INVENTORY", "paths", "none: -i is required",
            "the default -i (a file or directory; several separated by spaces)"),
    Setting("reports_dir", "RUNBOOK_REPORTS_DIR", "path", "$XDG_DATA_HOME/runbook/reports",
            "reports, incidents and alert state"),
    Setting("runs_dir", "RUNBOOK_RUNS_DIR", "path", "<reports_dir>/runs", "run journals"),
    Setting("forks", "RUNBOOK_FORKS", "int", "20", "hosts at a time for run and exec"),
    Setting("sweep_forks", "RUNBOOK_SWEEP_FORKS", "int", "50", "hosts at a time for sweep"),
    Setting("connect_timeout", "RUNBOOK_CONNECT_TIMEOUT", "seconds", "10",
            "seconds to connect, where the inventory sets none"),
    Setting("command_timeout", "RUNBOOK_COMMAND_TIMEOUT", "seconds", "120",
            "seconds per command, where the inventory and the step set none"),
    Setting("operator.name", "RUNBOOK_OPERATOR", "text", "the inventory's operator",
            "the person at the keyboard (with operator.email, operator.phone)"),
    Setting("operator.email", "RUNBOOK_OPERATOR", "text", "", ""),
    Setting("operator.phone", "RUNBOOK_OPERATOR", "text", "", ""),
    Setting("mail.sender", "RUNBOOK_MAIL_FROM", "text", "the SMTP user, else runbook@<this host>",
            "From of reports, alerts and provider notices"),
)
_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class ConfigFile:
    """The settings a config file holds, as environment values, and the line of each."""

    path: Path
    exists: bool
    values: Mapping[str, str]       # env var -> value the file gives it
    lines: Mapping[str, int]        # setting key -> line in the file


def config_path(environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The config file to read and whether it was named explicitly (``RUNBOOK_CONFIG``)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_CONFIG):
        return Path(os.path.expanduser(env[ENV_CONFIG])), True
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "runbook" / "config.toml", False


def default_reports_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/runbook/reports`` (``~/.local/share/runbook/reports``): the same place
    whatever the current directory, so cron and interactive runs share their journals."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "runbook" / "reports"


def _toml() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
        return tomllib
    import tomli  # the same parser, for Python 3.10 (pyproject.toml installs it there)
    return tomli


def _line_of(text: str, section: str | None, key: str) -> int | None:
    """Where ``key`` is written (inside ``[section]``); tomllib keeps no line numbers."""
    current: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]", stripped)
        if header:
            current = header.group(1)
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


def read_config(environ: Mapping[str, str] | None = None) -> ConfigFile:
    """Read and check the config file. A missing default file is no error (nothing is set);
    a missing ``RUNBOOK_CONFIG`` file, bad TOML, an unknown key or a wrong type is a
    ConfigError naming the file, line and setting."""
    path, explicit = config_path(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError("file not found", file=str(path), field=ENV_CONFIG) from None
        return ConfigFile(path, False, {}, {})
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", file=str(path)) from None
    toml = _toml()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ConfigError(f"not valid TOML: {exc}", file=str(path),
                          line=int(found.group(1)) if found else None) from None
    flat: dict[str, tuple[Any, int | None]] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key in ("operator", "mail"):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = (item, _line_of(text, key, inner))
        else:
            flat[key] = (value, _line_of(text, None, key))
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    operator: dict[str, str] = {}
    for key, (value, line) in flat.items():
        setting = _BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"unknown setting (expected one of: {', '.join(s.key for s in SETTINGS)})",
                              file=str(path), line=line, field=key)
        checked = _checked(setting, value, path, line)
        if line is not None:
            lines[key] = line
        if key.startswith("operator."):
            operator[key.partition(".")[2]] = checked
        else:
            values[setting.env] = checked
    if operator:
        if not operator.get("name"):
            raise ConfigError("operator.email and operator.phone need operator.name", file=str(path),
                              line=lines.get("operator.email") or lines.get("operator.phone"), field="operator.name")
        text_value = operator["name"] + (f" <{operator['email']}>" if operator.get("email") else "")
        values["RUNBOOK_OPERATOR"] = text_value + (f", {operator['phone']}" if operator.get("phone") else "")
    return ConfigFile(path, True, values, lines)


def _checked(setting: Setting, value: Any, path: Path, line: int | None) -> str:
    """The setting's value as its environment variable carries it."""
    def bad(why: str) -> ConfigError:
        return ConfigError(why, file=str(path), line=line, field=setting.key)

    if setting.kind in ("path", "paths"):
        items = value if isinstance(value, list) and setting.kind == "paths" else [value]
        if not items or not all(isinstance(v, str) and v.strip() for v in items):
            raise bad("must be a path" + (" or a list of paths" if setting.kind == "paths" else ""))
        if any(" " in v for v in items) and setting.kind == "paths":
            raise bad("inventory paths cannot contain spaces (RUNBOOK_INVENTORY separates them by spaces)")
        return " ".join(str(_relative_to(path.parent, v)) for v in items)
    if setting.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 500:
            raise bad(f"must be a whole number from 1 to 500, not {value!r}")
        return str(value)
    if setting.kind == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise bad(f"must be a number of seconds > 0, not {value!r}")
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise bad(f"must be a non-empty string, not {value!r}")
    return value.strip()


def _relative_to(base: Path, value: str) -> Path:
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else (base / path)


@contextmanager
def applied(environ: MutableMapping[str, str] | None = None) -> Iterator[ConfigFile]:
    """For the duration of one command: every environment variable the file sets and the
    environment does not already have. Restored afterwards (the CLI may run in-process)."""
    env = os.environ if environ is None else environ
    found = read_config(env)
    added = [name for name in found.values if not env.get(name)]
    for name in added:
        env[name] = found.values[name]
    try:
        yield found
    finally:
        for name in added:
            env.pop(name, None)


@dataclass(frozen=True)
class ShownSetting:
    """One line of ``runbook config show``."""

    key: str
    env: str
    value: str | None
    source: str
    doc: str


def show(environ: Mapping[str, str], found: ConfigFile) -> list[ShownSetting]:
    """Every setting, its value now, and where that came from: the environment, the config
    file and line, or the default. (A variable holding just what the file says is shown as
    the file's: ``applied`` put it there.)"""
    before = {name: value for name, value in environ.items() if found.values.get(name) != value}
    rows = []
    for setting in SETTINGS:
        if setting.key in ("operator.email", "operator.phone"):
            continue
        key = "operator" if setting.key == "operator.name" else setting.key
        if before.get(setting.env):
            rows.append(ShownSetting(key, setting.env, before[setting.env], "environment", setting.doc))
        elif setting.env in found.values:
            line = found.lines.get(setting.key) or found.lines.get("operator.email")
            rows.append(ShownSetting(key, setting.env, found.values[setting.env],
                                     f"{found.path}:{line}" if line else str(found.path), setting.doc))
        else:
            if key == "reports_dir":
                value, source = str(default_reports_dir(environ)), "default ($XDG_DATA_HOME/runbook/reports)"
            elif setting.kind in ("int", "seconds"):
                value, source = setting.default, "default"
            else:
                value, source = None, f"default ({setting.default})"
            rows.append(ShownSetting(key, setting.env, value, source, setting.doc))
    return rows
