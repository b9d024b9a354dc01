"""Given these facts, expect this plan: the planning of the four actions that change things,
table by table, against hosts that answer from a table (``tests.support.fakehost``) and fail
on any command planning should not run. The same actions are run for real on the lab in
tests/actions, tests/logs and tests/services; these tables pin the decisions."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from runbook.change import Outcome
from tests.support.fakehost import FakeHosts, Reply, plan_host, plan_run

VAR = os.makedev(8, 2)    # the device of /var in these tables
MOUNTS = "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n30 22 8:2 / /var rw,relatime - ext4 /dev/sda2 rw\n"


def sentences(plan: Any) -> list[str]:
    return [c.sentence for c in plan.changes]


# -- disk.release_deleted ------------------------------------------------------------------------------

def deleted(pid: int, fd: int, blocks: int, inode: int, path: str, comm: str, unit: str = "") -> str:
    """One record of ``deleted_command``: an fd of ``pid`` holding a deleted file."""
    return (f"/proc/{pid}/fd/{fd} {blocks * 512} {blocks} {VAR} {inode}\0{path} (deleted)\n\0{comm}\n\0"
            + (f"{unit}\n" if unit else "") + "\0")


NGINX_LOG = deleted(812, 2, 2352, 34, "/var/log/nginx/error.log", "nginx", "nginx.service")
PG_TEMP = deleted(920, 7, 9768, 77, "/var/lib/postgresql/15/main/base/pgsql_tmp/pgsql_tmp920.0", "postgres",
                  "postgresql.service")
LISTING = "\n@@runbook {nonce} part mounts\n" + MOUNTS + "\n@@runbook {nonce} part deleted\n"


@pytest.mark.parametrize("held, params, outcome, changes, says", [
    pytest.param(NGINX_LOG + PG_TEMP, {}, Outcome.CHANGED,
                 ["secure deleted /var/log/nginx/error.log (1.1 MiB, held by nginx) into the run's artifacts",
                  "truncate deleted /var/log/nginx/error.log through /proc/812/fd/2 (nginx): frees 1.1 MiB"],
                 "restart postgresql.service to free 4.8 MiB held by deleted /var/lib/postgresql",
                 id="a deleted log is truncated; a database file only named"),
    pytest.param(NGINX_LOG + PG_TEMP, {"truncate": False}, Outcome.OK, [],
                 "restart postgresql.service to free 4.8 MiB held by deleted /var/lib/postgresql/15/main/base/"
                 "pgsql_tmp/pgsql_tmp920.0; restart nginx.service to free 1.1 MiB",
                 id="truncate false: only who to restart"),
    pytest.param(PG_TEMP, {}, Outcome.OK, [], "restart postgresql.service",
                 id="nothing of a log set: nothing truncated"),
    pytest.param(NGINX_LOG + PG_TEMP, {"min_size": "10MB"}, Outcome.OK, [], "no deleted-but-open files to release",
                 id="min_size (decimal MB) leaves out both"),
    pytest.param(NGINX_LOG, {"mounts": ["/"]}, Outcome.OK, [], "no deleted-but-open files to release",
                 id="another mount than the file's"),
    pytest.param(deleted(812, 2, 2352, 34, "/var/log/nginx-old/error.log", "nginx", "nginx.service"), {},
                 Outcome.OK, [], "restart nginx.service",
                 id="looks like a log but lies outside every log set's roots"),
])
def test_release_deleted(tmp_path: Path, held: str, params: Mapping[str, Any], outcome: Outcome,
                         changes: list[str], says: str) -> None:
    plan = plan_host(tmp_path, "disk.release_deleted", params, [Reply(r"-links 0", LISTING + held)])

    assert plan.outcome is outcome
    assert sentences(plan) == changes
    assert says in plan.message
    truncations = [c for c in plan.changes if "command" in c.details]
    assert len(truncations) == len(changes) // 2   # each one after the securing of its file
    for change in truncations:   # re-checked on the host right before: same device, inode, no links, size
        assert f"= '{VAR}:34:0:{2352 * 512}' ]" in change.details["command"]


# -- processes.kill ----------------------------------------------------------------------------------------

PS = """USER PID PPID S ETIMES COMMAND
root 1 0 S 86400 /sbin/init
root 2 0 S 86400 [kthreadd]
root 601 1 S 86000 sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups
root 3900 1 S 86000 php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)
www-data 4242 3900 S 3600 php-fpm: pool www
www-data 4243 3900 S 3600 php-fpm: pool www
root 3990 601 S 10 sshd: root@notty
root 4000 3990 S 0 sh -c survey
"""
SURVEY = Reply(r'@self \$\$"; echo "@boot',
               "@self 4000\n@boot table-boot\n@@runbook {nonce} begin processes\n" + PS
               + "\n@@runbook {nonce} end processes 0\n")


def identity(*pids: int) -> Reply:
    """The identity script's answer for ``pids`` (start ticks, command line checksum, state)."""
    lines = "".join(f"@id {pid} 31337{pid} S 3900 {pid} {pid} 0 -1 4194560 100 0 0 0 50 10 0 0 20 0 1 0 "
                    f"{8_600_000 + pid} 1000 10 1\n" for pid in pids)
    return Reply(r"for p in [0-9 ]+; do s=\$\(cat /proc/\$p/stat", f"@self 4001\n@boot table-boot\n{lines}")


