"""The diff of two snapshots as a workbook: a Summary sheet and one sheet per change table.

>>> write_diff_workbook(diff_snapshots(q3, q4), "changes.xlsx")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from accessaudit.analysis.diff import SnapshotDiff
from accessaudit.reports.xlsx import atomic_save, reports_write_errors, write_frame

__all__ = ["write_diff_workbook"]


@reports_write_errors
def write_diff_workbook(change: SnapshotDiff, path: Path | str) -> Path:
    """Write ``change`` as a workbook: a Summary sheet and one sheet per non-empty change
    table (every source value as text, never a formula), saved atomically. Returns the path."""
    book = Workbook(write_only=True)
    summary = change.summary().assign(
        old_as_of=change.old_as_of.isoformat(),
        new_as_of=change.new_as_of.isoformat(),
        old_digest=change.old_digest or "",
        new_digest=change.new_digest or "",
    )
    write_frame(book.create_sheet("Summary"), summary)
    for name, table in change.tables().items():
        if len(table):
            write_frame(book.create_sheet(name[:31]), table)
    target = Path(path)
    atomic_save(book, target)
    return target
