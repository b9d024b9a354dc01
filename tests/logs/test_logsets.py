"""Log sets from host vars: role defaults (Debian and RHEL), merging, log_root, and errors that
name the variable and its line."""

from __future__ import annotations

from typing import Any

import pytest

from runbook.errors import ConfigError
from runbook.logs.sets import log_sets_for
from runbook.yamlsource import parse_yaml


def host_vars(text: str) -> Any:
    return parse_yaml(text, "inventory/acme.yml")


def test_role_defaults_cover_debian_and_rhel() -> None:
    web = log_sets_for({}, ["web"])
    assert web["nginx-access"].globs == ("/var/log/nginx/*access*.log",)
    assert web["nginx-access"].roots == ("/var/log/nginx",) and web["nginx-access"].service == "nginx"
    assert web["apache2-access"].globs == ("/var/log/apache2/*access*.log",)   # Debian
    assert web["httpd-access"].globs == ("/var/log/httpd/*access_log",)        # RHEL
    assert web["nginx-access"].logrotate_config == "/etc/logrotate.d/nginx"
    db = log_sets_for({}, ["db"])
    assert {"postgresql", "pgsql", "mysql", "mariadb", "mysqld"} <= set(db)
    assert db["postgresql"].format == "postgresql" and db["mysql"].format == "mysql-error"
    assert "tomcat" in log_sets_for({}, ["app"]) and log_sets_for({}, ["app"])["tomcat"].format == "java"
    assert log_sets_for({}, ["app"])["gunicorn"].format == "python"
    assert db["mysql-slow"].format == "mysql-slow"  # its own parser, not the generic one
    assert log_sets_for({}, ["spare"]) == {}


@pytest.mark.parametrize("fmt", ["gunicorn", "rfc5424", "journal", "mysql-slow", "postgres-csv", "tomcat"])
def test_every_format_the_analyzer_knows_is_a_valid_set_format(fmt: str) -> None:
    text = f"log_sets:\n  app:\n    globs: [var/log/app/*.log]\n    format: {fmt}\n"
    assert log_sets_for(host_vars(text), [])["app"].format == fmt


def test_host_sets_merge_over_defaults_key_by_key_and_follow_log_root() -> None:
    vars = host_vars("""
log_root: /srv/lab/web1
log_sets:
  nginx-access: {keep: 3, max_age: 10d}
  nginx-error: null
  shop:
    globs: [var/log/shop/*.log, /opt/shop/logs/*.log]
    format: java
    service: shop
    roots: [var/log/shop, /opt/shop/logs]
""")
    sets = log_sets_for(vars, ["web"])
    assert "nginx-error" not in sets
    nginx = sets["nginx-access"]
    assert nginx.keep == 3 and nginx.max_age == 10 * 86400
    assert nginx.globs == ("/srv/lab/web1/var/log/nginx/*access*.log",)
    assert nginx.logrotate_config == "/srv/lab/web1/etc/logrotate.d/nginx"
    shop = sets["shop"]
    assert shop.globs == ("/srv/lab/web1/var/log/shop/*.log", "/opt/shop/logs/*.log")
    assert shop.inside_roots("/opt/shop/logs/a.log.1") and not shop.inside_roots("/opt/shop/logs")
    assert not shop.inside_roots("/opt/shop/logsX/a.log")
    assert list(log_sets_for({"log_set_defaults": False, "log_sets": {}}, ["web"])) == []


@pytest.mark.parametrize(("text", "line", "field", "words"), [
    ("log_sets:\n  web:\n    globs: [var/log/*.log]\n    colour: red\n", 4, "vars.log_sets.web.colour", "unknown key"),
    ("log_sets:\n  web:\n    globs: [var/log/../../etc/*]\n", 3, "vars.log_sets.web.globs[0]", "'..'"),
    ("log_sets:\n  web:\n    globs: [var/log/x/*.log]\n    format: nginx\n", 4, "vars.log_sets.web.format", "must be one of"),
    ("log_sets:\n  web:\n    globs: [var/log/x/*.log]\n    roots: [/var]\n", 4, "vars.log_sets.web.roots", "too wide"),
    ("log_sets:\n  web:\n    globs: [var/log/x/*.log]\n    keep: -1\n", 4, "vars.log_sets.web.keep", ">= 0"),
    ("log_sets:\n  web:\n    globs: []\n", 3, "vars.log_sets.web.globs", "at least one glob"),
    ("log_sets:\n  web: [a]\n", 2, "vars.log_sets.web", "must be a mapping"),
    ("log_sets:\n  web:\n    globs: [var/log/x/*.log]\n    max_age: soon\n", 4, "vars.log_sets.web.max_age", "duration"),
])
def test_mistakes_name_the_variable_and_line(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        log_sets_for(host_vars(text), [])
    assert caught.value.file == "inventory/acme.yml" and caught.value.line == line
    assert caught.value.field == field and words in caught.value.message


def test_bad_rotation_options_are_found_before_any_host_is_touched() -> None:
    text = "log_sets:\n  web:\n    globs: [var/log/x/*.log]\n    rotate: {compress: maybe}\n"
    with pytest.raises(ConfigError) as caught:
        log_sets_for(host_vars(text), [])
    assert caught.value.line == 4 and caught.value.file == "inventory/acme.yml"
    assert caught.value.field == "vars.log_sets.web.rotate.compress"


def test_log_root_must_be_absolute() -> None:
    with pytest.raises(ConfigError, match="absolute"):
        log_sets_for({"log_root": "lab"}, ["web"])
