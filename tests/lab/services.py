"""Real services on the lab hosts: nginx on web1, a gunicorn WSGI app on app1, PostgreSQL on db1.

Each runs from its own host's root tree (config, pid file, logs, data) on that host's
loopback address, started and stopped with the same shell commands the inventory gives
runbook for manager ``command`` (there is no systemd in the container). The app can be put
into a real hung state: ``hang_app()`` sends a request that blocks the only worker forever,
so the port still accepts connections and nothing answers.

Also here: helper processes for hung-process tests (a SIGSTOPped one, an overlong "backup
job", a parent that leaves a zombie), all started by the test process and stopped by pid.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import yaml

from tests.lab.lab import Lab
from tests.lab.processes import LabError, owned_process, read_pid

NGINX = "/usr/sbin/nginx"
PG_USER = "postgres"
WEB_PORT = 8080
APP_PORT = 8000
DB_PORT = 5432

APP = '''\
"""The lab's shop: answers / and /health (which asks PostgreSQL as the shop's role); /hang blocks
its worker forever; /leak opens a database connection the worker never gives back (it ends with
the worker, as a driver's connection does); /boom raises (gunicorn answers 500 and logs the
traceback); any other path is a 404."""
import subprocess
import threading

DB = {db!r}
LEAKED = []


def db_ok():
    try:
        out = subprocess.run(["psql", "-h", DB[0], "-p", str(DB[1]), "-U", "shop", "-d", "postgres",
                              "-tAc", "select 1"], capture_output=True, text=True, timeout=3)
    except subprocess.TimeoutExpired:
        return False
    return out.returncode == 0 and out.stdout.strip() == "1"


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/hang":
        threading.Event().wait()  # a real hang: the only worker never comes back
    if path == "/health":
        ok = db_ok()
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
        return [b"app ok, db ok\\n" if ok else b"app ok, db down\\n"]
    if path == "/leak":  # an idle session held through psql's stdin: it closes when the worker goes
        LEAKED.append(subprocess.Popen(["psql", "-q", "-h", DB[0], "-p", str(DB[1]), "-U", "shop", "-d", "postgres"],
                                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"leaked\\n"]
    if path == "/boom":
        raise RuntimeError("lab: /boom fails on purpose")
    if path != "/":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\\n"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app ok\\n"]
'''

NGINX_CONF = '''\
daemon on;
pid {root}/run/nginx.pid;
error_log {root}/var/log/nginx/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {root}/var/log/nginx/access.log;
    client_body_temp_path {root}/tmp/nginx-body; proxy_temp_path {root}/tmp/nginx-proxy;
    fastcgi_temp_path {root}/tmp/nginx-fcgi; uwsgi_temp_path {root}/tmp/nginx-uwsgi; scgi_temp_path {root}/tmp/nginx-scgi;
    server {{
        listen {address}:{port};
        location / {{ proxy_pass http://{app}:{app_port}; proxy_read_timeout 5s; }}
    }}
}}
'''


def services_unavailable_reason() -> str | None:
    """Why the real services cannot run here, or None."""
    for tool in (NGINX, "initdb", "pg_ctl", "psql", "pg_isready", "runuser"):
        if shutil.which(tool) is None:
            return f"the services lab needs {tool!r} (nginx-light, postgresql), which is not installed"
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "the services lab needs gunicorn (pip install -e '.[test]')"
    if os.geteuid() == 0 and PG_USER not in {p.pw_name for p in pwd.getpwall()}:
        return "PostgreSQL refuses to run as root and there is no 'postgres' user"
    return None


class LabStack:
    """nginx (web1) -> gunicorn (app1) -> PostgreSQL (db1), each on its lab host's address."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.web = lab.hosts["web1"]
        self.app = lab.hosts["app1"]
        self.db = lab.hosts["db1"]
        # PostgreSQL runs as 'postgres', which cannot pass through pytest's private (0700) temp
        # directories -- and other pytest sessions on the machine reset them to 0700 at any time.
        # So its files live in a directory of their own, linked from db1's root tree.
        self.pg_home = Path(tempfile.mkdtemp(prefix="runbook-lab-pg-"))
        self.data = self.pg_home / "data"
        self.helpers: list[subprocess.Popen[bytes]] = []

    # -- the commands runbook is given ------------------------------------------------------

    def _nginx(self, *extra: str) -> str:
        root = self.web.root
        return shlex.join([NGINX, "-p", f"{root}/", "-c", str(root / "etc/nginx.conf"),
                           "-e", str(root / "var/log/nginx/error.log"), *extra])

    def _pg(self, *args: str, tool: str = "pg_ctl") -> str:
        argv = [tool, "-D", str(self.data), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", PG_USER, "--", *argv]
        return shlex.join(argv) + " </dev/null"

    def config_checks(self) -> dict[str, str]:
        """Each service's configuration check, on the files the lab starts it with: nginx's
        ``-t``; PostgreSQL's ``postgres -C``, which parses postgresql.conf and fails on a bad value."""
        return {"nginx": self._nginx("-t"), "postgresql": self._pg("-C", "shared_buffers", tool="postgres")}

    @property
    def urls(self) -> dict[str, str]:
        return {"web": f"http://{self.web.address}:{WEB_PORT}/", "app": f"http://{self.app.address}:{APP_PORT}/health"}

    def commands(self) -> dict[str, dict[str, str]]:
        app_root = self.app.root
        pid = app_root / "run/gunicorn.pid"
        gunicorn = shlex.join([sys.executable, "-m", "gunicorn", "--daemon", "--chdir", str(app_root / "srv"),
                               "--bind", f"{self.app.address}:{APP_PORT}", "--workers", "1", "--timeout", "600",
                               "--graceful-timeout", "2", "--pid", str(pid),
                               "--error-logfile", str(app_root / "var/log/gunicorn.log"), "shop:application"])
        return {
            "nginx": {"start": self._nginx(), "stop": self._nginx("-s", "quit"),
                      "pid_file": str(self.web.root / "run/nginx.pid")},
            "gunicorn": {"start": gunicorn + " </dev/null >/dev/null 2>&1",
                         "stop": f"kill -TERM \"$(cat {shlex.quote(str(pid))})\"", "pid_file": str(pid)},
            # -W: return at once, as many init scripts do; the health gate has to find out.
            "postgresql": {"start": self._pg("-l", str(self.pg_home / "log/postgresql.log"),
                                             "-W", "start"),
                           "stop": self._pg("-m", "fast", "-w", "stop"),
                           "pid_file": str(self.data / "postmaster.pid")},
        }

    def host_vars(self, *, config_checks: bool = True) -> dict[str, dict[str, Any]]:
        """The ``services`` (and rules) each lab host gets in the inventory; without
        ``config_checks`` as an inventory that declares none (a restart then finds a broken
        configuration only when the start fails)."""
        c = self.commands()
        checks = self.config_checks() if config_checks else {}
        for name in ("nginx", "postgresql"):
            c[name]["config_check"] = checks.get(name, False)  # type: ignore[assignment]
        c["postgresql"]["log"] = str(self.pg_home / "log/postgresql.log")
        return {
            "web1": {"services": {"nginx": {
                "manager": "command", **c["nginx"], "depends_on": ["app1:gunicorn"],
                "probes": [{"http": self.urls["web"], "status": 200, "contains": "app ok", "timeout": "2s"}],
                "start_timeout": "15s", "stop_timeout": "15s"}}},
            "app1": {"services": {"gunicorn": {
                "manager": "command", **c["gunicorn"], "depends_on": ["db1:postgresql"],
                "probes": [{"http": self.urls["app"], "status": 200, "contains": "db ok", "timeout": "2s"}],
                "start_timeout": "15s", "stop_timeout": "15s"}},
                "hung_rules": [{"service": "gunicorn", "action": "kill"}]},
            "db1": {"services": {"postgresql": {
                "manager": "command", **c["postgresql"],
                "probes": [{"tcp": DB_PORT},
                           {"command": shlex.join(self.pg_isready())}],
                "start_timeout": "8s", "stop_timeout": "20s"}}},
        }

    def write_inventory(self, path: Path, *, extra: dict[str, dict[str, Any]] | None = None,
                        config_checks: bool = True) -> Path:
        """The lab inventory with the stack's services in the hosts' vars (plus ``extra`` per host)."""
        self.lab.write_inventory(path)
        document = yaml.safe_load(path.read_text())
        for host, values in self.host_vars(config_checks=config_checks).items():
            document["hosts"][host]["vars"].update(values)
        for host, values in (extra or {}).items():
            document["hosts"][host].setdefault("vars", {}).update(values)
        path.write_text(yaml.safe_dump(document, sort_keys=False, width=200))
        return path

    # -- start and stop -----------------------------------------------------------------------

    def start(self) -> LabStack:
        try:
            self._prepare()
            for name in ("postgresql", "gunicorn", "nginx"):
                self._sh(self.commands()[name]["start"])
                if name == "gunicorn":
                    self.app_role()
                self.wait_healthy(name)
        except BaseException:
            self.stop()
            raise
        return self

    def _prepare(self) -> None:
        for root, dirs in ((self.web.root, ("etc", "run", "var/log/nginx", "tmp")),
                           (self.app.root, ("srv", "run", "var/log")),
                           (self.pg_home, ("run", "log"))):
            for d in dirs:
                (root / d).mkdir(parents=True, exist_ok=True)
        (self.web.root / "etc/nginx.conf").write_text(NGINX_CONF.format(
            root=self.web.root, address=self.web.address, port=WEB_PORT, app=self.app.address, app_port=APP_PORT))
        (self.app.root / "srv/shop.py").write_text(APP.format(db=(self.db.address, DB_PORT)))
        self.pg_home.chmod(0o711)
        link = self.db.root / "var/lib/postgresql"
        if not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(self.pg_home)
        if os.geteuid() == 0:
            account = pwd.getpwnam(PG_USER)
            for d in (self.pg_home / "run", self.pg_home / "log"):
                os.chown(d, account.pw_uid, account.pw_gid)
            if not self.data.exists():
                self.data.mkdir(mode=0o700)
                os.chown(self.data, account.pw_uid, account.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            init = ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N", "--no-instructions"]
            if os.geteuid() == 0:
                init = ["runuser", "-u", PG_USER, "--", *init]
            subprocess.run(init, check=True, capture_output=True, timeout=120)
        self.repair_postgres()

    def stop(self) -> None:
        """Stop what runs (by the pid files' pids, checked against their command lines)."""
        self.stop_helpers()
        for name in ("nginx", "gunicorn", "postgresql"):
            self.stop_service(name)
        if self.main_pid("postgresql") is None:
            shutil.rmtree(self.pg_home, ignore_errors=True)

    def stop_helpers(self) -> None:
        for proc in self.helpers:
            _end_helper(proc)
        self.helpers.clear()

    def _sh(self, line: str, timeout: float = 60) -> None:
        done = subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise LabError(f"{line}: exit {done.returncode}: {done.stderr.strip()[-300:]}")

    def main_pid(self, name: str) -> int | None:
        pid = read_pid(Path(self.commands()[name]["pid_file"]))
        proc = owned_process(pid, {"nginx": "nginx", "gunicorn": "gunicorn", "postgresql": "postgres"}[name]) \
            if pid else None
        return proc.pid if proc else None

    def pg_isready(self) -> list[str]:
        # As the lab's role: without -U it logs in as the OS user, and every probe left a
        # 'FATAL:  role "root" does not exist' in the log -- a bad login nobody made.
        return ["pg_isready", "-q", "-h", self.db.address, "-p", str(DB_PORT), "-U", PG_USER, "-d", "postgres"]

    def healthy(self, name: str) -> bool:
        if name == "postgresql":
            return subprocess.run(self.pg_isready(), check=False, timeout=10).returncode == 0
        return http_get(self.urls["web" if name == "nginx" else "app"], 3.0)[0] == 200

    def wait_healthy(self, name: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy(name):
            if time.monotonic() > deadline:
                raise LabError(f"{name} did not become healthy in {timeout:g}s")
            time.sleep(0.2)

    def ensure_running(self) -> None:
        """Bring the stack back to healthy after a test that broke, stopped or hung it: in
        dependency order, start what is down and restart what runs but does not answer (a
        hung worker, a service started while its database was down)."""
        self.repair_postgres()
        for name in ("postgresql", "gunicorn", "nginx"):
            if name == "gunicorn" and self.healthy("postgresql"):
                self.app_role()
            if self.main_pid(name) is None:
                self._sh(self.commands()[name]["start"])
            try:
                self.wait_healthy(name, timeout=10.0)
            except LabError:
                self.stop_service(name)
                self._sh(self.commands()[name]["start"])
                self.wait_healthy(name)

    def app_role(self) -> None:
        """The shop's own database role (not a superuser: it cannot use the reserved slots)."""
        self.wait_healthy("postgresql")
        subprocess.run(["psql", "-h", self.db.address, "-p", str(DB_PORT), "-U", "postgres", "-d", "postgres",
                        "-qc", "CREATE ROLE shop LOGIN"], capture_output=True, timeout=30, check=False)

    def fresh_logs(self) -> None:
        """Empty the services' logs, so a scenario reads only its own night: what earlier
        scenarios on the same stack logged (a broken config, a killed worker) is not its story.
        The services write in append mode, so they go on at the new end."""
        for log in (self.web.root / "var/log/nginx/access.log", self.web.root / "var/log/nginx/error.log",
                    self.app.root / "var/log/gunicorn.log", self.pg_home / "log/postgresql.log"):
            if log.exists():
                os.truncate(log, 0)

    def stop_service(self, name: str) -> None:
        """Stop one service and everything it started, by its pid file's pid: its own stop
        command first, then KILL for what is left (a hung worker ignores TERM)."""
        marker = {"nginx": "nginx", "gunicorn": "gunicorn", "postgresql": "postgres"}[name]
        pid = read_pid(Path(self.commands()[name]["pid_file"]))
        proc = owned_process(pid, marker) if pid else None
        if proc is None:
            return
        family = [proc]
        with contextlib.suppress(psutil.Error):
            family += proc.children(recursive=True)
        with contextlib.suppress(subprocess.SubprocessError, OSError, LabError):
            self._sh(self.commands()[name]["stop"], timeout=30)
        deadline = time.monotonic() + 15
        while any(_live(p) for p in family) and time.monotonic() < deadline:
            time.sleep(0.1)
        for survivor in [p for p in family if _live(p)]:
            with contextlib.suppress(psutil.Error):
                survivor.kill()
        psutil.wait_procs(family, timeout=10)

    # -- breaking things ----------------------------------------------------------------------

    def break_postgres(self) -> None:
        """A config PostgreSQL refuses to start with (the next start fails, the running one is fine)."""
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("shared_buffers = 'lots'  # lab: broken on purpose\n")

    def break_postgres_access(self) -> None:
        """A pg_hba.conf PostgreSQL refuses to start with -- which its configuration check
        (``postgres -C``, postgresql.conf only) does not read: the check passes, the start fails."""
        with (self.data / "pg_hba.conf").open("a") as hba:
            hba.write("hostx all all 0.0.0.0/0 trust  # lab: broken on purpose\n")

    def repair_postgres(self) -> None:
        conf = self.data / "postgresql.conf"
        if not conf.exists():
            return
        hba = self.data / "pg_hba.conf"
        hba.write_text("".join(ln for ln in hba.read_text().splitlines(keepends=True) if "# lab:" not in ln))
        lines = [ln for ln in conf.read_text().splitlines() if "# lab:" not in ln]
        lines += [f"listen_addresses = '{self.db.address}'  # lab: address", f"port = {DB_PORT}  # lab: port",
                  f"unix_socket_directories = '{self.pg_home / 'run'}'  # lab: socket",
                  "fsync = off  # lab: speed", "shared_buffers = 16MB  # lab: small",
                  "max_connections = 20  # lab: few slots, so a leaking app can use them up"]
        conf.write_text("\n".join(lines) + "\n")

    def hang_app(self) -> None:
        """Send the request that blocks the app's only worker; return once the app hangs."""
        with socket.create_connection((self.app.address, APP_PORT), timeout=3) as sock:
            sock.sendall(b"GET /hang HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
        deadline = time.monotonic() + 10
        while http_get(self.urls["app"], 1.0)[0] is not None:
            if time.monotonic() > deadline:
                raise LabError("the app still answers after /hang")
            time.sleep(0.1)

    # -- helper processes ---------------------------------------------------------------------

    def spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        self.helpers.append(proc)
        return proc

    def stopped_helper(self) -> subprocess.Popen[bytes]:
        """A process stopped with SIGSTOP (state T), like a suspended job."""
        proc = self.spawn([sys.executable, "-c", "import time; time.sleep(600)", "lab-helper-stopped"])
        time.sleep(0.2)
        os.kill(proc.pid, signal.SIGSTOP)
        return proc

    def backup_job(self) -> subprocess.Popen[bytes]:
        """A long-running "backup job"."""
        return self.spawn([sys.executable, "-c", "import time; time.sleep(600)", "lab-backup-job", "--nightly"])

    def zombie_parent(self) -> subprocess.Popen[bytes]:
        """A parent that leaves its child unreaped (a zombie) and reaps it when told to end."""
        code = ("import os, signal, time\n"
                "child = os.fork()\n"
                "if child == 0: os._exit(0)\n"
                "signal.signal(signal.SIGTERM, lambda *a: (os.waitpid(child, 0), os._exit(0)))\n"
                "while True: time.sleep(1)\n")
        return self.spawn([sys.executable, "-c", code, "lab-zombie-parent"])


def run_playbook(inventory: Path, text: str, runs: Path, *, check: bool = False, yes: bool = True,
                 limit: str | None = None, confirm: Any = None) -> tuple[Any, list[dict[str, Any]]]:
    """Run playbook ``text`` through the real engine; (RunResult, the journal's events)."""
    from runbook.inventory import load_inventory
    from runbook.journal import read_events
    from runbook.paths import Paths
    from runbook.playbook import load_playbook
    from runbook.run.options import RunOptions
    from runbook.run.start import plan_hosts, start_run

    book = load_playbook(runs.parent / "playbook.yml", text=text)
    inv = load_inventory([inventory])
    hosts = plan_hosts(inv, book, limit)
    engine = start_run(inv, hosts, book, Paths(reports=runs.parent, runs=runs),
                       RunOptions(check=check, assume_yes=yes), confirm=confirm, argv=["test"])
    result = engine.run()
    engine.journal.close()
    return result, read_events(engine.journal.path)


def http_get(url: str, timeout: float) -> tuple[int | None, str]:
    """(status, body) or (None, why) -- for tests to check what a user would see."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/")
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    except (OSError, http.client.HTTPException) as exc:
        return None, str(exc)
    finally:
        conn.close()


def _live(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _end_helper(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