@pytest.mark.parametrize("params, host_vars, answers, outcome, changes, says", [
    pytest.param({"pattern": "php-fpm: pool"}, {}, [identity(4242, 4243)], Outcome.CHANGED,
                 ["end pid 4242 (php-fpm: pool www): matches 'php-fpm: pool'",
                  "end pid 4243 (php-fpm: pool www): matches 'php-fpm: pool'"], "", id="a pattern"),
    pytest.param({"pattern": "php-fpm: pool"}, {}, [identity(4242)], Outcome.CHANGED,
                 ["end pid 4242 (php-fpm: pool www): matches 'php-fpm: pool'"], "",
                 id="one ended between the two looks"),
    pytest.param({"pids": [1]}, {}, [], Outcome.FAILED, [], "refused, nothing was ended: pid 1 is pid 1 (init)",
                 id="pid 1 by number"),
    pytest.param({"pids": [4242, 601]}, {}, [], Outcome.FAILED, [],
                 "refused, nothing was ended: pid 601 is sshd, the way in to this host", id="sshd among pids"),
    pytest.param({"pattern": "sshd"}, {}, [], Outcome.OK, [], "nothing to end; refused: 601, 3990",
                 id="sshd and our own session by pattern"),
    pytest.param({"pattern": "php-fpm"}, {"protected_processes": ["php-fpm: master"]}, [identity(4242, 4243)],
                 Outcome.CHANGED, ["end pid 4242 (php-fpm: pool www): matches 'php-fpm'",
                                   "end pid 4243 (php-fpm: pool www): matches 'php-fpm'"], "",
                 id="protected_processes spares the master"),
    pytest.param({"pattern": "php-fpm", "user": "root"}, {"protected_processes": ["php-fpm: master"]}, [],
                 Outcome.OK, [], "nothing to end; refused: 3900", id="user narrows it to the protected one"),
    pytest.param({"pattern": "php-fpm: pool", "max_processes": 1}, {}, [], Outcome.FAILED, [],
                 "2 processes match, more than max_processes=1: nothing was ended", id="over max_processes"),
])
def test_kill(tmp_path: Path, params: Mapping[str, Any], host_vars: Mapping[str, Any], answers: Sequence[Reply],
              outcome: Outcome, changes: list[str], says: str) -> None:
    # the identity script starts like the survey: its more specific answer comes first
    plan = plan_host(tmp_path, "processes.kill", params, [*answers, SURVEY], host_vars=host_vars)

    assert plan.outcome is outcome
    assert sentences(plan) == changes
    assert says in plan.message
    # each target keeps the identity it was found with: its signals are refused for any other
    assert [t["identity"]["start_ticks"] for t in plan.data.get("targets", [])] == \
        [8_600_000 + int(s.split()[2]) for s in changes]


# -- logs.clean ----------------------------------------------------------------------------------------------

SHOP_SET = {"log_set_defaults": False,
            "log_sets": {"shop": {"globs": ["/var/log/shop/*.log"], "keep": 2, "max_age": "30d"}}}


