"""Option values shared by the sub-commands."""

from __future__ import annotations

import pandas as pd

from accessaudit.errors import ConfigError
from accessaudit.model import utc_timestamp

__all__ = ["date_option"]


def date_option(option: str, value: str | None) -> pd.Timestamp | None:
    """A date given on the command line (``--as-of 2026-11-21``) as a UTC timestamp; None when
    the option was not given. A word that is not a date is a ConfigError naming the option."""
    if value is None:
        return None
    problem = ConfigError(f"{option}: {value!r} is not a date (YYYY-MM-DD)")
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise problem from None
    if pd.isna(stamp):
        raise problem
    return utc_timestamp(stamp)
