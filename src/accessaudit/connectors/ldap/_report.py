"""What every part of the directory connector's collection report shares."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["sample"]

_SAMPLE = 10


def sample(values: pd.Series) -> dict[str, Any]:
    """A count and the first few distinct values, sorted so reports do not depend on order.

    >>> sample(pd.Series(["b", "a", None, "a"]))
    {'count': 3, 'first': ['a', 'b']}
    """
    distinct = sorted(set(values.dropna().astype(str)))
    return {"count": int(values.notna().sum()), "first": distinct[:_SAMPLE]}