def listed(*files: tuple[str, int, int, float], open_inode: int | None = None, base: str = "/var/log/shop") -> str:
    """``logfiles_command``'s answer: (name, inode, size, age in days) per file of /var/log/shop."""
    now = time.time()
    records = "".join(f"f {VAR} {inode} 1 {size} {now - days * 86400:.1f} /var/log/shop/{name}\0"
                      for name, inode, size, days in files)
    held = f"{VAR}:{open_inode} /proc/3900/fd\n" if open_inode else ""
    return ("\n@@runbook {nonce} part open\n" + held + "\n@@runbook {nonce} part mounts\n" + MOUNTS
            + "\n@@runbook {nonce} part b0\n" + base + "\n" + "\n@@runbook {nonce} part g0_0\n" + records
            + "\n@@runbook {nonce} part end\n")


SHOP = [("app.log", 10, 1000, 0), ("app.log.1", 11, 2000, 1), ("app.log.2.gz", 12, 3000, 2),
        ("app.log.3.gz", 13, 4000, 3), ("app.log.4.gz", 14, 5000, 40)]


@pytest.mark.parametrize("listing, params, outcome, changes, refused", [
    pytest.param(listed(*SHOP), {"require_archive": False}, Outcome.CHANGED,
                 ["delete /var/log/shop/app.log.4.gz (4.9 KiB, beyond keep 2, 40 days old) WITHOUT archive "
                  "(require_archive: false)",
                  "delete /var/log/shop/app.log.3.gz (3.9 KiB, beyond keep 2) WITHOUT archive (require_archive: false)"],
                 {}, id="beyond keep and too old, oldest first"),
    pytest.param(listed(*SHOP), {}, Outcome.OK, [],
                 {"/var/log/shop/app.log.4.gz": "no verified archive of it in this run",
                  "/var/log/shop/app.log.3.gz": "no verified archive of it in this run"},
                 id="without an archive of this run: refused"),
    pytest.param(listed(*SHOP, open_inode=13), {"require_archive": False}, Outcome.CHANGED,
                 ["delete /var/log/shop/app.log.4.gz (4.9 KiB, beyond keep 2, 40 days old) WITHOUT archive "
                  "(require_archive: false)"],
                 {"/var/log/shop/app.log.3.gz": "held open by pid 3900"}, id="a file held open"),
    pytest.param(listed(*SHOP, base="/data/shop-logs"), {"require_archive": False}, Outcome.OK, [],
                 {"/var/log/shop/app.log.4.gz": "a symlink is in its path",
                  "/var/log/shop/app.log.3.gz": "a symlink is in its path"}, id="the log directory is a symlink"),
    pytest.param(listed(*SHOP), {"require_archive": False, "keep": 4, "max_age": "60d"}, Outcome.OK, [], {},
                 id="the step's keep and max_age win"),
    pytest.param(listed(*SHOP), {"require_archive": False, "max_files": 1}, Outcome.CHANGED,
                 ["delete /var/log/shop/app.log.4.gz (4.9 KiB, beyond keep 2, 40 days old) WITHOUT archive "
                  "(require_archive: false)"], {}, id="max_files caps the run"),
])
def test_clean(tmp_path: Path, listing: str, params: Mapping[str, Any], outcome: Outcome, changes: list[str],
               refused: Mapping[str, str]) -> None:
    plan = plan_host(tmp_path, "logs.clean", params, [Reply(r"part g0_0", listing)], host_vars=SHOP_SET)

    assert plan.outcome is outcome
    assert sentences(plan) == changes
    assert {r["path"]: r["reason"] for r in plan.data["refused"]} == refused
    assert all("app.log " not in s and not s.startswith("delete /var/log/shop/app.log ") for s in sentences(plan))


# -- services.restart -----------------------------------------------------------------------------------------

# Services of no shipped kind (no default probes: a table makes no network call), in systemd.
STACK = {
    "web1": {"address": "192.0.2.11", "roles": ["web"],
             "vars": {"services": {"shop-web": {"manager": "systemd", "depends_on": ["app1:shop-app"]}}}},
    "app1": {"address": "192.0.2.21", "roles": ["app"],
             "vars": {"services": {"shop-app": {"manager": "systemd", "depends_on": ["db1:shop-db"]}}}},
    "db1": {"address": "192.0.2.31", "roles": ["db"], "vars": {"services": {"shop-db": {"manager": "systemd"}}}},
}


