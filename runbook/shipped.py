"""Files runbook ships beside its code: the standard playbooks and the local inventory, and how
a playbook named on the command line is found.

A wheel carries them under ``runbook/_shipped/`` (pyproject.toml force-includes them); in a
source checkout (or an editable install) they are the repository's ``playbooks/`` and
``inventory/``.

``runbook run on-call`` finds a playbook by name: a local file of that name wins (``./on-call.yml``,
``./playbooks/on-call.yml``, then ``playbooks/`` beside each inventory), else the shipped one.
The CLI says which was used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runbook.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
#: where shipped files are: the wheel's copy first, so an unrelated ``playbooks/`` directory
#: beside an installed package is never taken for ours
_BASES = (_PACKAGE / "_shipped", _PACKAGE.parent)
SUFFIXES = (".yml", ".yaml")


def shipped(relative: str) -> Path:
    """The path of a shipped file such as ``playbooks/health-check.yml``."""
    for base in _BASES:
        candidate = base / relative
        if candidate.is_file():
            return candidate
    raise ConfigError("shipped file is missing from this installation", file=relative)


def shipped_playbooks_dir() -> Path:
    """The directory of the shipped playbooks."""
    return shipped("playbooks/health-check.yml").parent


def shipped_playbooks() -> dict[str, Path]:
    """Every shipped playbook by name (its file name without ``.yml``)."""
    return {p.stem: p for p in sorted(shipped_playbooks_dir().iterdir()) if p.suffix in SUFFIXES and p.is_file()}


@dataclass(frozen=True)
class PlaybookFile:
    """Where a playbook named on the command line was found.

    ``origin``: "file" (a path was given), "local" (a file of that name here wins) or "shipped".
    ``shadows``: the shipped playbook a local one is used instead of.
    """

    name: str
    path: Path
    origin: str
    shadows: Path | None = None

    def describe(self) -> str:
        """One line for the operator: which file runs, and why."""
        if self.origin == "shipped":
            return f"playbook {self.name}: shipped ({self.path})"
        if self.origin == "local":
            extra = " -- used instead of the shipped one" if self.shadows else ""
            return f"playbook {self.name}: local file {self.path}{extra}"
        return f"playbook {self.path}"


def local_dirs(inventories: Sequence[Path] = (), cwd: Path | None = None) -> list[Path]:
    """Where local playbooks are looked for, in order: the current directory, its
    ``playbooks/``, and ``playbooks/`` beside each inventory."""
    here = cwd or Path.cwd()
    dirs = [here, here / "playbooks"]
    for inv in inventories:
        base = inv if inv.is_dir() else inv.parent
        dirs.append(base / "playbooks")
    unique: dict[Path, Path] = {}
    for d in dirs:
        unique.setdefault(d.resolve(), d)
    return list(unique.values())


def _is_path(arg: str) -> bool:
    return "/" in arg or arg.endswith(SUFFIXES)


def find_playbook(arg: str, inventories: Sequence[Path] = (), cwd: Path | None = None) -> PlaybookFile:
    """The playbook ``arg`` names: a file path, else a local file of that name, else a shipped
    playbook. ConfigError (exit 78) when none is found."""
    given = Path(arg)
    if given.is_file() or _is_path(arg):
        if not given.is_file():
            raise ConfigError("file not found", file=arg)
        return PlaybookFile(given.stem, given, "file")
    shipped_ones = shipped_playbooks()
    ours = shipped_ones.get(arg)
    for directory in local_dirs(inventories, cwd):
        for suffix in SUFFIXES:
            candidate = directory / f"{arg}{suffix}"
            if candidate.is_file():
                if ours is not None and candidate.resolve() == ours.resolve():
                    return PlaybookFile(arg, ours, "shipped")  # a checkout's own playbooks/
                return PlaybookFile(arg, candidate, "local", ours)
    if ours is not None:
        return PlaybookFile(arg, ours, "shipped")
    raise ConfigError(f"no playbook {arg!r}: not a file, not in {', '.join(str(d) for d in local_dirs(inventories, cwd))}, "
                      "and not shipped (`runbook playbooks` lists them)", field="PLAYBOOK")


def playbook_names(inventories: Sequence[Path] = (), cwd: Path | None = None) -> list[str]:
    """Every name ``find_playbook`` resolves: shipped ones and local ``playbooks/`` files."""
    names = set(shipped_playbooks())
    for directory in local_dirs(inventories, cwd)[1:]:  # not every .yml of the current directory
        if directory.is_dir():
            names.update(p.stem for p in directory.iterdir() if p.suffix in SUFFIXES and p.is_file())
    return sorted(names)
