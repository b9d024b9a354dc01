"""Benchmark: peak RSS of `runbook run` when a host's command prints 200 MB on stdout.

    python bench/output_memory.py [--mib 200] [--subnet 127.0.20]

Starts a one-host lab (a real loopback OpenSSH sshd), runs a playbook whose one command
prints ``--mib`` MiB (``head -c N /dev/zero | tr``) over SSH, and reports the whole process's
peak RSS (wait4) next to that of ``runbook --help`` (the interpreter and its imports). A run
keeps a bounded head and tail of a command's output (``runbook.connection.base.BoundedOutput``)
and drops the middle as it arrives, so the peak must not grow with the output: target (issue
12) under 100 MiB. It also checks the journal counted every byte.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.lab import Lab  # noqa: E402

TARGET_MIB = 100.0


def peak_rss(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Peak RSS (MiB) and exit code of one whole process."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=200)
    parser.add_argument("--subnet", default="127.0.20")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="rb-bench-") as tmp:
        lab = Lab(Path(tmp) / "lab", ["big1"], subnet=args.subnet)
        with lab:
            inventory = lab.write_inventory(Path(tmp) / "inventory.yml", include_bad=False)
            playbook = Path(tmp) / "big.yml"
            playbook.write_text(yaml.safe_dump({"name": "prints a lot", "steps": [{
                "name": "print", "action": "command",
                "params": {"cmd": f"head -c {size} /dev/zero | tr '\\000' y; echo; echo done"}}]}))
            runs = Path(tmp) / "runs"
            env = dict(os.environ, RUNBOOK_RUNS_DIR=str(runs), NO_COLOR="1")
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            baseline, _ = peak_rss([sys.executable, "-m", "runbook", "--help"], env)
            rss, code = peak_rss([sys.executable, "-m", "runbook", "run", str(playbook), "-i", str(inventory)], env)
            (run,) = runs.iterdir()
            command = next(e for e in map(json.loads, (run / "journal.jsonl").open()) if e["event"] == "command")
    print(f"{'what':<34} {'peak MiB':>9} {'exit':>5}")
    print(f"{'runbook --help (imports only)':<34} {baseline:>9.1f} {0:>5}")
    print(f"{f'runbook run, {args.mib} MiB stdout (ssh)':<34} {rss:>9.1f} {code:>5}")
    print(f"journal: stdout_bytes {command['stdout_bytes']:,} (printed {size + 6:,}), "
          f"kept {len(command['stdout']):,} characters")
    ok = code == 0 and rss < TARGET_MIB and command["stdout_bytes"] == size + len("\ndone\n")
    print(f"target: peak RSS < {TARGET_MIB:.0f} MiB: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
