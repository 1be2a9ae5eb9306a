"""A breach scope as a workbook: Summary, Reach, Sharing links, Accounts, Groups, Clocks.

The Summary sheet states the sharing-link reach in words ("anyone with the link: unbounded,
no sign-in needed") next to the counts, so nobody reads an anonymous link as zero people.

>>> result = breach_scope(snapshot, resource="HR-Share")  # doctest: +SKIP
>>> write_scope_workbook(result, "scope.xlsx")              # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from accessaudit.analysis import ScopeResult
from accessaudit.reports.xlsx import ReportBook

__all__ = ["scope_summary", "write_scope_workbook"]


def scope_summary(result: ScopeResult) -> pd.DataFrame:
    """The Summary sheet: one (item, value) row per fact, the link reach spelt out."""
    reach = result.link_reach
    organisation = reach["organization_accounts"]
    rows = [
        ("subject", f"{result.subject_type} {result.subject}"),
        ("as of", result.as_of.isoformat()),
        ("accounts reaching it (through groups and grants)", str(len(result.accounts))),
        ("resources", str(result.resources["resource_id"].nunique())),
        ("data categories", ", ".join(result.data_categories) or "none"),
        ("sharing links and invitations", str(reach["links"])),
        (
            "anyone with the link",
            "yes: unbounded, whoever has the URL (no count is the whole reach)"
            if reach["anyone_with_the_link"]
            else "no",
        ),
        (
            "organisation links: enabled member accounts of the tenant",
            "none" if organisation is None else str(organisation),
        ),
        ("outside addresses invited", ", ".join(reach["named"]) or "none"),
        (
            "named in specific-people links (directory accounts and groups)",
            ", ".join(reach["named_people"]) or "none",
        ),
        ("sharing reach in words", reach["statement"]),
        ("notification clocks", str(len(result.notifications))),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def write_scope_workbook(result: ScopeResult, path: Path | str) -> Path:
    """Write ``result`` as a workbook (every source value as text, never a formula), saved
    atomically; sheets for empty tables are left out except Summary. Returns the path."""
    book = ReportBook()
    book.write_frame(
        "Summary", scope_summary(result), {"item": 50, "value": 90}, wrapped=("value",)
    )
    for name, table in (
        ("Reach", result.resources),
        ("Sharing links", result.links),
        ("Accounts", result.accounts),
        ("Groups", result.groups),
        ("Notification clocks", result.notifications),
    ):
        if len(table):
            book.write_frame(name, table)
    target = Path(path)
    book.save(target)
    return target
