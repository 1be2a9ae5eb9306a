"""Option values shared by the sub-commands."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["add_progress_flags", "date_option", "wants_progress"]


def date_option(option: str, value: str | None) -> pd.Timestamp | None:
    """A date given on the command line (``--as-of 2026-11-21``) as a UTC timestamp; None when
    the option was not given. Anything but an ISO 8601 date (``01/02/2026``) is a ConfigError
    naming the option (see :func:`accessaudit.model.iso_timestamp`)."""
    if value is None:
        return None
    # Imported here: parsing the command line must not load pandas (``--help`` starts at once).
    from accessaudit.model import iso_timestamp

    return iso_timestamp(value, where=option)


def add_progress_flags(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress`` for a command that collects sources."""
    parser.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="progress bars on stderr while collecting (default: when stderr is a terminal)",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bars"
    )


def wants_progress(args: argparse.Namespace) -> bool:
    """Whether to draw progress bars: as the flags say, else when stderr is a terminal."""
    return bool(sys.stderr.isatty()) if args.progress is None else bool(args.progress)
