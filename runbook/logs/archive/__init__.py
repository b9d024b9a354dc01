"""Securing a host's log files: one tar.gz per host, built on the host (or from a POSIX sh
stream), written into the run's artifacts and verified member by member against sha256 sums
computed on the host. ``remote`` is the program sent to the host, ``stream`` the local half.
"""
