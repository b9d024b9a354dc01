"""Start-up of the CLI, warm (issue 17: `--version` and `--help` well under 0.3 s; shell
completion must not make a start more than 30 ms slower).

    python bench/startup.py [--repeat 15] [--against DIR]

Each command is a whole process (interpreter start included) from this checkout, run once to
warm the page cache and the bytecode cache (as an installed package has it), then ``--repeat``
times; the median and the fastest are printed. Measured:

- ``python3 -c pass``: the interpreter alone, the floor;
- ``runbook --version``, ``runbook --help``, ``runbook run --help`` (a command module loaded);
- a completion request as bash sends it (``_RUNBOOK_COMPLETE=complete_bash``): the host names
  of a 50-host inventory, and the command names;
- what importing ``runbook.cli.completion`` adds to a start (``-X importtime``, cumulative).

``--against DIR``: the same commands from another checkout (e.g. ``git archive main``
unpacked there), side by side, so a change's cost is read in one run on the same machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def inventory(directory: Path, hosts: int = 50) -> Path:
    path = directory / "inventory.yml"
    lines = ["customer: {name: Bench GmbH}", "defaults: {connection: local}", "hosts:"]
    lines += [f"  web{n}: {{roles: [web]}}" for n in range(1, hosts + 1)]
    path.write_text("\n".join(lines) + "\n")
    return path


def commands(inv: Path) -> list[tuple[str, list[str], dict[str, str]]]:
    runbook = [sys.executable, "-m", "runbook"]
    return [
        ("python3 -c pass", [sys.executable, "-c", "pass"], {}),
        ("runbook --version", [*runbook, "--version"], {}),
        ("runbook --help", [*runbook, "--help"], {}),
        ("runbook run --help", [*runbook, "run", "--help"], {}),
        ("complete: runbook shell -i INV w", runbook,
         {"_RUNBOOK_COMPLETE": "complete_bash", "COMP_WORDS": f"runbook shell -i {inv} w", "COMP_CWORD": "4"}),
        ("complete: runbook s", runbook,
         {"_RUNBOOK_COMPLETE": "complete_bash", "COMP_WORDS": "runbook s", "COMP_CWORD": "1"}),
    ]


def timed(argv: list[str], env: dict[str, str], cwd: Path, repeat: int) -> tuple[float, float]:
    """(median, fastest) seconds of ``repeat`` runs after one warm-up run."""
    environment = {**os.environ, "NO_COLOR": "1", **env}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, check=False)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def completion_import_ms(cwd: Path) -> float | None:
    """Cumulative import time of runbook.cli.completion in `runbook run --help`, ms."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "runbook", "run", "--help"], cwd=cwd,
                          capture_output=True, text=True, check=False)
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|\s+runbook\.cli\.completion$", line)
        if match:
            return int(match.group(1)) / 1000
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--against", type=Path, help="another checkout to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inv = inventory(Path(tmp))
        roots = [("this", ROOT)] + ([("against", args.against.resolve())] if args.against else [])
        header = f"{'command':<36}" + "".join(f"{name + ' median':>16}{'fastest':>10}" for name, _ in roots)
        print(header)
        for label, argv, env in commands(inv):
            row = f"{label:<36}"
            for _, root in roots:
                median, fastest = timed(argv, env, root, args.repeat)
                row += f"{median * 1000:>13.0f} ms{fastest * 1000:>7.0f} ms"
            print(row, flush=True)
        for name, root in roots:
            cost = completion_import_ms(root)
            print(f"import runbook.cli.completion ({name}): " + (f"{cost:.1f} ms" if cost is not None else "not imported"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
