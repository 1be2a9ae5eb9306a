"""What every part of the directory connector's reports and errors share."""

from __future__ import annotations

from typing import Any

import pandas as pd

from accessaudit.connectors.ldap.syntax import redact_url
from accessaudit.errors import SourceError

__all__ = ["located_error", "sample"]

_SAMPLE = 10


def sample(values: pd.Series) -> dict[str, Any]:
    """A count and the first few distinct values, sorted so reports do not depend on order.

    >>> sample(pd.Series(["b", "a", None, "a"]))
    {'count': 3, 'first': ['a', 'b']}
    """
    distinct = sorted(set(values.dropna().astype(str)))
    return {"count": int(values.notna().sum()), "first": distinct[:_SAMPLE]}


def located_error(message: str, file: str, line: int, source: str | None) -> SourceError:
    """A :class:`SourceError` at ``file:line``. Values quoted from the file may hold URLs with
    a user name and password: those never reach the message."""
    return SourceError(redact_url(message), source=source, location=f"{file}:{line}")
