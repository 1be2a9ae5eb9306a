"""What every part of the directory connector's reports and errors share."""

from __future__ import annotations

from typing import Any

import pandas as pd

from accessaudit.connectors.ldap.syntax import redact_url
from accessaudit.errors import SourceError

__all__ = ["SearchReferences", "located_error", "sample"]

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


class SearchReferences:
    """The search references a read met (RFC 4511 §4.5.3: a part of the tree held by another
    server), by distinct URL with user names and passwords redacted; they are not followed."""

    def __init__(self) -> None:
        self.urls: set[str] = set()

    def add(self, urls: list[str]) -> None:
        """Note the URLs of one reference."""
        self.urls.update(redact_url(url) for url in urls)

    def report(self) -> dict[str, Any]:
        """How many distinct URLs, and the first few, for the collection report."""
        return {"count": len(self.urls), "first": sorted(self.urls)[:_SAMPLE]}

    def warning(self) -> str | None:
        """The sentence for the report's warnings, or None when there was no reference."""
        if not self.urls:
            return None
        return (
            f"{len(self.urls)} search reference(s) (ref:) not followed: the entries they point "
            "to are held by another server and were not read"
        )
