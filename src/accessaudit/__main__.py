"""``python -m accessaudit`` runs the command line."""

import sys

from accessaudit.cli import run

if __name__ == "__main__":
    sys.exit(run())
