"""Analyses over snapshots: DataFrames in, DataFrames out (no files, no formats).

* :func:`diff_snapshots` — what changed between two snapshots;
* :func:`breach_scope` — what a compromised account reaches, or who reaches a resource;
* :func:`all_moves` / :func:`moves_between` — movers, from HR history or two snapshots.

Writing them as Excel or JSON is the business of :mod:`accessaudit.reports`.
"""

from accessaudit.analysis.diff import ACCOUNT_FIELDS_COMPARED, SnapshotDiff, diff_snapshots
from accessaudit.analysis.movers import MOVE_COLUMNS, all_moves, moves_between, moves_from_hr
from accessaudit.analysis.scope import (
    NOTIFICATION_COLUMNS,
    ScopeResult,
    breach_scope,
    notification_rules,
)

__all__ = [
    "ACCOUNT_FIELDS_COMPARED",
    "MOVE_COLUMNS",
    "NOTIFICATION_COLUMNS",
    "ScopeResult",
    "SnapshotDiff",
    "all_moves",
    "breach_scope",
    "diff_snapshots",
    "moves_between",
    "moves_from_hr",
    "notification_rules",
]
