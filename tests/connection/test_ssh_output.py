"""Regression: all of a command's output arrives, even when sshd sends the exit status first.

sshd may send exit-status while output is still in the command's pipe (OpenSSH session.c:
"there could be some more data waiting in the pipe"). Reading only until the exit status cut
output short under load (15 of 240 runs of `seq 1 30000` over 12 connections, before the fix).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


from runbook.connection import ConnectOptions, connect
from runbook.inventory import load_inventory


EXPECTED = "".join(f"{i}\n" for i in range(1, 30001))


def test_large_output_is_never_cut_short(lab, lab_inventory):
    inventory = load_inventory([lab_inventory])
    hosts = [inventory.hosts[name] for name in ("web1", "app1", "db1", "spare1")]
    conns = [connect(h, ConnectOptions()) for h in hosts for _ in range(3)]

    def many(conn):
        return [conn.run("seq 1 30000", timeout=30).stdout for _ in range(10)]

    try:
        with ThreadPoolExecutor(len(conns)) as pool:
            outputs = [out for batch in pool.map(many, conns) for out in batch]
    finally:
        for conn in conns:
            conn.close()
    short = [len(o) for o in outputs if o != EXPECTED]
    assert not short, f"{len(short)} of {len(outputs)} outputs were cut short: {short[:5]} chars"
