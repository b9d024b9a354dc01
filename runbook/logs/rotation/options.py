"""The options of the built-in log rotation, named and defaulted as logrotate names them.

Every default below is logrotate 3.21's own default (``config.c``: ``defConfig``), except two
that would be dangerous for an on-call tool and are therefore explicit:

- ``rotate`` has no default (logrotate's is 0, which deletes every old log), and
- ``create`` defaults to true (logrotate's built-in default is ``nocreate``; Debian and RHEL turn
  ``create`` on globally in ``/etc/logrotate.conf``, so that is what admins expect).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from runbook import units
from runbook.errors import ConfigError

# logrotate's "size", "minsize" and "maxsize" accept exactly these suffixes (config.c): k or K,
# but only upper-case M and G; anything else is "unknown unit". Each means what runbook.units
# says a lone prefix letter means (a power of 2), so only the spelling is narrower here.
_SIZE_UNITS = ("k", "K", "M", "G")

# The only conversion specifiers logrotate allows in ``dateformat`` (logrotate.8) and the glob
# it builds for each one when it looks for old dated logs (prerotateSingleLog).
DATE_SPECIFIER_DIGITS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "V": 2, "s": 10}

# Literal text in a dateformat becomes part of a glob in logrotate; we allow only characters
# that mean the same thing in a glob and in a file name, so our matching cannot drift from it.
_DATEFORMAT_LITERAL = re.compile(r"[A-Za-z0-9._+-]*")
_COMPRESSEXT = re.compile(r"\.[A-Za-z0-9._+-]+")
_WORD = re.compile(r"[A-Za-z0-9._+/-]+")
_OPTION_WORD = re.compile(r"[A-Za-z0-9._+/=,:-]+")
_OWNER = re.compile(r"[A-Za-z0-9._-][A-Za-z0-9._$-]*")
_MODE = re.compile(r"0?[0-7]{3,4}")


@dataclass(frozen=True)
class RotationOptions:
    """How one log file is rotated; the meaning of each field is logrotate's directive of the
    same name.

    rotate: old logs kept (``rotate 0``: none). compress / delaycompress / compresscmd /
    compressoptions / compressext: compress rotated logs, keeping ``.1`` plain with
    delaycompress. copytruncate: copy the live log, then truncate it in place (else rename it and,
    with ``create``, make a new one with create_mode / create_owner / create_group, each
    defaulting to the old log's). postrotate: a shell script run once after the rotation and
    before compression, with the log path as ``$1`` (like ``sharedscripts``). dateext /
    dateformat: name rotated logs by date instead of number. missingok: a missing log is no
    error. ifempty: rotate an empty log (``notifempty`` is ``ifempty=False``). size: rotate only
    from this many bytes on. minsize: when rotation is due, skip logs smaller than this. maxage:
    remove rotated logs older than this many days.
    """

    rotate: int
    compress: bool = False
    delaycompress: bool = False
    copytruncate: bool = False
    create: bool = True
    create_mode: int | None = None
    create_owner: str | None = None
    create_group: str | None = None
    postrotate: str | None = None
    dateext: bool = False
    dateformat: str = "-%Y%m%d"
    missingok: bool = False
    ifempty: bool = True
    size: int | None = None
    minsize: int | None = None
    maxage: int | None = None
    compresscmd: str = "gzip"
    compressoptions: tuple[str, ...] = field(default_factory=tuple)
    compressext: str = ".gz"

    def __post_init__(self) -> None:
        _check_int("rotate", self.rotate, minimum=0)
        for name in ("size", "minsize"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=0)
        if self.maxage is not None:
            _check_int("maxage", self.maxage, minimum=1)
        if self.create_mode is not None:
            _check_int("create_mode", self.create_mode, minimum=0)
            if self.create_mode > 0o7777:
                raise ConfigError(f"not a file mode: {self.create_mode:o}", field="create_mode")
        for name in ("create_owner", "create_group"):
            value = getattr(self, name)
            if value is not None and not _OWNER.fullmatch(value):
                raise ConfigError(f"not a user or group name: {value!r}", field=name)
        if self.postrotate is not None and not self.postrotate.strip():
            raise ConfigError("must not be empty", field="postrotate")
        check_dateformat(self.dateformat)
        if not _WORD.fullmatch(self.compresscmd):
            raise ConfigError(f"one program name or path expected, got {self.compresscmd!r}",
                              field="compresscmd")
        if not _COMPRESSEXT.fullmatch(self.compressext):
            raise ConfigError(f"an extension like '.gz' expected, got {self.compressext!r}",
                              field="compressext")
        for option in self.compressoptions:
            if not _OPTION_WORD.fullmatch(option):
                raise ConfigError(f"not a plain option word: {option!r}", field="compressoptions")

    @property
    def rotated_ext(self) -> str:
        """The extension rotated logs carry in their shifted names ('' without compress)."""
        return self.compressext if self.compress else ""

    @property
    def delays_compression(self) -> bool:
        """delaycompress only means something together with compress (logrotate ignores it
        otherwise: both flags are tested together everywhere)."""
        return self.compress and self.delaycompress

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], *, file: str | None = None,
                     line: int | None = None) -> RotationOptions:
        """Options from a playbook mapping, keyed by logrotate's directive names.

        ``notifempty``/``ifempty``, ``nocreate``/``create`` and ``reload``/``postrotate`` are
        accepted as synonyms. ``create`` is a bool, a logrotate-style string ``"0640 www-data
        adm"`` or a mapping ``{mode, owner, group}``. Sizes take logrotate's units ("100k",
        "10M", "1G"). Raises ConfigError naming the file, line and field of the first mistake.
        """
        try:
            return cls(**_read_mapping(mapping))
        except ConfigError as err:
            raise ConfigError(err.message, file=file, line=line, field=err.field) from None


def parse_logrotate_size(value: object, *, field_name: str = "size") -> int:
    """Bytes from a logrotate size: an int, or digits with an optional k/K/M/G suffix (binary,
    as ``runbook.units.parse_size`` reads them; logrotate refuses any other spelling, so do we)."""
    if isinstance(value, bool):
        raise ConfigError(f"a size like 100k expected, got {value!r}", field=field_name)
    if isinstance(value, int):
        _check_int(field_name, value, minimum=0)
        return value
    if not isinstance(value, str) or not value:
        raise ConfigError(f"a size like 100k expected, got {value!r}", field=field_name)
    digits = value[:-1] if value[-1] in _SIZE_UNITS else value
    if not digits.isascii() or not digits.isdigit():
        unit = value[-1]
        hint = f"unknown unit {unit!r} (k, K, M or G)" if not unit.isdigit() else "bad size"
        raise ConfigError(f"{hint}: {value!r}", field=field_name)
    return units.parse_size(value)


def check_dateformat(dateformat: str) -> None:
    """Refuse a dateformat logrotate would not take or that could not be a file name suffix."""
    parts = re.split(r"%(.)", dateformat.lstrip(" "))
    literals, specifiers = parts[0::2], parts[1::2]
    if not specifiers:
        raise ConfigError(f"needs at least one of %Y %m %d %H %M %S %V %s: {dateformat!r}",
                          field="dateformat")
    for spec in specifiers:
        if spec not in DATE_SPECIFIER_DIGITS:
            raise ConfigError(f"%{spec} is not allowed (only %Y %m %d %H %M %S %V %s)",
                              field="dateformat")
    for text in literals:
        if not _DATEFORMAT_LITERAL.fullmatch(text) or dateformat.endswith("%"):
            raise ConfigError(f"only letters, digits and . _ + - may surround the date: "
                              f"{dateformat!r}", field="dateformat")


_SYNONYMS = {"reload": "postrotate"}
_BOOLS = {"compress", "delaycompress", "copytruncate", "dateext", "missingok", "ifempty"}


def _read_mapping(mapping: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        raise ConfigError(f"a mapping of rotation options expected, got {type(mapping).__name__}")
    known = {f.name for f in fields(RotationOptions)}
    values: dict[str, Any] = {}
    for raw_key, value in mapping.items():
        key = _SYNONYMS.get(str(raw_key), str(raw_key))
        if key == "notifempty":
            values["ifempty"] = not _bool(key, value)
        elif key == "nocreate":
            values["create"] = not _bool(key, value)
        elif key == "create":
            values.update(_create(value))
        elif key in _BOOLS:
            values[key] = _bool(key, value)
        elif key in ("size", "minsize"):
            values[key] = parse_logrotate_size(value, field_name=key)
        elif key in ("rotate", "maxage"):
            values[key] = _int(key, value)
        elif key == "create_mode":
            values[key] = _mode(value)
        elif key == "compressoptions":
            values[key] = _words(key, value)
        elif key in known:
            if not isinstance(value, str):
                raise ConfigError(f"text expected, got {value!r}", field=key)
            values[key] = value
        else:
            raise ConfigError("unknown rotation option", field=key)
    if "rotate" not in values:
        raise ConfigError("required: how many rotated logs to keep (rotate 0 keeps none)",
                          field="rotate")
    return values


def _create(value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"create": value}
    if isinstance(value, str):
        words = value.split()
        if not 1 <= len(words) <= 3:
            raise ConfigError(f"'MODE [OWNER [GROUP]]' expected, got {value!r}", field="create")
        found: dict[str, Any] = {"create": True, "create_mode": _mode(words[0])}
        found.update(zip(("create_owner", "create_group"), words[1:], strict=False))
        return found
    if isinstance(value, Mapping):
        extra = set(value) - {"mode", "owner", "group"}
        if extra:
            raise ConfigError(f"unknown key {sorted(extra)[0]!r} (mode, owner, group)",
                              field="create")
        found = {"create": True}
        if "mode" in value:
            found["create_mode"] = _mode(value["mode"])
        for key in ("owner", "group"):
            if key in value:
                if not isinstance(value[key], str):
                    raise ConfigError(f"a name expected, got {value[key]!r}", field=f"create.{key}")
                found[f"create_{key}"] = value[key]
        return found
    raise ConfigError(f"true/false, 'MODE OWNER GROUP' or a mapping expected, got {value!r}",
                      field="create")


def _mode(value: object) -> int:
    # An unquoted 0640 in YAML 1.1 arrives as the int 416 and 640 as decimal 640: the two cannot
    # be told apart, so only the quoted octal string is accepted.
    if isinstance(value, str) and _MODE.fullmatch(value):
        return int(value, 8)
    raise ConfigError(f"an octal mode in quotes like \"0640\" expected, got {value!r}",
                      field="create_mode")


def _bool(key: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"true or false expected, got {value!r}", field=key)
    return value


def _int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"a whole number expected, got {value!r}", field=key)
    return value


def _words(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"a string or list of option words expected, got {value!r}", field=key)


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"a whole number expected, got {value!r}", field=name)
    if value < minimum:
        raise ConfigError(f"must be at least {minimum}, got {value}", field=name)
