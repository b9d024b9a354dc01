"""The shell lines that start, stop and ask a service, per manager (systemd, sysv, command).

Every value from the inventory goes through ``shlex.quote``; the ``start``/``stop``/``status``
commands of manager ``command`` are shell lines the inventory's author wrote and run as given.

A process counts as running only if it is not a zombie: where PID 1 does not reap orphans (a
container), a stopped daemon lingers as a zombie and ``kill -0`` would still say "alive".
"""

from __future__ import annotations

from runbook.connection.shell import quote
from runbook.services.model import ServiceSpec

#: sh function: is pid $1 a live (non-zombie) process?
ALIVE_FN = ('alive() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1; '
            's=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; set -- ${s##*) }; [ "$1" != Z ]; }')


def start_command(spec: ServiceSpec) -> str:
    return _lifecycle(spec, "start", spec.start)


def stop_command(spec: ServiceSpec) -> str:
    return _lifecycle(spec, "stop", spec.stop)


def _lifecycle(spec: ServiceSpec, verb: str, own: object) -> str:
    """``verb`` (start/stop) for the service's manager; manager ``command`` runs its own line."""
    if spec.manager == "systemd":
        return f"systemctl {verb} {quote(spec.unit)}"
    if spec.manager == "sysv":
        return f"service {quote(spec.script)} {verb}"
    return str(own)


def pid_command(spec: ServiceSpec) -> str:
    """Prints the main pid (or nothing)."""
    if spec.manager == "systemd" and not spec.pid_file:
        # not --value: systemd 219 (RHEL 7) lacks it
        return (f"p=$(systemctl show -p MainPID {quote(spec.unit)} 2>/dev/null | cut -d= -f2); "
                '[ "$p" != 0 ] && echo "$p"; true')
    if spec.pid_file:
        return f"head -n 1 {quote(spec.pid_file)} 2>/dev/null | tr -dc 0-9; echo"
    if spec.manager == "sysv":
        return f"pidof -s {quote(spec.script)} 2>/dev/null; true"
    return "true"


def status_command(spec: ServiceSpec) -> str:
    """Exit 0 when the service runs."""
    if spec.status:
        return spec.status
    if spec.manager == "systemd":
        return f"systemctl is-active --quiet {quote(spec.unit)}"
    if spec.manager == "sysv":
        return f"service {quote(spec.script)} status"
    return f'{ALIVE_FN}; alive "$({pid_command(spec)})"'


def probe_status_script(specs: list[ServiceSpec], marker: str, timeout: float = 10.0) -> str:
    """One sh script: per service a ``marker`` line with its index, then ``rc=``, ``pid=``,
    ``alive=`` and ``start=`` (the main process's start, seconds since the epoch).

    A status command that hangs (a hung service can hang its status too) is cut after
    ``timeout`` seconds where ``timeout(1)`` exists, and shows as rc=124.
    """
    lines = [ALIVE_FN,
             "btime=$(awk '/^btime/ {print $2}' /proc/stat 2>/dev/null); hz=$(getconf CLK_TCK 2>/dev/null || echo 100)",
             f"if command -v timeout >/dev/null 2>&1; then T='timeout {max(1, int(timeout))}'; else T=; fi"]
    for i, spec in enumerate(specs):
        lines.append(
            f"echo {quote(f'{marker} {i}')}; "
            f"$T sh -c {quote(status_command(spec))} </dev/null >/dev/null 2>&1; echo \"rc=$?\"; "
            f"pid=$(sh -c {quote(pid_command(spec))} 2>/dev/null | head -n 1); echo \"pid=$pid\"; "
            'if alive "$pid"; then echo alive=1; s=$(cat "/proc/$pid/stat"); set -- ${s##*) }; '
            'echo "start=$((btime + ${20} / hz))"; else echo alive=0; fi')
    return "\n".join(lines)
