"""``python -m runbook.analysis``: see ``cli``."""

import sys

from .cli import main

sys.exit(main())
