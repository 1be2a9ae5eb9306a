"""Review workbooks out: one per reviewer, data locked, decisions in a drop-down.

A workbook has an *Instructions* sheet and a *Review* sheet. Data columns are locked (sheet
protection); only Decision (a keep / revoke / modify drop-down) and Comment are editable. A
hidden Integrity column holds, per row, an HMAC-SHA256 over the campaign id, the reviewer and
the row's data (:mod:`._cells`), keyed with the campaign's secret key, which stays in the
campaign folder. Sheet protection only stops accidents; the HMAC is what makes an edit
visible. Returned workbooks are read back by :mod:`._returned`.

Every value from a source is written as a text cell, so a display name like
``=HYPERLINK("http://evil")`` stays text and is never evaluated by Excel.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from accessaudit.errors import AccessAuditError
from accessaudit.reports._package import PackageTemplate
from accessaudit.reports._sheetdata import clean_text, inline_cells, join_cells
from accessaudit.reports.xlsx import write_package
from accessaudit.review._cells import (
    CAMPAIGN_PROPERTY,
    DATA_COLUMNS,
    DECISIONS,
    HEADER,
    REVIEW_SHEET,
    REVIEWER_PROPERTY,
    workbook_cells,
)

__all__ = ["ReviewWorkbooks", "write_workbook"]

INSTRUCTIONS_SHEET = "Instructions"
_DECISION_COL = len(DATA_COLUMNS) + 1
_COMMENT_COL = len(DATA_COLUMNS) + 2
_HASH_COL = len(DATA_COLUMNS) + 3
#: Column widths (characters). The sheet prints one A3 landscape page wide, so Person,
#: Entitlement, Recommendation, Reason, Decision and Comment are on the same page; the long
#: text columns wrap instead of being cut, and reviewers may still resize any column.
_WIDTHS = {
    "Item": 10,
    "Person": 20,
    "Department": 14,
    "HR status": 11,
    "Account": 14,
    "System": 8,
    "Type": 9,
    "Entitlement": 24,
    "Right": 8,
    "How held": 22,
    "Privileged": 10,
    "Sensitivity": 11,
    "Data categories": 11,
    "Last sign-in": 16,
    "Peer share": 12,
    "Findings": 14,
    "Recommendation": 15,
    "Reason": 30,
    "Decision": 10,
    "Comment": 30,
}
#: Columns whose text wraps within the column width.
_WRAPPED = frozenset(
    {"Person", "Entitlement", "How held", "Last sign-in", "Findings", "Reason", "Comment"}
)
_A3 = 8  # xlsxwriter's paper code for A3
#: A row is as high as its longest wrapped cell needs (spreadsheet programs do not grow a
#: written row to its wrapped text when they print), up to this many lines of 15 points.
_MAX_ROW_LINES = 12


#: Every string is written as a string: never turned into a formula, a number or a link.
#: Small workbooks are assembled in memory (no temporary file per XML part).
_WRITER_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
#: Text Excel itself would read as a formula gets the quote prefix Excel uses for such text.
_FORMULA_STARTS = ("=", "+", "-", "@")


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
    ``cells``, when given, are :func:`workbook_cells` of ``items``, computed once).

    Written with xlsxwriter (a campaign writes hundreds of these; openpyxl's cell objects
    were most of the time) and read back with openpyxl by :func:`read_workbook`. A campaign
    writes its workbooks with :class:`ReviewWorkbooks`, which runs xlsxwriter once.
    """
    last = max(len(items) + 1, 2)
    buffer = _formatted_package(
        campaign_id=campaign_id,
        reviewer_id=reviewer_id,
        reviewer_line=_reviewer_line(reviewer, reviewer_id),
        deadline=deadline,
        last=last,
    )
    cells = workbook_cells(items) if cells is None else cells
    rows = _ReviewRows(cells, items["integrity"], items["recommendation"])
    write_package(buffer, Path(path), {REVIEW_SHEET: rows})


#: Stand-ins written into a campaign's template workbook, replaced in each reviewer's copy.
#: The row number is one no real workbook reaches and no range of the template holds.
_NAME_STANDIN = "ReviewerNameStandIn"
_ID_STANDIN = "ReviewerIdStandIn"
_LAST_STANDIN = 987_653
#: Where the template's last row appears: the print area and the autofilter's hidden name
#: (workbook part), the autofilter and the drop-down's range (Review sheet).
_LAST_ROW = re.compile(rf"(?<=[A-Z$]){_LAST_STANDIN}(?![0-9])")
_SHARED_STRINGS = "xl/sharedStrings.xml"
_CUSTOM_PROPERTIES = "docProps/custom.xml"
_WORKBOOK_PART = "xl/workbook.xml"


