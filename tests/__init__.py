"""runbook's test suite (a package, so ``tests.lab`` can be imported from the repo root)."""
