"""runbook -- on-call toolkit for customers' web, application and database servers.

The package reads like one run, top to bottom:

- ``inventory``  where hosts come from (customers, roles, vars, connection settings)
- ``playbook``   what is asked of them (steps, validated against the action registry)
- ``connection`` how commands reach them (SSH via Fabric/Paramiko, or local)
- ``facts``      what is read (typed values from command output or psutil)
- ``actions``    what is changed (plans first, applied by the engine)
- ``engine``     runs steps over hosts in parallel, with check mode and timeouts
- ``journal``    what is remembered (append-only JSON lines, flushed as it goes)
- ``reports``    what is told to the customer (rendered from journals)
"""

__version__ = "0.1.0"
