"""How many files this process may open, and whether that carries a run of N parallel hosts.

A connection costs one socket while it is open (the engine closes it after the host's last
step), a service probe one more for a moment, an ssh-agent lookup one more during
authentication. The soft RLIMIT_NOFILE is often 1,024 while the hard limit is far higher, so
the CLI raises the soft limit to the hard one at start; where even that is too low for
``--forks``, the run stops before it starts, with one line saying what to change.
"""

from __future__ import annotations

import resource

from runbook.errors import ResourceLimitError

#: fds one host in flight may hold at once: SSH socket, a probe's socket, the agent's socket,
#: and one spare (an artifact file being written)
FDS_PER_HOST = 4
#: fds of the process itself: stdio, the journal, Python's own, the interpreter's imports
FDS_BASE = 64


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # a container may refuse it: require_open_files says whether that matters
    return soft


def fds_needed(forks: int) -> int:
    """Open files a run with ``forks`` hosts in flight needs at most."""
    return FDS_BASE + FDS_PER_HOST * forks


def require_open_files(forks: int) -> None:
    """Raise ResourceLimitError unless this process may open enough files for ``forks`` hosts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= fds_needed(forks):
        return
    fitting = max((soft - FDS_BASE) // FDS_PER_HOST, 0)
    raise ResourceLimitError(
        f"this process may open only {soft} files (RLIMIT_NOFILE, hard limit {hard}), and "
        f"--forks {forks} needs up to {fds_needed(forks)}: use --forks {fitting} or less, or raise "
        "the limit (ulimit -n; LimitNOFILE= in a systemd unit)")
