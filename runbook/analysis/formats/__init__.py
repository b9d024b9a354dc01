"""The log formats, by name. ``FORMATS`` is the registry ``--format`` and ``auto`` use.

Canonical names: access, nginx-error, apache-error, syslog, rfc5424, journal, java, python,
postgres, postgres-csv, mysql-error, mysql-slow, generic. ``ALIASES`` maps the names people
type (nginx-access, combined, tomcat, csvlog, mariadb-slow, ...) onto them.
"""

from __future__ import annotations

from typing import Dict, Type

from .access import AccessLog
from .base import LogFormat
from .generic import Generic
from .java import JavaLog
from .mysql import MysqlError, MysqlSlow
from .postgres import PostgresCsvLog, PostgresLog
from .python import PythonLog
from .syslog import Journal, Rfc3164, Rfc5424
from .weberror import ApacheError, NginxError

FORMATS: Dict[str, Type[LogFormat]] = {cls.name: cls for cls in (
    AccessLog, NginxError, ApacheError, Rfc3164, Rfc5424, Journal, JavaLog, PythonLog, PostgresLog,
    PostgresCsvLog, MysqlError, MysqlSlow, Generic)}

ALIASES = {
    "nginx-access": "access", "apache-access": "access", "combined": "access",
    "common": "access", "clf": "access", "rfc3164": "syslog", "syslog3164": "syslog",
    "syslog5424": "rfc5424", "journald": "journal", "short-iso": "journal",
    "tomcat": "java", "log4j": "java", "logback": "java", "catalina": "java",
    "gunicorn": "python", "python-logging": "python",
    "postgresql": "postgres", "postgresql-csv": "postgres-csv", "csvlog": "postgres-csv",
    "mariadb-error": "mysql-error", "mariadb-slow": "mysql-slow", "slowlog": "mysql-slow",
}


def canonical(name: str) -> str:
    """The canonical format name for ``name`` (an alias or canonical); ValueError if unknown."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in FORMATS and key != "auto":
        raise ValueError("unknown log format %r; known: auto, %s"
                         % (name, ", ".join(sorted(set(FORMATS) | set(ALIASES)))))
    return key


def make(name: str) -> LogFormat:
    """A fresh parser instance for a canonical or alias name."""
    return FORMATS[canonical(name)]()