class ReviewWorkbooks:
    """The workbooks of one campaign. xlsxwriter writes the formatting, protection,
    drop-down, properties and instructions once, as a template; each reviewer's workbook is
    that package with its reviewer, its row ranges and its rows (bench/README.md: the
    per-workbook xlsxwriter run was most of ``review create``). A reviewer whose name or id
    xlsxwriter would escape, and a workbook of one row, are written by xlsxwriter itself
    (:func:`write_workbook`), so every workbook is what xlsxwriter would have written."""

    def __init__(self, *, campaign_id: str, deadline: str | None) -> None:
        self._campaign_id = campaign_id
        self._deadline = deadline
        self._template: PackageTemplate | None = None

    def write(
        self,
        path: Path,
        items: pd.DataFrame,
        *,
        reviewer_id: str,
        reviewer: str,
        cells: pd.DataFrame | None = None,
    ) -> None:
        """Write one reviewer's workbook to ``path`` (as :func:`write_workbook`)."""
        last = max(len(items) + 1, 2)
        line = _reviewer_line(reviewer, reviewer_id)
        # xlsxwriter writes "S2" rather than "S2:S2" for a one-row range.
        if last == 2 or not (line.isprintable() and _unescaped(line)):
            write_workbook(
                path,
                items,
                campaign_id=self._campaign_id,
                reviewer_id=reviewer_id,
                reviewer=reviewer,
                deadline=self._deadline,
                cells=cells,
            )
            return
        cells = workbook_cells(items) if cells is None else cells
        rows = _ReviewRows(cells, items["integrity"], items["recommendation"])
        standin = _reviewer_line(_NAME_STANDIN, _ID_STANDIN)
        last_row = str(last)

        def ranges(text: str) -> str:
            return _LAST_ROW.sub(last_row, text)

        edits = {
            _SHARED_STRINGS: lambda text: _replace_once(text, f">{standin}</t>", f">{line}</t>"),
            _CUSTOM_PROPERTIES: lambda text: _replace_once(
                text, f">{_ID_STANDIN}</vt:lpwstr>", f">{reviewer_id}</vt:lpwstr>"
            ),
            _WORKBOOK_PART: ranges,
        }
        edits[self._sheet_part()] = ranges
        self._package().write(Path(path), {REVIEW_SHEET: rows}, edits)

    def _package(self) -> PackageTemplate:
        if self._template is None:
            self._template = PackageTemplate(
                _formatted_package(
                    campaign_id=self._campaign_id,
                    reviewer_id=_ID_STANDIN,
                    reviewer_line=_reviewer_line(_NAME_STANDIN, _ID_STANDIN),
                    deadline=self._deadline,
                    last=_LAST_STANDIN,
                )
            )
        return self._template

    def _sheet_part(self) -> str:
        return self._package().sheet_part(REVIEW_SHEET)


def _reviewer_line(reviewer: str, reviewer_id: str) -> str:
    return f"Access review for {reviewer} ({reviewer_id})"


def _unescaped(text: str) -> bool:
    """Whether xlsxwriter writes ``text`` into XML as it is: no markup character and no
    ``_xHHHH_`` escape (a caller also checks it is printable: no control character)."""
    return not any(c in text for c in '&<>"') and "_x" not in text


def _replace_once(text: str, standin: str, value: str) -> str:
    """``text`` with its one ``standin`` replaced by ``value``."""
    if text.count(standin) != 1:
        raise AccessAuditError("the workbook writer changed the review workbook template")
    return text.replace(standin, value)


