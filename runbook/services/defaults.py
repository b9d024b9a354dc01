"""Shipped defaults for the services on-call meets most: how each is managed and probed.

A service entry in the host vars starts from these when its name (or its ``kind``) is one of
``KINDS``; every key it sets itself wins. Unit names differ between the Debian and the RHEL
family (``apache2`` vs ``httpd``); the host var ``os_family`` (``debian``, the default, or
``rhel``) picks the column.

The probes are the services' usual ports on the host's address; a service listening on
localhost only needs a ``command`` probe run on the host instead (``curl -fsS ...``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OS_FAMILIES = ("debian", "rhel")

#: kind -> (Debian unit, RHEL unit, extra defaults). ``None`` as unit: there is no usual one,
#: the inventory must name it.
_TABLE: dict[str, tuple[str | None, str | None, Mapping[str, Any]]] = {
    "nginx": ("nginx", "nginx", {"probes": [{"tcp": 80}]}),
    "apache": ("apache2", "httpd", {"probes": [{"tcp": 80}]}),
    # Debian versions the unit (php8.2-fpm on bookworm): override ``unit`` on other releases.
    "php-fpm": ("php8.2-fpm", "php-fpm", {}),
    "tomcat": ("tomcat10", "tomcat", {"probes": [{"tcp": 8080}], "start_timeout": 180, "stop_timeout": 60}),
    # A generic Java application server: slow to start and stop, unit named by the inventory.
    "java": (None, None, {"start_timeout": 180, "stop_timeout": 60}),
    "gunicorn": ("gunicorn", "gunicorn", {"probes": [{"tcp": 8000}]}),
    "uwsgi": ("uwsgi", "uwsgi", {}),
    # Debian's postgresql.service drives every cluster (postgresql@15-main and friends).
    "postgresql": ("postgresql", "postgresql", {"probes": [{"tcp": 5432}], "start_timeout": 120,
                                                "stop_timeout": 120}),
    "mariadb": ("mariadb", "mariadb", {"probes": [{"tcp": 3306}], "start_timeout": 120,
                                       "stop_timeout": 120}),
    "mysql": ("mysql", "mysqld", {"probes": [{"tcp": 3306}], "start_timeout": 120, "stop_timeout": 120}),
}

#: other names people give the same software
ALIASES = {"apache2": "apache", "httpd": "apache", "php-fpm8.2": "php-fpm", "tomcat9": "tomcat",
           "tomcat10": "tomcat", "postgres": "postgresql", "mysqld": "mysql"}

#: kind -> (Debian, RHEL) command that checks the configuration without touching the running
#: service, as its own tools offer it; run before a controlled restart stops anything. MariaDB
#: has no --validate-config: ``--help --verbose`` reads every option file and fails on an
#: unknown or bad option. PostgreSQL has no default: its check (``postgres -D DIR -C
#: shared_buffers``, run as the postgres user) needs the cluster's directory, which only the
#: inventory knows; Tomcat, Java, gunicorn and uWSGI have no checker of their own.
_CONFIG_CHECKS: dict[str, tuple[str, str]] = {
    "nginx": ("nginx -t", "nginx -t"),
    "apache": ("apache2ctl configtest", "apachectl configtest"),
    "php-fpm": ("php-fpm8.2 -t", "php-fpm -t"),
    "mysql": ("mysqld --validate-config", "mysqld --validate-config"),
    "mariadb": ("mariadbd --help --verbose >/dev/null", "mariadbd --help --verbose >/dev/null"),
}

KINDS: tuple[str, ...] = tuple(sorted(_TABLE))


def kind_of(name: str) -> str | None:
    """The shipped kind a service name stands for, if any (``httpd`` -> ``apache``)."""
    name = name.lower()
    if name in _TABLE:
        return name
    return ALIASES.get(name)


def defaults_for(kind: str, os_family: str) -> dict[str, Any]:
    """The default entry of ``kind`` on ``os_family``: a plain mapping like an inventory entry."""
    debian_unit, rhel_unit, extra = _TABLE[kind]
    unit = debian_unit if os_family == "debian" else rhel_unit
    result: dict[str, Any] = {"manager": "systemd", **{k: v for k, v in extra.items()}}
    if unit is not None:
        result["unit"] = unit
    if kind in _CONFIG_CHECKS:
        result["config_check"] = _CONFIG_CHECKS[kind][0 if os_family == "debian" else 1]
    return result
