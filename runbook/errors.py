"""One shallow tree of errors. The CLI turns each into a one-line message and an exit code."""

from __future__ import annotations


def last_line(output: str, default: str = "no output") -> str:
    """The last non-empty line of a command's output: where tools say why they failed (argparse
    prints its usage first, gzip its "No space left on device" last)."""
    return next((line.strip() for line in reversed(output.splitlines()) if line.strip()), default)


class RunbookError(Exception):
    """Base of every error runbook raises on purpose."""

    def one_line(self) -> str:
        """The error as a host's one-line result: its first line (subclasses say why better)."""
        return next((line for line in str(self).splitlines() if line.strip()), type(self).__name__)


class ConfigError(RunbookError):
    """Bad inventory, playbook or contract input: names the file, line and field."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        what = f"{self.field}: " if self.field else ""
        if self.file is None:  # a command-line value: the field (option name) says where
            return f"{what}{self.message}"
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {what}{self.message}"


class UsageError(RunbookError):
    """A command-line value that is not allowed: names the option and, where there are few, the
    allowed values. The CLI exits 64 (sysexits EX_USAGE) for it, as for the parser's own errors."""

    def __init__(self, message: str, *, option: str) -> None:
        self.message = message
        self.option = option
        super().__init__(f"{option}: {message}")


class LocalWriteError(RunbookError):
    """A local file or directory runbook must write cannot be written (a full disk, no
    permission, a file where a directory must be, a journal deleted under a run): names the
    path. The CLI exits 73 (sysexits EX_CANTCREAT) for it."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")

    @classmethod
    def from_os_error(cls, path: object, exc: OSError) -> "LocalWriteError":
        """The error for ``exc`` raised while writing ``path`` (its strerror, not its repr)."""
        return cls(path, exc.strerror or str(exc) or type(exc).__name__)


class DataError(RunbookError):
    """Bad input data (a ticket, an e-mail): names where it came from and the field.

    ``source`` is a file or a ticket ("mail.eml", "JIRA ACME-412"), ``field`` the header or
    ticket field ("Date", "fields.priority"). The CLI exits 65 (sysexits EX_DATAERR) for it.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.source = source
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        what = f"{self.field}: " if self.field else ""
        return f"{where}{what}{self.message}"


class ConnectError(RunbookError):
    """A host could not be reached. ``layer`` says which: dns, tcp, ssh, hostkey, auth, local."""

    def __init__(self, host: str, layer: str, message: str) -> None:
        self.host = host
        self.layer = layer
        self.message = message
        super().__init__(f"{host}: {layer}: {message}")


class HostKeyError(ConnectError):
    """The host offered an unknown or changed key; strict checking refused it."""

    def __init__(self, host: str, message: str, *, fingerprint: str, changed: bool) -> None:
        self.fingerprint = fingerprint
        self.changed = changed
        super().__init__(host, "hostkey", message)


class CommandTimeout(RunbookError):
    """A command ran over its timeout; it was killed on the remote side as well."""

    def __init__(self, host: str, command: str, timeout: float) -> None:
        self.host = host
        self.command = command
        self.timeout = timeout
        super().__init__(f"{host}: command timed out after {timeout:g}s: {command[:200]}")


class CommandFailed(RunbookError):
    """A command exited non-zero where success was required.

    ``str()`` shows the host, the exit code, the command and the last lines of its output;
    ``reason`` is the one line that says why: the last line of its stderr (else of its output).
    """

    def __init__(self, host: str, command: str, exit_code: int, output: str, stderr: str | None = None) -> None:
        self.host = host
        self.command = command
        self.exit_code = exit_code
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-5:])
        self.reason = last_line(stderr if stderr and stderr.strip() else output, "")
        super().__init__(f"{host}: exit {exit_code}: {command[:200]}\n{tail}".rstrip())

    def one_line(self) -> str:
        """Why, in one line: ``h1: exit 1: gzip: stdout: No space left on device (rm -f -- ...)``."""
        command = self.command if len(self.command) <= 80 else self.command[:77] + "..."
        return f"{self.host}: exit {self.exit_code}: {self.reason or 'no output'} ({command})"


class ActionError(RunbookError):
    """An action could not plan or apply (bad facts, refused for safety, ...)."""


class Interrupted(RunbookError):
    """The run was stopped by SIGINT or SIGTERM.

    ``while_running``: a command was running on the host and was stopped (the journal records
    it as cut short); False when nothing was started.
    """

    def __init__(self, message: str, *, while_running: bool = False) -> None:
        super().__init__(message)
        self.while_running = while_running


class ResourceLimitError(RunbookError):
    """This machine's limits (open files) cannot carry the run as asked; says which and what to do."""