def status(running: bool, pid: int) -> Reply:
    """A host's answer to the status script: its one service running (with ``pid``) or stopped."""
    body = f"rc=0\npid={pid}\nalive=1\nstart=1764030000\n" if running else "rc=3\npid=\nalive=0\n"
    return Reply(r"btime=", "@@service-{nonce} 0\n" + body)


def stack(db_running: bool = True) -> dict[str, list[Reply]]:
    return {"web1": [status(True, 812)], "app1": [status(True, 2100)], "db1": [status(db_running, 3300)]}


@pytest.mark.parametrize("replies, params, order, says", [
    pytest.param(stack(), {}, [
        ("web1", "stop web1:shop-web"), ("app1", "stop app1:shop-app"), ("db1", "stop db1:shop-db"),
        ("db1", "start db1:shop-db"), ("db1", "health gate db1:shop-db"),
        ("app1", "start app1:shop-app"), ("app1", "health gate app1:shop-app"),
        ("web1", "start web1:shop-web"), ("web1", "health gate web1:shop-web")], "nothing to do",
        id="everything: dependants stop first, dependencies start first"),
    pytest.param(stack(), {"services": ["shop-web"]}, [
        ("web1", "stop web1:shop-web"), ("web1", "start web1:shop-web"), ("web1", "health gate web1:shop-web")],
        "nothing to do", id="one service: its running dependencies are left alone"),
    pytest.param(stack(), {"services": ["shop-db"]}, [
        ("web1", "stop web1:shop-web"), ("app1", "stop app1:shop-app"), ("db1", "stop db1:shop-db"),
        ("db1", "start db1:shop-db"), ("db1", "health gate db1:shop-db"),
        ("app1", "start app1:shop-app"), ("app1", "health gate app1:shop-app"),
        ("web1", "start web1:shop-web"), ("web1", "health gate web1:shop-web")], "nothing to do",
        id="the database: what depends on it goes down and up around it"),
    pytest.param(stack(db_running=False), {"services": ["shop-web"]}, [
        ("web1", "stop web1:shop-web"), ("db1", "start db1:shop-db"), ("db1", "health gate db1:shop-db"),
        ("web1", "start web1:shop-web"), ("web1", "health gate web1:shop-web")], "nothing to do",
        id="a stopped dependency is started first, without a stop"),
    pytest.param(stack(), {"only_unhealthy": True}, [], "every service is healthy: nothing to restart",
                 id="only_unhealthy with all healthy"),
])
def test_restart(tmp_path: Path, replies: dict[str, list[Reply]], params: Mapping[str, Any],
                 order: list[tuple[str, str]], says: str) -> None:
    plan = plan_run(FakeHosts(tmp_path, STACK, replies), "services.restart", params)

    assert [(host, change.sentence) for host, change in plan.changes] == order
    assert set(plan.messages.values()) == {says}
    assert not plan.failed


def test_a_failing_config_check_refuses_the_restart_before_any_stop(tmp_path: Path) -> None:
    hosts = {name: {**entry, "vars": {"services": {k: {**v, "config_check": f"/usr/sbin/check-{k}"}
                                                   for k, v in entry["vars"]["services"].items()}}}
             for name, entry in STACK.items()}
    replies = stack()
    replies["app1"].insert(0, Reply(r"check-shop-app", "app.conf:12: unknown option 'workers_max'\n"
                                                      "configuration invalid\n", exit_code=2))
    for name in ("web1", "db1"):
        replies[name].insert(0, Reply(r"check-shop-", "syntax ok\n"))

    plan = plan_run(FakeHosts(tmp_path, hosts, replies), "services.restart", {})

    assert plan.changes == () and plan.failed == {"web1", "app1", "db1"}
    assert plan.messages["app1"] == (
        "configuration check of app1:shop-app failed (/usr/sbin/check-shop-app: exit 2): app.conf:12: unknown "
        "option 'workers_max' | configuration invalid; restart refused, nothing was stopped")
    assert plan.messages["web1"] == ("not restarted: the configuration check of app1:shop-app failed; restart "
                                     "refused, nothing was stopped")
    checks = {c["service"]: c["ok"] for c in plan.data["db1"]["config_checks"]}
    assert checks == {"db1:shop-db": True, "app1:shop-app": False, "web1:shop-web": True}
