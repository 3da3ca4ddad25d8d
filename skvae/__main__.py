"""``python -m skvae``: the ``skvae`` command."""

import sys

from ._cli import main

sys.exit(main())
