"""How a run runs: steps in order over the targeted hosts, and what it did.

``start``     the start of a run: validate before any host is contacted, open the journal
``engine``    steps in order, each by its action's strategy; stopping on SIGINT/SIGTERM
``step``      the step context every strategy works with: one result per host, said once
``per_host``  the strategy of a ``HostAction``: hosts plan and apply in parallel (bounded)
``ordered``   the strategy of a ``RunAction``: one plan across hosts, applied in its order
``hosts``     the run's hosts across steps: connections, unreachable hosts, registered results
``options``   what the operator asked for (check, --yes, forks, connections)
``results``   one result per host per step, and the run's status
"""
