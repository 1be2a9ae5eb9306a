"""Review workbooks: one per reviewer out, read back with every row checked.

A workbook has an *Instructions* sheet and a *Review* sheet. Data columns are locked (sheet
protection); only Decision (a keep / revoke / modify drop-down) and Comment are editable. A
hidden Integrity column holds, per row, an HMAC-SHA256 over the campaign id, the reviewer and
the row's data, keyed with the campaign's secret key, which stays in the campaign folder. Sheet
protection only stops accidents; the HMAC is what makes an edit visible.

Every value from a source is written as a text cell, so a display name like
``=HYPERLINK("http://evil")`` stays text and is never evaluated by Excel.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accessaudit.errors import ReviewError
from accessaudit.reports._xlsx import atomic_save, print_layout

__all__ = [
    "DATA_COLUMNS",
    "DECISIONS",
    "HEADER",
    "REVIEW_SHEET",
    "ReturnedWorkbook",
    "read_workbook",
    "row_hashes",
    "workbook_cells",
    "write_workbook",
]

REVIEW_SHEET = "Review"
INSTRUCTIONS_SHEET = "Instructions"
DECISIONS = ("keep", "revoke", "modify")
_CAMPAIGN_PROPERTY = "accessaudit.campaign"
_REVIEWER_PROPERTY = "accessaudit.reviewer"

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
_DECISION_COL = len(DATA_COLUMNS) + 1
_COMMENT_COL = len(DATA_COLUMNS) + 2
_HASH_COL = len(DATA_COLUMNS) + 3
_WIDTHS = {"Person": 22, "Entitlement": 28, "How held": 36, "Reason": 34, "Comment": 40}


def workbook_cells(items: pd.DataFrame) -> pd.DataFrame:
    """The data cells of ``items`` exactly as written to (and read back from) a workbook."""
    columns: dict[str, pd.Series] = {}
    for header, column in DATA_COLUMNS:
        values = items[column]
        if column == "privileged":
            text = values.map({True: "yes", False: "no"}).astype(str)
        else:
            text = values.astype(object).where(values.notna(), "").astype(str)
        # XML cannot hold control characters: drop them before hashing, so the hash is over
        # exactly what the workbook holds.
        columns[header] = text.str.replace(ILLEGAL_CHARACTERS_RE, "", regex=True).astype(object)
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


def _text_cell(sheet: object, row: int, column: int, value: str) -> None:
    cell = sheet.cell(row=row, column=column, value=value)  # type: ignore[attr-defined]
    # A source value such as "=cmd|' /C calc'!A0" must stay text: force the string type and
    # the quote prefix Excel itself uses for text that looks like a formula.
    cell.data_type = "s"
    if value[:1] in ("=", "+", "-", "@"):
        cell.quotePrefix = True


def write_workbook(
    path: Path,
    items: pd.DataFrame,
    *,
    campaign_id: str,
    reviewer_id: str,
    reviewer: str,
    deadline: str | None,
    cells: pd.DataFrame | None = None,
) -> None:
    """Write one reviewer's workbook to ``path`` (``items`` must carry ``integrity``;
    ``cells``, when given, are :func:`workbook_cells` of ``items``, computed once)."""
    book = Workbook()
    guide = book.active
    guide.title = INSTRUCTIONS_SHEET
    lines = [
        f"Access review for {reviewer} ({reviewer_id})",
        f"Campaign {campaign_id}; decide by {deadline or 'the date your auditor gave you'}.",
        "",
        "For every row on the Review sheet, choose a Decision from the drop-down:",
        "  keep: the access is still needed.",
        "  revoke: remove the access.",
        "  modify: keep a smaller right; say which in Comment.",
        "A Comment is required when you keep an entitlement we recommend revoking,",
        "and for every modify.",
        "Do not edit, add, remove or reorder other columns or rows: each row carries an",
        "integrity check, and edited rows are rejected when the workbook is collected.",
        "Recommendation and Reason come from the audit: last sign-in, HR status, how many",
        "department peers hold the same entitlement, and findings on it.",
    ]
    for number, line in enumerate(lines, start=1):
        _text_cell(guide, number, 1, line)
    guide["A1"].font = Font(bold=True, size=13)
    guide.column_dimensions["A"].width = 90
    guide.protection.sheet = True

    sheet = book.create_sheet(REVIEW_SHEET)
    header_fill = PatternFill("solid", fgColor="1F4E78")
    for column, title in enumerate(HEADER, start=1):
        cell = sheet.cell(row=1, column=column, value=title)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = _WIDTHS.get(title, 14)
        sheet.column_dimensions[get_column_letter(column)].width = width
    cells = workbook_cells(items) if cells is None else cells
    editable = Protection(locked=False)
    revoke_fill = PatternFill("solid", fgColor="FCE4D6")
    for offset, (values, integrity, recommendation) in enumerate(
        zip(
            cells.itertuples(index=False, name=None),
            items["integrity"],
            items["recommendation"],
            strict=True,
        )
    ):
        row = offset + 2
        for column, value in enumerate(values, start=1):
            _text_cell(sheet, row, column, value)
        if recommendation == "revoke":
            sheet.cell(row=row, column=len(DATA_COLUMNS) - 1).fill = revoke_fill
        for column in (_DECISION_COL, _COMMENT_COL):
            sheet.cell(row=row, column=column).protection = editable
        _text_cell(sheet, row, _HASH_COL, str(integrity))
    last = len(items) + 1
    decision_letter = get_column_letter(_DECISION_COL)
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(DECISIONS) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Decision",
        error="Choose keep, revoke or modify.",
    )
    validation.add(f"{decision_letter}2:{decision_letter}{max(last, 2)}")
    sheet.add_data_validation(validation)
    sheet.column_dimensions[get_column_letter(_HASH_COL)].hidden = True
    sheet.freeze_panes = "B2"
    print_layout(sheet, sum(_WIDTHS.get(title, 14) for title in HEADER[:_COMMENT_COL]))
    sheet.auto_filter.ref = f"A1:{get_column_letter(_COMMENT_COL)}{max(last, 2)}"
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    book.active = book.index(sheet)

    book.properties.identifier = campaign_id
    book.properties.title = f"Access review {campaign_id}"
    book.custom_doc_props.append(StringProperty(name=_CAMPAIGN_PROPERTY, value=campaign_id))
    book.custom_doc_props.append(StringProperty(name=_REVIEWER_PROPERTY, value=reviewer_id))
    atomic_save(book, path)


@dataclass(frozen=True)
class ReturnedWorkbook:
    """A workbook as read back: its campaign and reviewer, and its rows as text.

    ``rows`` has the :data:`HEADER` columns plus ``row`` (the Excel row number); empty rows are
    dropped. ``header`` is what the first row actually said.
    """

    path: Path
    campaign_id: str
    reviewer_id: str
    header: tuple[str, ...]
    rows: pd.DataFrame


def read_workbook(path: Path) -> ReturnedWorkbook:
    """Read a returned review workbook; :class:`ReviewError` when it cannot be read at all."""
    try:
        book = load_workbook(path, read_only=False, data_only=False)
    except Exception as error:
        # openpyxl raises zipfile, KeyError, ValueError and its own errors for a file that
        # is not a workbook; all of them mean the same thing to a reviewer.
        raise ReviewError(f"{path.name}: not a readable Excel workbook ({error})") from error
    try:
        properties = {p.name: str(p.value) for p in book.custom_doc_props}
        campaign_id = properties.get(_CAMPAIGN_PROPERTY, book.properties.identifier or "")
        reviewer_id = properties.get(_REVIEWER_PROPERTY, "")
        if REVIEW_SHEET not in book.sheetnames:
            raise ReviewError(f"{path.name}: has no sheet named {REVIEW_SHEET!r}")
        sheet = book[REVIEW_SHEET]
        values = list(sheet.iter_rows(values_only=True))
    finally:
        book.close()
    header = tuple("" if v is None else str(v) for v in (values[0] if values else ()))
    width = len(HEADER)
    records = [
        (number, *(("" if v is None else str(v)) for v in (row + (None,) * width)[:width]))
        for number, row in enumerate(values[1:], start=2)
        if any(v not in (None, "") for v in row)
    ]
    rows = pd.DataFrame(records, columns=["row", *HEADER])
    return ReturnedWorkbook(
        path=path, campaign_id=campaign_id, reviewer_id=reviewer_id, header=header, rows=rows
    )
