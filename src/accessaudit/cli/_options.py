"""Option values shared by the sub-commands."""

from __future__ import annotations

import pandas as pd

from accessaudit.model import iso_timestamp

__all__ = ["date_option"]


def date_option(option: str, value: str | None) -> pd.Timestamp | None:
    """A date given on the command line (``--as-of 2026-11-21``) as a UTC timestamp; None when
    the option was not given. Anything but an ISO 8601 date (``01/02/2026``) is a ConfigError
    naming the option (see :func:`accessaudit.model.iso_timestamp`)."""
    if value is None:
        return None
    return iso_timestamp(value, where=option)
