"""``python -m suite`` is the ``dataops`` command."""

import sys

from .cli import main

sys.exit(main())