def _formatted_package(
    *, campaign_id: str, reviewer_id: str, reviewer_line: str, deadline: str | None, last: int
) -> io.BytesIO:
    """The workbook xlsxwriter writes: instructions, the Review sheet's header and probe row
    (:mod:`accessaudit.reports._package`), formatting, ranges up to row ``last``."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, _WRITER_OPTIONS)
    formats = _Formats(book)
    guide = book.add_worksheet(INSTRUCTIONS_SHEET)
    lines = [
        reviewer_line,
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
        "Rows of Type link or invitation are sharing links and invitations on your site:",
        "How held says who they reach, expiry, password and who created them; revoke removes",
        "the link for everyone who has it.",
    ]
    for number, line in enumerate(lines):
        _text(guide, number, 0, line, formats, title=number == 0)
    guide.set_column(0, 0, 90)
    guide.protect()

    sheet = book.add_worksheet(REVIEW_SHEET)
    for column, title in enumerate(HEADER):
        sheet.write_string(0, column, title, formats.header)
        # A column format applies to the cells written without one of their own.
        wrap = formats.wrapped if title in _WRAPPED else None
        sheet.set_column(column, column, _WIDTHS.get(title, 14), wrap)
    # The rows are streamed into the file after xlsxwriter has written it (its per-cell
    # Python was most of a campaign's time); this probe row, replaced by them, tells which
    # style index xlsxwriter gave each format the rows use.
    for column, name in enumerate(_ROW_STYLES):
        sheet.write_string(1, column, "x", formats.by_name(name))
    sheet.data_validation(
        1,
        _DECISION_COL - 1,
        last - 1,
        _DECISION_COL - 1,
        {
            "validate": "list",
            "source": list(DECISIONS),
            "ignore_blank": True,
            "show_error": True,
            "error_title": "Decision",
            "error_message": "Choose keep, revoke or modify.",
        },
    )
    sheet.set_column(_HASH_COL - 1, _HASH_COL - 1, 14, None, {"hidden": True})
    sheet.freeze_panes(1, 1)
    sheet.set_landscape()
    sheet.set_paper(_A3)
    sheet.repeat_rows(0)
    # One page wide whatever the width: the decision columns must print beside the person.
    sheet.fit_to_pages(1, 0)
    sheet.print_area(0, 0, last - 1, _COMMENT_COL - 1)
    sheet.autofilter(0, 0, last - 1, _COMMENT_COL - 1)
    # Cells are protected, not the layout: a reviewer may filter, sort and resize columns
    # and rows (the integrity hash covers values, never widths).
    sheet.protect(
        "", {"autofilter": True, "sort": True, "format_columns": True, "format_rows": True}
    )
    sheet.activate()

    book.set_properties({"title": f"Access review {campaign_id}"})
    book.set_custom_property(CAMPAIGN_PROPERTY, campaign_id)
    book.set_custom_property(REVIEWER_PROPERTY, reviewer_id)
    book.close()
    return buffer


class _Formats:
    """The few cell formats of a review workbook, made once per workbook."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format(
            {
                "bold": True,
                "font_color": "#FFFFFF",
                "bg_color": "#1F4E78",
                "pattern": 1,
                "text_wrap": True,
                "valign": "top",
            }
        )
        # Every cell of a Review row is top-aligned, so a row taller than one line (wrapped
        # How held, Reason) still reads as one row, its item id beside its first line.
        self.top = book.add_format({"valign": "top"})
        self.editable = book.add_format({"locked": False, "valign": "top"})
        self.editable_wrapped = book.add_format(
            {"locked": False, "text_wrap": True, "valign": "top"}
        )
        self.wrapped = book.add_format({"text_wrap": True, "valign": "top"})
        self.title = book.add_format({"bold": True, "font_size": 13})
        self._book = book
        self._made: dict[tuple[bool, bool, bool], Any] = {}

    def by_name(self, name: str) -> Any:
        """The format of one of :data:`_ROW_STYLES` (every one top-aligned)."""
        named = {
            "wrapped": self.wrapped,
            "editable": self.editable,
            "editable_wrapped": self.editable_wrapped,
            "top": self.top,
        }
        if name in named:
            return named[name]
        return self.text(quote="quote" in name, revoke="revoke" in name, top=True)

    def text(self, *, quote: bool, revoke: bool, top: bool = False) -> Any:
        """The format of a text cell: quote-prefixed when it looks like a formula, on the
        revoke colour in the Recommendation column, top-aligned in Review rows; None for a
        plain cell of the instructions."""
        if not (quote or revoke or top):
            return None
        key = (quote, revoke, top)
        if key not in self._made:
            spec: dict[str, object] = {"quote_prefix": quote}
            if revoke:
                spec.update({"bg_color": "#FCE4D6", "pattern": 1})
            if top:
                spec["valign"] = "top"
            self._made[key] = self._book.add_format(spec)
        return self._made[key]


def _text(
    sheet: Any,
    row: int,
    column: int,
    value: str,
    formats: _Formats,
    *,
    revoke: bool = False,
    title: bool = False,
) -> None:
    """A text cell that Excel never evaluates (``=cmd|' /C calc'!A0`` stays text)."""
    style = (
        formats.title
        if title
        else formats.text(quote=value.startswith(_FORMULA_STARTS), revoke=revoke)
    )
    if value == "" and style is None:
        return
    sheet.write_string(row, column, value, style)


