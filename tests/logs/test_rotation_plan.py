"""The rotation options and the pure planner, without touching any file."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from runbook.errors import ActionError, ConfigError
from runbook.logs.rotation import (
    Compress,
    Copy,
    Create,
    LogFileState,
    Remove,
    Rename,
    RotatedFile,
    RotationOptions,
    RotationPlan,
    RunCommand,
    Truncate,
    existing_scheme,
    format_date,
    parse_logrotate_size,
    plan_rotation,
    plan_to_changes,
    plan_to_commands,
    show_path,
)

NOW = datetime(2024, 5, 6, 7, 8, 9)
D = "/var/log/nginx"
LIVE = LogFileState(f"{D}/access.log", size=12_900_000, mtime=NOW.timestamp(), mode=0o640,
                    uid=33, gid=4)


def _files(*names: str) -> list[RotatedFile]:
    return [RotatedFile(n, size=100) for n in names]


# --- options -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("100k", 102_400), ("100K", 102_400), ("10M", 10 * 1024 ** 2), ("1G", 1024 ** 3),
    ("512", 512), (512, 512), ("0", 0),
])
def test_sizes_take_logrotates_units(text: object, expected: int) -> None:
    assert parse_logrotate_size(text) == expected


@pytest.mark.parametrize("text", ["1g", "10m", "1.5M", "", "k", "-1", "1 M", True, -1, None])
def test_sizes_logrotate_refuses_are_refused(text: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_logrotate_size(text, field_name="minsize")
    assert caught.value.field == "minsize"


def test_options_from_a_playbook_mapping() -> None:
    opts = RotationOptions.from_mapping({
        "rotate": 7, "compress": True, "delaycompress": True, "create": "0640 www-data adm",
        "reload": "systemctl reload nginx", "dateext": True, "dateformat": "-%Y%m%d-%s",
        "missingok": True, "notifempty": True, "size": "100k", "minsize": "1M", "maxage": 30,
        "compresscmd": "xz", "compressoptions": "-T1 -6", "compressext": ".xz",
    })
    assert opts == RotationOptions(
        rotate=7, compress=True, delaycompress=True, create_mode=0o640, create_owner="www-data",
        create_group="adm", postrotate="systemctl reload nginx", dateext=True,
        dateformat="-%Y%m%d-%s", missingok=True, ifempty=False, size=102_400,
        minsize=1024 ** 2, maxage=30, compresscmd="xz", compressoptions=("-T1", "-6"),
        compressext=".xz")


def test_option_defaults_are_logrotates_except_rotate_and_create() -> None:
    opts = RotationOptions.from_mapping({"rotate": 4, "create": {"mode": "600"}})
    assert (opts.create, opts.create_mode, opts.create_owner) == (True, 0o600, None)
    assert (opts.compress, opts.copytruncate, opts.dateext, opts.missingok) == (False,) * 4
    assert (opts.ifempty, opts.dateformat, opts.compressext, opts.compresscmd) == (
        True, "-%Y%m%d", ".gz", "gzip")
    assert RotationOptions.from_mapping({"rotate": 1, "nocreate": True}).create is False


@pytest.mark.parametrize("mapping, field", [
    ({}, "rotate"),
    ({"rotate": -1}, "rotate"),
    ({"rotate": "3"}, "rotate"),
    ({"rotate": True}, "rotate"),
    ({"rotate": 3, "compress": "yes"}, "compress"),
    ({"rotate": 3, "size": "10m"}, "size"),
    ({"rotate": 3, "minsize": "big"}, "minsize"),
    ({"rotate": 3, "create": {"mode": 0o640}}, "create_mode"),
    ({"rotate": 3, "create": "rw-r-----"}, "create_mode"),
    ({"rotate": 3, "create": {"colour": "red"}}, "create"),
    ({"rotate": 3, "create": "0640 bad:name"}, "create_owner"),
    ({"rotate": 3, "dateformat": "-%Y%m%d%j"}, "dateformat"),
    ({"rotate": 3, "dateformat": "/%Y"}, "dateformat"),
    ({"rotate": 3, "dateformat": "-today"}, "dateformat"),
    ({"rotate": 3, "maxage": 0}, "maxage"),
    ({"rotate": 3, "compresscmd": "gzip; rm -rf /"}, "compresscmd"),
    ({"rotate": 3, "compressext": "gz"}, "compressext"),
    ({"rotate": 3, "postrotate": "  "}, "postrotate"),
    ({"rotate": 3, "olddir": "/tmp"}, "olddir"),
])
def test_bad_options_name_the_field_and_file(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        RotationOptions.from_mapping(mapping, file="inventory/acme.yml", line=12)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"inventory/acme.yml:12: {field}: ")


# --- what gets rotated at all ---------------------------------------------------------------

def test_missing_log_without_missingok_is_an_error_naming_it() -> None:
    missing = LogFileState(f"{D}/error.log", exists=False)
    with pytest.raises(ActionError, match=f"{D}/error.log"):
        plan_rotation(missing, [], RotationOptions(rotate=3), NOW, force=True)
    plan = plan_rotation(missing, [], RotationOptions(rotate=3, missingok=True), NOW, True)
    assert plan == RotationPlan(f"{D}/error.log", skipped="it does not exist (missingok)")
    assert plan.sentences == [f"leave {D}/error.log alone: it does not exist (missingok)"]


@pytest.mark.parametrize("log, skipped", [
    (LogFileState(f"{D}/a.log", kind="symlink"), "symbolic link"),
    (LogFileState(f"{D}/a.log", nlink=2), "2 hard links"),
    (LogFileState(f"{D}/a.log", size=0), "empty (notifempty)"),
])
def test_logs_logrotate_leaves_alone(log: LogFileState, skipped: str) -> None:
    plan = plan_rotation(log, [], RotationOptions(rotate=3, ifempty=False), NOW, force=True)
    assert not plan.changes and skipped in (plan.skipped or "")


def test_a_directory_is_refused() -> None:
    with pytest.raises(ActionError, match="directory"):
        plan_rotation(LogFileState(f"{D}/a.log", kind="directory"), [],
                      RotationOptions(rotate=1), NOW, force=True)


@pytest.mark.parametrize("size, opts, force, rotates", [
    (1023, RotationOptions(rotate=1, size=1024), False, False),
    (1024, RotationOptions(rotate=1, size=1024), False, True),
    (10, RotationOptions(rotate=1, size=1024), True, True),          # -f ignores size
    (1023, RotationOptions(rotate=1, minsize=1024), False, False),
    (10, RotationOptions(rotate=1, minsize=1024), True, True),       # -f ignores minsize
    (1500, RotationOptions(rotate=1, size=1024, minsize=2048), False, True),  # size wins
    (0, RotationOptions(rotate=1, ifempty=False), True, False),      # -f keeps notifempty
    (0, RotationOptions(rotate=1), True, True),
])
def test_size_minsize_force_and_notifempty(size: int, opts: RotationOptions, force: bool,
                                           rotates: bool) -> None:
    log = LogFileState(f"{D}/a.log", size=size)
    assert plan_rotation(log, [], opts, NOW, force).changes is rotates


# --- the operations, in logrotate's order -----------------------------------------------------

def test_compress_delaycompress_order() -> None:
    siblings = _files("access.log.1", "access.log.2.gz", "access.log.3.gz", "access.log.4.gz",
                      "access.log.9.gz", "error.log.1")
    opts = RotationOptions(rotate=3, compress=True, delaycompress=True,
                           postrotate="systemctl reload nginx")
    plan = plan_rotation(LIVE, siblings, opts, NOW, force=True)
    assert plan.operations == (
        Compress(f"{D}/access.log.1", size=100),
        Rename(f"{D}/access.log.3.gz", f"{D}/access.log.4.gz", "shift", 100, replaces=True),
        Rename(f"{D}/access.log.2.gz", f"{D}/access.log.3.gz", "shift", 100),
        Rename(f"{D}/access.log.1.gz", f"{D}/access.log.2.gz", "shift", None),
        Rename(f"{D}/access.log", f"{D}/access.log.1", "rotate", 12_900_000),
        Create(f"{D}/access.log", 0o640, "33", "4"),
        RunCommand("systemctl reload nginx", f"{D}/access.log", f"{D}/access.log.1"),
        Remove(f"{D}/access.log.4.gz", "beyond rotate 3", 100),
    )
    assert plan.rotated_to == f"{D}/access.log.1"
    assert plan.sentences[4] == "rotate /var/log/nginx/access.log -> access.log.1 (12.3 MiB)"


def test_copytruncate_with_compress() -> None:
    plan = plan_rotation(LIVE, _files("access.log.1.gz"),
                         RotationOptions(rotate=2, copytruncate=True, compress=True), NOW, True)
    assert plan.operations == (
        Rename(f"{D}/access.log.1.gz", f"{D}/access.log.2.gz", "shift", 100),
        Copy(f"{D}/access.log", f"{D}/access.log.1", 12_900_000),
        Truncate(f"{D}/access.log", 12_900_000),
        Compress(f"{D}/access.log.1", size=12_900_000),
    )
    assert plan.rotated_to == f"{D}/access.log.1.gz"


def test_dateext_keeps_the_newest_by_date_and_refuses_a_taken_date() -> None:
    siblings = _files("access.log-20240101.gz", "access.log-20231231.gz", "access.log-20240505.gz",
                      "access.log-2024.gz", "access.log-20240101")
    opts = RotationOptions(rotate=2, dateext=True, compress=True)
    plan = plan_rotation(LIVE, siblings, opts, NOW, force=True)
    # Only the .gz names match (no delaycompress); the oldest by date goes first, the last
    # one chosen only after the rotation, as logrotate's disposeName.
    assert plan.operations == (
        Remove(f"{D}/access.log-20231231.gz", "beyond rotate 2 (oldest by date)", 100),
        Rename(f"{D}/access.log", f"{D}/access.log-20240506", "rotate", 12_900_000),
        Create(f"{D}/access.log", 0o640, "33", "4"),
        Compress(f"{D}/access.log-20240506", size=12_900_000),
        Remove(f"{D}/access.log-20240101.gz", "beyond rotate 2 (oldest by date)", 100),
    )
    assert plan.rotated_to == f"{D}/access.log-20240506.gz"
    taken = _files("access.log-20240506.gz")
    with pytest.raises(ActionError, match="access.log-20240506.gz already exists"):
        plan_rotation(LIVE, taken, opts, NOW, force=True)


def test_format_date_matches_strftime() -> None:
    assert format_date(" -%Y%m%d-%H%M%S", NOW) == NOW.strftime("-%Y%m%d-%H%M%S")
    assert format_date(".%V", NOW) == NOW.strftime(".%V")
    assert format_date(".%s", NOW) == f".{int(NOW.timestamp())}"


def test_rotate_0_removes_what_it_rotated() -> None:
    plan = plan_rotation(LIVE, _files("access.log.1"), RotationOptions(rotate=0, compress=True),
                         NOW, force=True)
    assert [op.sentence.split()[0] for op in plan.operations] == ["rotate", "create", "remove"]
    assert plan.operations[-1] == Remove(f"{D}/access.log.1", "rotate 0 keeps no rotated log",
                                         12_900_000)
    assert plan.rotated_to is None


# --- sentences ------------------------------------------------------------------------------

HOSTILE = "we ird $(touch pwned) 'q\" `id`\nx.log"


@pytest.mark.parametrize("opts", [
    RotationOptions(rotate=2, compress=True, delaycompress=True, postrotate="true"),
    RotationOptions(rotate=2, copytruncate=True, compress=True),
    RotationOptions(rotate=1, dateext=True, maxage=3),
    RotationOptions(rotate=0),
])
@pytest.mark.parametrize("name", ["access.log", HOSTILE])
def test_every_sentence_names_every_file_on_one_line(opts: RotationOptions, name: str) -> None:
    live = LogFileState(f"{D}/{name}", size=10)
    siblings = [RotatedFile(f"{name}{suffix}", 5, mtime=0.0) for suffix in
                (".1", ".1.gz", ".2", ".2.gz", ".3.gz", "-20240101", "-20240102")]
    plan = plan_rotation(live, siblings, opts, NOW, force=True)
    assert plan.changes
    for op in plan.operations:
        assert "\n" not in op.sentence
        for value in vars(op).values():
            if isinstance(value, str) and value.startswith(D + "/"):
                assert show_path(os.path.basename(value)) in op.sentence, op


@pytest.mark.parametrize("path", ["access.log", "/var/log/../etc/passwd", "/var/log/", "//x",
                                  "/"])
def test_log_paths_must_be_absolute_and_normal(path: str) -> None:
    with pytest.raises(ActionError):
        LogFileState(path)


@pytest.mark.parametrize("name", ["a/b", "", "..", "x\0y"])
def test_rotated_files_are_names_in_the_log_directory(name: str) -> None:
    with pytest.raises(ActionError):
        RotatedFile(name)


def test_the_engine_gets_one_change_per_operation() -> None:
    opts = RotationOptions(rotate=2, compress=True, postrotate="systemctl reload nginx")
    plan = plan_rotation(LIVE, _files("access.log.1.gz", "access.log.2.gz"), opts, NOW, True)
    changes = plan_to_changes(plan, sudo=True)
    assert [c.sentence for c in changes] == plan.sentences
    assert [c.commands for c in changes] == [(line,) for line in plan_to_commands(plan)]
    assert [c.details["operation"] for c in changes] == [
        "rename", "rename", "rename", "create", "runcommand", "compress", "remove"]
    assert all(c.sudo for c in changes)


# --- the scheme a host's files show ---------------------------------------------------------

@pytest.mark.parametrize("names, scheme", [
    ([], None),
    (["error.log", "access.log.bak"], None),
    (["access.log.1"], None),              # delaycompress leaves .1 plain too: nothing to go by
    (["access.log-20240505"], None),
    (["access.log.1", "access.log.2", "access.log.3"], {"dateext": False, "compress": False, "delaycompress": False}),
    (["access.log.1", "access.log.2.gz", "access.log.3.gz"],
     {"dateext": False, "compress": True, "delaycompress": True}),
    (["access.log.1.gz", "access.log.2.gz"], {"dateext": False, "compress": True, "delaycompress": False}),
    (["access.log.1.xz"], {"dateext": False, "compress": True, "delaycompress": False,
                           "compresscmd": "xz", "compressext": ".xz"}),
    # switched to compression some time ago: the newest rotations decide
    (["access.log.1.gz", "access.log.2.gz", "access.log.7", "access.log.8"],
     {"dateext": False, "compress": True, "delaycompress": False}),
    (["access.log-20240505.gz", "access.log-20240504.gz"], {"dateext": True, "compress": True, "delaycompress": False}),
    (["access.log-20240505", "access.log-20240504"], {"dateext": True, "compress": False, "delaycompress": False}),
])
def test_the_scheme_the_files_show(names: list[str], scheme: dict | None) -> None:
    assert existing_scheme("access.log", _files(*names)) == scheme


def test_a_plain_numbered_scheme_is_continued_not_mixed_with_gz() -> None:
    """Issue 11: with access.log.2..7 plain, the built-in defaults (compress, delaycompress)
    planned .1 -> .1.gz and .1.gz -> .2.gz beside the plain .2. Continuing the files' scheme
    shifts the plain files and compresses nothing."""
    existing = _files(*(f"access.log.{n}" for n in range(1, 8)))
    defaults = {"copytruncate": True, "compress": True, "delaycompress": True, "rotate": 7}
    with pytest.raises(ActionError) as caught:
        plan_rotation(LIVE, existing, RotationOptions.from_mapping(defaults), NOW, force=True)
    assert "access.log.2 beside" in str(caught.value) and "access.log.2.gz" in str(caught.value)

    options = RotationOptions.from_mapping({**defaults, **existing_scheme("access.log", existing)})
    plan = plan_rotation(LIVE, existing, options, NOW, force=True)
    assert not any(isinstance(op, Compress) for op in plan.operations)
    renames = [(os.path.basename(op.src), os.path.basename(op.dst)) for op in plan.operations if isinstance(op, Rename)]
    assert renames == [(f"access.log.{n}", f"access.log.{n + 1}") for n in range(7, 0, -1)]
    assert [os.path.basename(op.dst) for op in plan.operations if isinstance(op, Copy)] == ["access.log.1"]
    assert [os.path.basename(op.path) for op in plan.operations if isinstance(op, Remove)] == ["access.log.8"]
    assert plan.rotated_to == f"{D}/access.log.1"
