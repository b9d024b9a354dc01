"""Logs on the hosts: which files a host has, how they are rotated, and how they are secured.

``sets``      the ``log_sets`` host var -> ``LogSet`` (globs, format, writer, retention, roots)
``files``     every file of a host's log sets, as listed on the host (one command, a pure parser)
``rotation``  logrotate's semantics, re-implemented: options, a pure plan, shell commands
``archive``   one verified tar.gz per host, streamed over the run's connection: the program
              sent to the host (``remote``), the local half that writes and verifies (``stream``),
              and what a run has secured (``secure``)
``retention`` which rotated logs are due (keep, max_age) and which must never be deleted
``deletion``  deleting one log file, re-checked on the host right before ``rm``
``release``   the space of deleted-but-open logs, freed by truncating them through /proc
"""
