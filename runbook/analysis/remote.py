"""Running the analyzer on the server: the sources travel on stdin, only JSON comes back.

``bundle()`` packs this package's sources (without ``render``, the one module that needs
rich) into a small zip. ``remote_command(...)`` returns a POSIX shell line that

1. checks for a usable ``python3`` (>= 3.7) and exits with ``NO_PYTHON_EXIT`` (127, the
   shell's own "command not found") if there is none -- the caller then analyses the archived
   copy locally and says so;
2. runs ``python3 -I -B -c <bootstrap>``: the bootstrap reads the zip from stdin and imports
   the package from memory via a meta-path finder. Nothing is written to the remote disk
   (``-B``: no .pyc either), which matters when the disk is 100% full;
3. prints ``Analysis.to_json()`` on stdout; the exit codes are those of ``cli.ExitCode``.

Every value in the line is quoted with ``shlex.quote``. Usage::

    result = conn.run(remote_command(paths, "auto", since, until), stdin=bundle())
    if result.exit_code == NO_PYTHON_EXIT: ...fall back...
    analysis = Analysis.from_json(result.stdout)

If the server has no python3 the wrapper exits before reading stdin, so the writer of the
bundle may see a broken pipe; callers treat that like exit code 127.
"""

from __future__ import annotations

import io
import os
import shlex
import zipfile
from datetime import datetime
from typing import List, Optional, Sequence, Tuple, Union

NO_PYTHON_EXIT = 127
#: The package name the sources get on the server (relative imports make it arbitrary).
REMOTE_PACKAGE = "rbanalysis"
_LOCAL_ONLY = ("render.py",)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the bundle is byte-identical on every build

# Python 3.7+ syntax only: this runs under the server's interpreter.
_BOOTSTRAP = """\
import io, sys, zipfile, importlib.abc, importlib.util
_z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
_src = {n: _z.read(n) for n in _z.namelist()}
class _Bundle(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def _key(self, name):
        base = name.replace(".", "/")
        for key in (base + "/__init__.py", base + ".py"):
            if key in _src:
                return key
    def find_spec(self, name, path=None, target=None):
        key = self._key(name)
        if key:
            return importlib.util.spec_from_loader(
                name, self, is_package=key.endswith("__init__.py"))
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        key = self._key(module.__name__)
        exec(compile(_src[key], "<bundle>/" + key, "exec"), module.__dict__)
sys.meta_path.insert(0, _Bundle())
from %s.cli import main
sys.exit(main(sys.argv[1:]))
""" % REMOTE_PACKAGE


def _sources() -> List[Tuple[str, str]]:
    """(path in bundle, file path) of every module shipped, sorted for a stable bundle."""
    root = os.path.dirname(os.path.abspath(__file__))
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if not name.endswith(".py") or (directory == root and name in _LOCAL_ONLY):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            found.append((REMOTE_PACKAGE + "/" + relative, path))
    return sorted(found)


def bundle() -> bytes:
    """The package's own sources as a deterministic zip, to be sent on the command's stdin."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in _sources():
            with open(path, "rb") as handle:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, handle.read())
    return buffer.getvalue()


def _time_arg(value: Union[None, str, datetime]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    # A naive datetime stays naive: the server reads it in its zone, as analyze_paths would.
    return value.isoformat()


def remote_command(paths: Sequence[str], fmt: str = "auto",
                   since: Union[None, str, datetime] = None,
                   until: Union[None, str, datetime] = None, *, top: int = 10,
                   baseline: Optional[str] = None,
                   baseline_window: Optional[Tuple[Union[str, datetime],
                                                   Union[str, datetime]]] = None,
                   naive_tz: Optional[str] = None, slow: float = 1.0,
                   python: str = "python3") -> str:
    """A shell command line running the analyzer on ``paths`` with the server's python3.

    paths/fmt/since/until/top/naive_tz/slow: as for ``analyze_paths``.
    baseline: ``"previous-day"`` or None; baseline_window: an explicit (start, end) instead.
    python:   interpreter name or path on the server.
    Feed ``bundle()`` on stdin; exit code ``NO_PYTHON_EXIT`` means no usable python3.
    """
    # Every value rides in its option's own word (--since=-2h): as a word of its own, a
    # relative time such as "-2h" reads to argparse as an option, not as the value.
    options = {"--format": fmt, "--top": str(int(top)), "--slow": repr(float(slow)),
               "--since": _time_arg(since), "--until": _time_arg(until), "--tz": naive_tz,
               "--baseline": baseline}
    if baseline_window is not None:
        options["--baseline-since"] = _time_arg(baseline_window[0]) or ""
        options["--baseline-until"] = _time_arg(baseline_window[1]) or ""
    args = ["--json", *(f"{flag}={value}" for flag, value in options.items() if value is not None)]
    args.append("--")  # a path starting with "-" is still a path
    args.extend(paths)
    py = shlex.quote(python)
    probe = shlex.quote("import sys; sys.exit(sys.version_info < (3, 7))")
    return ("command -v {py} >/dev/null 2>&1 && {py} -c {probe} </dev/null >/dev/null 2>&1"
            " || exit {code}; exec {py} -I -B -c {code_arg} {args}").format(
        py=py, probe=probe, code=NO_PYTHON_EXIT, code_arg=shlex.quote(_BOOTSTRAP),
        args=" ".join(shlex.quote(a) for a in args))
