"""``python -m pupitre.tui``: the same as the ``pupitre`` command."""

import sys

from pupitre.cli import main

sys.exit(main())
