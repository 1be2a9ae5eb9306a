"""Option values shared by the sub-commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["date_option"]


def date_option(option: str, value: str | None) -> pd.Timestamp | None:
    """A date given on the command line (``--as-of 2026-11-21``) as a UTC timestamp; None when
    the option was not given. Anything but an ISO 8601 date (``01/02/2026``) is a ConfigError
    naming the option (see :func:`accessaudit.model.iso_timestamp`)."""
    if value is None:
        return None
    # Imported here: parsing the command line must not load pandas (``--help`` starts at once).
    from accessaudit.model import iso_timestamp

    return iso_timestamp(value, where=option)