#: The formats of the streamed Review rows, in the order of the probe row.
_ROW_STYLES = (
    "quote",
    "revoke",
    "quote revoke",
    "wrapped",
    "editable",
    "editable_wrapped",
    "top",
)
_QUOTED = "^[=+\\-@]"  # what _FORMULA_STARTS means, as a pattern


class _ReviewRows:
    """The Review sheet's rows as SpreadsheetML: what :func:`_text` and ``set_row`` would
    write cell by cell with xlsxwriter — the same cells, styles and row heights (text inline
    instead of shared, which reads back the same). A workbook holds a hundred rows or so, so
    its text columns are stacked into one array and converted with a few Arrow calls."""

    probes = _ROW_STYLES

    def __init__(self, cells: pd.DataFrame, integrity: pd.Series, recommendation: pd.Series):
        self._cells = cells
        self._integrity = integrity
        self._revoke = recommendation.to_numpy(dtype=object) == "revoke"
        self.last_cell = f"{xl_col_to_name(_HASH_COL - 1)}{len(cells) + 1}"

    def rows(self, styles: Mapping[str, str]) -> Iterator[memoryview]:
        """The rows after the header (``styles``: each probe's ``s`` attribute)."""
        count = len(self._cells)
        titles = [*(title for title, _ in DATA_COLUMNS), "Integrity"]
        # One conversion of the whole table, column after column (pandas' per-column access
        # costs more than the rest of a small workbook's rows).
        headers = [title for title, _ in DATA_COLUMNS]
        table = self._cells if list(self._cells.columns) == headers else self._cells[headers]
        hashes = [v if type(v) is str else str(v) for v in self._integrity.tolist()]
        texts = table.to_numpy(dtype=object).T.ravel().tolist() + hashes
        text = _arrow_text(texts)
        # Column after column: the style of a cell that is neither quoted nor on the revoke
        # colour (its column's format), and where the revoke colour applies.
        plain = np.repeat(
            [styles["wrapped"] if t in _WRAPPED else styles["top"] for t in titles], count
        )
        revoke = np.zeros(len(titles) * count, dtype=bool)
        at = len(DATA_COLUMNS) - 2  # Recommendation
        revoke[at * count : (at + 1) * count] = self._revoke
        on_revoke = pa.array(revoke)
        quote = pc.match_substring_regex(text, _QUOTED)
        style = pc.if_else(
            quote,
            pc.if_else(on_revoke, styles["quote revoke"], styles["quote"]),
            pc.if_else(on_revoke, styles["revoke"], pa.array(plain, type=pa.string())),
        )
        empty = pc.and_(pc.equal(text, ""), pc.invert(pc.or_(quote, on_revoke)))
        xml = pc.if_else(empty, pa.scalar(None, pa.string()), inline_cells(text, style))
        lengths = pc.utf8_length(text).to_numpy(zero_copy_only=False)
        lengths = lengths.reshape(len(titles), count)
        lines = np.ones(count, dtype=np.int64)
        for index, title in enumerate(titles):
            if title in _WRAPPED:
                per_line = max(int(_WIDTHS.get(title, 14) * 1.1), 1)
                lines = np.maximum(lines, -(-lengths[index] // per_line))
        decision = [f"{styles['editable']}/>"] * count
        comment = [f"{styles['editable_wrapped']}/>"] * count
        stacked = pa.concat_arrays([xml, pa.array(decision + comment, type=pa.string())])
        # Row-major, the sheet's columns A…U: data, Decision, Comment, Integrity.
        order = np.array([*range(len(DATA_COLUMNS)), len(titles), len(titles) + 1, len(titles) - 1])
        take = (order[None, :] * count + np.arange(count)[:, None]).ravel()
        lines = np.minimum(lines, _MAX_ROW_LINES)
        yield join_cells(pc.take(stacked, pa.array(take)), len(order), count, lines)


def _arrow_text(texts: list[str]) -> pa.Array:
    """Cell texts as an Arrow string array (a lone surrogate, which Arrow cannot hold,
    shows as U+FFFD as every other character XML cannot hold)."""
    try:
        return pa.array(texts, type=pa.string())
    except (pa.ArrowException, UnicodeError):
        return pa.array([clean_text(t) for t in texts], type=pa.string())
