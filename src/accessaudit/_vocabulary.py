"""Vocabulary words that the command line needs before any table exists.

Plain tuples with no imports, so that building the argument parser (``accessaudit --help``)
does not load pandas. :mod:`accessaudit.findings` hands them on with the finding columns.
"""

from __future__ import annotations

__all__ = ["SEVERITIES"]

#: Finding severities, from least to most.
SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
