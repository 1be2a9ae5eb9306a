"""The diff of two snapshots as a workbook: a Summary sheet and one sheet per change table.

>>> write_diff_workbook(diff_snapshots(q3, q4), "changes.xlsx")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from accessaudit.analysis.diff import SnapshotDiff
from accessaudit.reports.xlsx import ReportBook

__all__ = ["write_diff_workbook"]


def write_diff_workbook(change: SnapshotDiff, path: Path | str) -> Path:
    """Write ``change`` as a workbook: a Summary sheet and one sheet per non-empty change
    table (every source value as text, never a formula), saved atomically. Returns the path."""
    book = ReportBook()
    summary = change.summary().assign(
        old_as_of=change.old_as_of.isoformat(),
        new_as_of=change.new_as_of.isoformat(),
        old_digest=change.old_digest or "",
        new_digest=change.new_digest or "",
    )
    book.write_frame("Summary", summary)
    for name, table in change.tables().items():
        if len(table):
            book.write_frame(name[:31], table)
    target = Path(path)
    book.save(target)
    return target
