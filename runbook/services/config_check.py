"""Checking a service's configuration before a controlled restart stops anything.

A service whose configuration is broken runs fine until its next start, and then refuses to
come back: a restart that stopped it first takes the shop down. So a restart first runs each
service's ``config_check`` (``nginx -t``, ``apache2ctl configtest``, ``postgres -D DIR -C
shared_buffers``, ... -- ``runbook.services.model``) on its host, in check mode too; it only
reads. A check that fails refuses the whole restart with the checker's own last lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runbook.errors import CommandTimeout
from runbook.services.model import ServiceSpec
from runbook.task import HostTask

#: A bound that stops a hung checker from hanging the run; checkers answer in a second.
CONFIG_CHECK_TIMEOUT = 60.0
#: how many of the checker's last lines say what is wrong
TAIL_LINES = 4
#: a shell's "command not found"
NOT_FOUND = 127


@dataclass(frozen=True)
class ConfigCheck:
    """What one service's configuration check said.

    key: the service ("web1:nginx"); command: the check as run; exit_code: None when it did
    not finish; tail: its last lines (stderr first: that is where checkers complain).
    """

    key: str
    command: str
    ok: bool
    exit_code: int | None
    tail: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the step's message: what failed and what the checker said."""
        if self.ok:
            return f"{self.key}: configuration checked ({self.command})"
        if self.exit_code is None:
            how = f"did not finish within {CONFIG_CHECK_TIMEOUT:g}s"
        elif self.exit_code == NOT_FOUND:
            how = "command not found (exit 127): set config_check to the checker's path, or false"
        else:
            how = f"exit {self.exit_code}"
        said = " | ".join(self.tail)
        return f"configuration check of {self.key} failed ({self.command}: {how})" + (f": {said}" if said else "")

    def to_json(self) -> dict[str, Any]:
        return {"service": self.key, "command": self.command, "ok": self.ok, "exit_code": self.exit_code,
                "output": list(self.tail)}


def check_config(task: HostTask, spec: ServiceSpec) -> ConfigCheck | None:
    """Run ``spec``'s configuration check on its host; None when it declares none."""
    if spec.config_check is None:
        return None
    try:
        result = task.run(spec.config_check, sudo=spec.sudo, timeout=CONFIG_CHECK_TIMEOUT, check=False)
    except CommandTimeout:
        return ConfigCheck(spec.key, spec.config_check, False, None)
    if result.ok:
        return ConfigCheck(spec.key, spec.config_check, True, 0)
    return ConfigCheck(spec.key, spec.config_check, False, result.exit_code,
                       last_lines(result.stderr) or last_lines(result.stdout))


def check_configs(tasks: Mapping[str, HostTask], specs: Iterable[ServiceSpec]) -> dict[str, ConfigCheck]:
    """The checks of every service of ``specs`` that declares one, by key (all of them run,
    so one refused restart names every broken configuration at once)."""
    found: dict[str, ConfigCheck] = {}
    for spec in specs:
        check = check_config(tasks[spec.host], spec)
        if check is not None:
            found[spec.key] = check
    return found


def last_lines(text: str, count: int = TAIL_LINES) -> tuple[str, ...]:
    """The last ``count`` non-blank lines of ``text``, stripped."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return tuple(lines[-count:])
