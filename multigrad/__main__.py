"""``python -m multigrad``: the same as the ``multigrad`` command."""

import sys

from ._cli import main

sys.exit(main())
