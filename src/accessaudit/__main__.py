"""``python -m accessaudit`` runs the command line."""

import sys

from accessaudit.cli import main

if __name__ == "__main__":
    sys.exit(main())
