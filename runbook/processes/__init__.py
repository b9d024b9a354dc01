"""Processes on the hosts: which are hung, which must never be signalled, and ending them safely.

``hung``      the ``hung_rules`` host var -> rules, and which processes they call hung (with a reason)
``survey``    one look at a host: the process table, the protected pids (and why), hung processes
``sampling``  CPU ticks, states and wait channels over a window, from /proc
``identity``  what tells a process from a later one with the same pid; signals that check it
``ending``    TERM, a grace period, KILL: the ``apply`` of ending one process
"""
