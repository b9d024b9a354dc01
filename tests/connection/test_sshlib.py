"""Paramiko comes without Invoke at start, and ssh_config's ``Match exec`` still works.

The stand-in for ``invoke`` (runbook/sshlib.py) must not change what Paramiko does: a
``Match exec`` line runs its command through the real Invoke the first time it is needed.
How much time it saves is measured in bench/sweep.py, not here.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support.cli import REPO, cli_env


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, env=cli_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_connecting_code_imports_neither_invoke_nor_asyncio() -> None:
    out = _python("""
        import sys
        import runbook.connection.ssh, runbook.inventory
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("invoke", "asyncio", "unittest")))
    """)
    assert out == "[]"


def test_match_exec_in_ssh_config_runs_its_command_through_the_real_invoke(tmp_path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(textwrap.dedent("""\
        Match host web1 exec "test -e /"
            HostName 10.0.0.1
        Match host web2 exec "test -e /no/such/path"
            HostName 10.0.0.2
        Host *
            User deploy
    """))
    out = _python(f"""
        import sys
        from pathlib import Path
        from runbook.inventory.ssh_config import lookup, read_ssh_config
        config = read_ssh_config(Path({str(config)!r}))
        print(lookup(config, "web1").get("hostname"), lookup(config, "web2").get("hostname"),
              lookup(config, "web1").get("user"), type(sys.modules["invoke"].run).__name__)
    """)
    assert out == "10.0.0.1 web2 deploy function"


def test_a_program_that_imported_invoke_first_keeps_it() -> None:
    out = _python("""
        import invoke
        from runbook.sshlib import paramiko
        import paramiko.config
        print(paramiko.config.invoke is invoke)
    """)
    assert out == "True"
