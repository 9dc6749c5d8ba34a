"""``python -m pupitre``: the same as the ``pupitre`` command."""

import sys

from pupitre.cli import run

sys.exit(run())
