"""Analyses over snapshots: DataFrames in, DataFrames out (no files, no formats).

* :func:`diff_snapshots` — what changed between two snapshots;
* :func:`breach_scope` — what a compromised account reaches, or who reaches a resource.

Writing them as Excel or JSON is the business of :mod:`accessaudit.reports`.
"""

from accessaudit.analysis.diff import ACCOUNT_FIELDS_COMPARED, SnapshotDiff, diff_snapshots
from accessaudit.analysis.scope import (
    NOTIFICATION_COLUMNS,
    ScopeResult,
    breach_scope,
    notification_rules,
)

__all__ = [
    "ACCOUNT_FIELDS_COMPARED",
    "NOTIFICATION_COLUMNS",
    "ScopeResult",
    "SnapshotDiff",
    "breach_scope",
    "diff_snapshots",
    "notification_rules",
]
