"""One shallow tree of errors. The CLI turns each into a one-line message and an exit code."""

from __future__ import annotations


class RunbookError(Exception):
    """Base of every error runbook raises on purpose."""


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
    """A command exited non-zero where success was required."""

    def __init__(self, host: str, command: str, exit_code: int, output: str) -> None:
        self.host = host
        self.command = command
        self.exit_code = exit_code
        self.output = output
        tail = "\n".join(output.strip().splitlines()[-5:])
        super().__init__(f"{host}: exit {exit_code}: {command[:200]}\n{tail}".rstrip())


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
