"""Log sets: which log files a host has, who writes them, how long they are kept, and where
deleting is allowed at all.

A host's merged vars carry ``log_sets``, a mapping of set name to::

    log_sets:
      nginx-access:
        globs: [var/log/nginx/*access*.log]     # the live logs; rotated siblings are found
        format: nginx-access                     # for the analysis (see FORMATS)
        service: nginx                           # who writes them (restart / reload target)
        keep: 7                                  # rotated files kept per log (clean)
        max_age: 30d                             # rotated files older than this go (clean)
        roots: [var/log/nginx]                   # deleting is allowed only inside these
        logrotate_config: etc/logrotate.d/nginx  # logs.rotate uses `logrotate -f` with it
        rotate: {rotate: 7, compress: true}      # built-in rotation (no logrotate/config)

Relative paths (globs, roots, logrotate_config, and ``logrotate_state`` for logs.rotate) are
taken relative to the host var ``log_root`` (default ``/``), so the shipped defaults can be
re-rooted: a lab host sets ``log_root`` to its own tree (its ``lab_root``) and gets its own
``var/log/nginx``; a chrooted or containerised service can be pointed at its root the same
way. Absolute paths stay as they are.

Role defaults (``ROLE_DEFAULTS``, Debian and RHEL paths; a set whose files do not exist on a
host is simply empty) are merged under the host's own ``log_sets``, key by key: a host that
writes ``log_sets: {nginx-access: {keep: 3}}`` keeps the default globs and changes ``keep``.
A set given as ``null`` or ``false`` is switched off; ``log_set_defaults: false`` switches
off all role defaults. Mistakes raise ConfigError naming the variable and its line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runbook.analysis.formats import ALIASES
from runbook.analysis.formats import FORMATS as ANALYSIS_FORMATS
from runbook.errors import ConfigError
from runbook.hostvars import HostVar, HostVars, Located
from runbook.logs.rotation.options import RotationOptions

#: Every name the analyzer knows (canonical and aliases), and ``auto``.
FORMATS = tuple(sorted(set(ANALYSIS_FORMATS) | set(ALIASES))) + ("auto",)
SET_KEYS = {"globs", "format", "service", "keep", "max_age", "roots", "logrotate_config", "rotate"}
DEFAULT_KEEP = 7
DEFAULT_MAX_AGE = 30 * 86400.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_WILDCARD = re.compile(r"[*?\[]")


def _set(globs: Sequence[str], fmt: str, service: str | None, roots: Sequence[str],
         config: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"globs": list(globs), "format": fmt, "service": service,
                            "roots": list(roots)}
    if config:
        spec["logrotate_config"] = config
    return spec


#: Shipped defaults per role, relative to ``log_root``. Debian and RHEL name services and
#: directories differently, so each gets its own set where they differ.
ROLE_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "web": {
        "nginx-access": _set(["var/log/nginx/*access*.log"], "nginx-access", "nginx",
                             ["var/log/nginx"], "etc/logrotate.d/nginx"),
        "nginx-error": _set(["var/log/nginx/*error*.log"], "nginx-error", "nginx",
                            ["var/log/nginx"], "etc/logrotate.d/nginx"),
        # Debian/Ubuntu: apache2, access.log / error.log / other_vhosts_access.log
        "apache2-access": _set(["var/log/apache2/*access*.log"], "apache-access", "apache2",
                               ["var/log/apache2"], "etc/logrotate.d/apache2"),
        "apache2-error": _set(["var/log/apache2/*error*.log"], "apache-error", "apache2",
                              ["var/log/apache2"], "etc/logrotate.d/apache2"),
        # RHEL/Alma/Rocky: httpd, access_log / ssl_access_log / error_log
        "httpd-access": _set(["var/log/httpd/*access_log"], "apache-access", "httpd",
                             ["var/log/httpd"], "etc/logrotate.d/httpd"),
        "httpd-error": _set(["var/log/httpd/*error_log"], "apache-error", "httpd",
                            ["var/log/httpd"], "etc/logrotate.d/httpd"),
    },
    "app": {
        # Debian: tomcat9/tomcat10 packages; RHEL: tomcat. catalina.out is rotated by
        # logrotate, the dated files are written by Tomcat itself (one per day).
        "tomcat": _set(["var/log/tomcat*/catalina.out", "var/log/tomcat*/catalina.*.log",
                        "var/log/tomcat*/localhost.*.log"], "java", None,
                       ["var/log/tomcat9", "var/log/tomcat10", "var/log/tomcat"]),
        "tomcat-access": _set(["var/log/tomcat*/localhost_access_log*.txt"], "apache-access",
                              None, ["var/log/tomcat9", "var/log/tomcat10", "var/log/tomcat"]),
        # Applications under /opt differ too much to guess: add them per host.
        "java-app": _set(["var/log/app/*.log"], "java", None, ["var/log/app"]),
        # Debian's gunicorn package; the unit name is the application's own.
        "gunicorn": _set(["var/log/gunicorn/*.log"], "python", None, ["var/log/gunicorn"]),
    },
    "db": {
        # Debian: /var/log/postgresql/postgresql-15-main.log
        "postgresql": _set(["var/log/postgresql/postgresql-*.log"], "postgresql", "postgresql",
                           ["var/log/postgresql"], "etc/logrotate.d/postgresql-common"),
        # RHEL: the server's own logging collector, under the data directory
        "pgsql": _set(["var/lib/pgsql/data/log/*.log", "var/lib/pgsql/*/data/log/*.log"],
                      "postgresql", "postgresql", ["var/lib/pgsql"]),
        "mysql": _set(["var/log/mysql/error.log", "var/log/mysql/*.err"], "mysql-error", "mysql",
                      ["var/log/mysql"], "etc/logrotate.d/mysql-server"),
        "mysql-slow": _set(["var/log/mysql/*slow*.log"], "mysql-slow", "mysql", ["var/log/mysql"]),
        "mariadb": _set(["var/log/mariadb/*.log"], "mysql-error", "mariadb", ["var/log/mariadb"],
                        "etc/logrotate.d/mariadb"),
        "mysqld": _set(["var/log/mysqld.log"], "mysql-error", "mysqld", ["var/log"],
                       "etc/logrotate.d/mysql"),
    },
}


@dataclass(frozen=True)
class LogSet:
    """One named set of logs on one host, with every path resolved to an absolute one.

    name:             the set's name (``nginx-access``)
    globs:            absolute shell globs of the live logs; rotated siblings (``NAME.1``,
                      ``NAME.2.gz``, ``NAME-20250101``) are found next to each match
    format:           log format for the analysis (one of FORMATS)
    service:          the service writing the logs, or None
    keep:             rotated files kept per log by ``logs.clean``
    max_age:          seconds; rotated files older than this are removed by ``logs.clean``
    roots:            absolute directories inside which deleting is allowed
    logrotate_config: absolute path of a logrotate config for the set, or None
    rotate:           built-in rotation options (logrotate directive names), or None
    """

    name: str
    globs: tuple[str, ...]
    format: str = "auto"
    service: str | None = None
    keep: int = DEFAULT_KEEP
    max_age: float | None = DEFAULT_MAX_AGE
    roots: tuple[str, ...] = ()
    logrotate_config: str | None = None
    rotate: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "globs": list(self.globs), "format": self.format,
                "service": self.service, "keep": self.keep, "max_age": self.max_age,
                "roots": list(self.roots), "logrotate_config": self.logrotate_config,
                "rotate": dict(self.rotate) if self.rotate is not None else None}

    def inside_roots(self, path: str) -> bool:
        """True when ``path`` (absolute, normalised) lies strictly inside one of the roots."""
        return any(path.startswith(root.rstrip("/") + "/") for root in self.roots)


def glob_base(glob: str) -> tuple[str, int]:
    """The directory a glob starts from (its leading components without wildcards) and how
    many components below it the glob matches: ``/var/log/tomcat*/x.log`` -> (``/var/log``, 2)."""
    parts = glob.strip("/").split("/")
    fixed = 0
    while fixed < len(parts) - 1 and not _WILDCARD.search(parts[fixed]):
        fixed += 1
    return "/" + "/".join(parts[:fixed]), len(parts) - fixed


def log_sets_for(vars: Mapping[str, Any], roles: Sequence[str]) -> dict[str, LogSet]:
    """The host's log sets: the role defaults merged under its ``log_sets`` var, resolved
    against its ``log_root``. Raises ConfigError naming the variable and line of a mistake."""
    vars = HostVars.over(vars)
    return _log_sets(vars.source(LOG_SETS), vars, roles)


def _log_sets(at: Located, vars: HostVars, roles: Sequence[str]) -> dict[str, LogSet]:
    at.mapping("a mapping of set name to settings")
    log_root = vars.read(LOG_ROOT)
    merged: dict[str, tuple[dict[str, Any], Located]] = {}
    if vars.read(LOG_SET_DEFAULTS):
        for role in roles:
            for name, spec in ROLE_DEFAULTS.get(role, {}).items():
                merged[name] = (dict(spec), Located(spec, None, None, f"{at.field}.{name}"))
    for name, entry in at.members():
        if not isinstance(name, str) or not _NAME.match(name):
            raise entry.error("set names are letters, digits, '.', '-' or '_'")
        if entry.value is None or entry.value is False:
            merged.pop(name, None)
            continue
        entry.mapping()
        entry.keys_among(SET_KEYS)
        base = merged.get(name, ({}, entry))[0]
        merged[name] = ({**base, **dict(entry.value)}, entry)
    return {name: _build(name, spec, entry, log_root) for name, (spec, entry) in merged.items()}


def _build(name: str, spec: Mapping[str, Any], at: Located, log_root: str) -> LogSet:
    def setting(key: str) -> Located:
        """A key the set gives itself, at its line; one of the role default's, at the set's."""
        if isinstance(at.value, Mapping) and key in at.value:
            return at.member(key)
        return Located(spec.get(key), at.file, at.line, f"{at.field}.{key}")

    globs = [_resolve(g, log_root) for g in _paths(setting("globs"))]
    if not globs:
        raise setting("globs").error("a log set needs at least one glob")
    fmt = spec.get("format", "auto")
    if fmt not in FORMATS:
        raise setting("format").error(f"must be one of {', '.join(FORMATS)}, not {fmt!r}")
    service = spec.get("service")
    if service is not None and (not isinstance(service, str) or not _NAME.match(service)):
        raise setting("service").error(f"must be a service name, not {service!r}")
    keep = setting("keep").count(0) if spec.get("keep") is not None else DEFAULT_KEEP
    max_age: float | None = DEFAULT_MAX_AGE
    if "max_age" in spec:
        max_age = None if spec["max_age"] is None else setting("max_age").duration()
    if spec.get("roots") is None:
        roots = sorted({glob_base(g)[0] for g in globs})
    else:
        roots = [_resolve(r, log_root) for r in _paths(setting("roots"))]
    for root in roots:
        if _WILDCARD.search(root):
            raise setting("roots").error(f"a root is a directory, not a glob: {root!r}")
        if root.count("/") < 2:
            raise setting("roots").error(f"{root!r} is too wide to delete logs in: name the log directory")
    config = spec.get("logrotate_config")
    if config is not None:
        config = _resolve(setting("logrotate_config"), log_root)
    rotate = spec.get("rotate")
    if rotate is not None:
        where = setting("rotate")
        where.mapping("a mapping of rotation options")
        try:
            RotationOptions.from_mapping({"rotate": keep, **dict(rotate)})
        except ConfigError as exc:
            raise where.member(exc.field).error(exc.message) if exc.field else where.error(exc.message) from None
    return LogSet(name=name, globs=tuple(globs), format=fmt, service=service, keep=keep,
                  max_age=max_age, roots=tuple(roots), logrotate_config=config,
                  rotate=dict(rotate) if rotate is not None else None)


def log_path(path: str, vars: Mapping[str, Any], *, field: str) -> str:
    """``path`` (a step's param) as the log actions use it: absolute, under the host's
    ``log_root`` when relative; ConfigError naming ``field`` for a path that climbs out."""
    return _resolve(Located(path, None, None, field), HostVars.over(vars).read(LOG_ROOT))


def _log_root(at: Located, vars: HostVars) -> str:
    value = at.value
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value:
        raise at.error(f"must be an absolute directory, not {value!r}")
    return posixpath.normpath(value)


def _logrotate_state(at: Located, vars: HostVars) -> str | None:
    return None if at.value is None else _resolve(at, vars.read(LOG_ROOT))


def _paths(at: Located) -> list[Located]:
    """A path or a list of paths, each located (a missing value is none)."""
    return [] if at.value is None else at.strings("a list of paths")


def _resolve(at: Located, log_root: str) -> str:
    """An absolute, normalised path: relative ones are taken below ``log_root``. ``..`` and
    NUL are refused outright, so no configured path can climb out of where it points."""
    path = at.text()
    if "\0" in path or ".." in path.split("/"):
        raise at.error(f"{path!r}: '..' and NUL are not allowed in log paths")
    full = path if path.startswith("/") else posixpath.join(log_root, path)
    full = posixpath.normpath(full)
    if full == "/" or full.startswith("//"):
        raise at.error(f"{path!r} is not a usable log path")
    return full


LOG_ROOT: HostVar[str] = HostVar("log_root", "an absolute directory the relative log paths are under", "/",
                                 __name__, _log_root)
LOG_SET_DEFAULTS: HostVar[bool] = HostVar("log_set_defaults", "true or false: the role defaults apply", True,
                                          __name__, lambda at, vars: at.flag())
LOG_SETS: HostVar[dict[str, LogSet]] = HostVar(
    "log_sets", "a mapping of set name to {globs, format, service, keep, max_age, roots, ...}", {}, __name__,
    lambda at, vars: _log_sets(at, vars, vars.host.roles if vars.host is not None else ()))
#: what every action that reads a host's log sets reads
LOG_SET_VARS: tuple[HostVar[Any], ...] = (LOG_ROOT, LOG_SET_DEFAULTS, LOG_SETS)
LOGROTATE_STATE: HostVar[str | None] = HostVar(
    "logrotate_state", "the logrotate state file logs.rotate uses (under log_root when relative)", None,
    __name__, _logrotate_state)
