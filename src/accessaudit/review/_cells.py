"""What a review workbook row holds, shared by the writer and the reader.

A workbook's *Review* sheet has the :data:`DATA_COLUMNS` (locked), Decision (one of
:data:`DECISIONS`) and Comment, and a hidden Integrity column: per row an HMAC-SHA256 over the
campaign id, the reviewer and the row's data (:func:`row_hashes`), keyed with the campaign's
secret key, which stays in the campaign folder. The campaign and reviewer ids are custom
document properties (:data:`CAMPAIGN_PROPERTY`, :data:`REVIEWER_PROPERTY`).
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from accessaudit.reports.xlsx import NOT_XML

__all__ = [
    "CAMPAIGN_PROPERTY",
    "DATA_COLUMNS",
    "DECISIONS",
    "HEADER",
    "REVIEWER_PROPERTY",
    "REVIEW_SHEET",
    "row_hashes",
    "workbook_cells",
]

REVIEW_SHEET = "Review"
DECISIONS = ("keep", "revoke", "modify")
CAMPAIGN_PROPERTY = "accessaudit.campaign"
REVIEWER_PROPERTY = "accessaudit.reviewer"

#: (header, items column) of the locked data columns, in sheet order.
DATA_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Item", "item_id"),
    ("Person", "person"),
    ("Department", "department"),
    ("HR status", "hr_status"),
    ("Account", "login"),
    ("System", "system"),
    ("Type", "entitlement_type"),
    ("Entitlement", "entitlement"),
    ("Right", "right"),
    ("How held", "how_held"),
    ("Privileged", "privileged"),
    ("Sensitivity", "sensitivity"),
    ("Data categories", "data_categories"),
    ("Last sign-in", "last_sign_in"),
    ("Peer share", "peer_share"),
    ("Findings", "findings"),
    ("Recommendation", "recommendation"),
    ("Reason", "reason"),
)
HEADER: tuple[str, ...] = (*(h for h, _ in DATA_COLUMNS), "Decision", "Comment", "Integrity")


def workbook_cells(items: pd.DataFrame) -> pd.DataFrame:
    """The data cells of ``items`` exactly as written to (and read back from) a workbook."""
    columns: dict[str, pd.Series] = {}
    for header, column in DATA_COLUMNS:
        values = items[column]
        if column == "privileged":
            text = values.map({True: "yes", False: "no"}).astype(str)
        else:
            text = values.astype(object).where(values.notna(), "").astype(str)
        # Characters XML 1.0 cannot hold show as U+FFFD, before hashing, so the hash is over
        # exactly what the workbook holds.
        columns[header] = text.str.replace(NOT_XML, "\ufffd", regex=True).astype(object)
    return pd.DataFrame(columns, index=items.index)


def row_hashes(
    cells: pd.DataFrame, campaign_id: str, reviewer_id: str | pd.Series, key: bytes
) -> pd.Series:
    """HMAC-SHA256 of each row of ``cells`` bound to the campaign and the reviewer (one id, or
    one per row), so a row copied into another reviewer's or campaign's workbook fails."""
    if not len(cells):
        return pd.Series([], index=cells.index, dtype=object)
    joined = pd.Series(campaign_id + "\x1f", index=cells.index, dtype=object)
    joined = joined + reviewer_id
    for column in cells.columns:
        joined = joined + "\x1f" + cells[column].astype(str)
    digests = [hmac.new(key, text.encode(), hashlib.sha256).hexdigest() for text in joined.tolist()]
    return pd.Series(digests, index=cells.index, dtype=object)
