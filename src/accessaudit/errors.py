"""The one exception tree of accessaudit.

Every error a user can cause (bad input, bad configuration, an unreachable or refusing source,
a tampered snapshot or review workbook) reaches them as an :class:`AccessAuditError` with one
clear line that names the file, row or source. The command line turns it into exit status 2.

::

    AccessAuditError
    ├── ConfigError        the audit config or policy is wrong
    ├── SourceError        a source could not be read: file, line, server, credentials
    ├── SnapshotError      a snapshot is missing, incomplete or does not match its manifest
    └── ReviewError        a review campaign or returned workbook is not usable
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "AccessAuditError",
    "ConfigError",
    "ReviewError",
    "SnapshotError",
    "SourceError",
]


class AccessAuditError(Exception):
    """Base of every error accessaudit raises on purpose."""


class ConfigError(AccessAuditError):
    """The audit configuration or policy is invalid (unknown key, wrong type, missing value)."""


class SourceError(AccessAuditError):
    """A source could not be read.

    ``source`` names the configured source, ``location`` the file and line (``hr.csv:14``) or
    the server (``ldaps://dc1:636``) where the problem is; both end up in the message.
    ``failures`` optionally holds one row per bad input row (columns ``location``, ``column``,
    ``value``, ``problem``) for users who want all of them, not just the first.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        location: str | None = None,
        failures: pd.DataFrame | None = None,
    ) -> None:
        self.source = source
        self.location = location
        self.failures = failures
        prefix = ": ".join(part for part in (source, location) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SnapshotError(AccessAuditError):
    """A snapshot folder is missing, incomplete, or a table breaks its schema."""

    def __init__(self, message: str, *, failures: pd.DataFrame | None = None) -> None:
        self.failures = failures
        super().__init__(message)


class ReviewError(AccessAuditError):
    """A review campaign or a returned review workbook cannot be used."""
