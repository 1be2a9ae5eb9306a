"""The workbook writer behind every report accessaudit writes (audit report, diff).

xlsxwriter's public API writes each workbook, in memory, with all its formatting — styles,
column widths, frozen header, autofilter, print setup, print titles — and, for the big sheets,
only the header row. When the book is saved, the big sheets' rows are streamed as SpreadsheetML
``<sheetData>`` (:mod:`accessaudit.reports._sheetdata`) straight into the final zip, chunk by
chunk, spliced into the sheet parts xlsxwriter wrote. Nothing relies on a library's internals:
the style indexes of the streamed cells are read from the workbook xlsxwriter wrote (a probe
row of one cell per style, dropped in the splice), and nothing touches the disk but the final
file, written atomically.

Every value that came from a source is written as text Excel will not evaluate: a display name
``=HYPERLINK("http://…")`` stays visible text, never a formula, and ``#N/A`` stays text.

>>> import tempfile
>>> book = ReportBook()
>>> book.write_frame("Accounts", pd.DataFrame({"login": ["=1+1"]}))
>>> book.save(Path(tempfile.mkdtemp()) / "accounts.xlsx")
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from accessaudit.reports._package import StreamedRows, write_package
from accessaudit.reports._sheetdata import (
    NOT_XML,
    CellStyleIds,
    clean_text,
    display_text,
    row_height,
    sheet_rows,
    wrapped_lines,
)

__all__ = [
    "DATE_FORMAT",
    "NOT_XML",
    "SEVERITY_COLOURS",
    "ReportBook",
    "Sheet",
    "StreamedRows",
    "Styled",
    "cell_value",
    "date_cell",
    "fits_page_width",
    "header_row",
    "rows_of",
    "section_cell",
    "severity_cell",
    "text_cell",
    "title_cell",
    "wrapped_cell",
    "write_package",
]

DATE_FORMAT = "yyyy-mm-dd hh:mm"
#: Fill colours (RGB hex) by severity; white text on the two darkest.
SEVERITY_COLOURS: Mapping[str, str] = {
    "critical": "C00000",
    "high": "FF6600",
    "medium": "FFC000",
    "low": "FFF2CC",
    "info": "DDEBF7",
}
_DARK = frozenset({"critical", "high"})
_BASE_STYLES: dict[str, dict[str, object]] = {
    "header": {
        "bold": True,
        "font_color": "#FFFFFF",
        "bg_color": "#1F3864",
        "pattern": 1,
        "valign": "vcenter",
    },
    "date": {"num_format": DATE_FORMAT},
    # Text that wraps within its column, top-aligned beside its taller neighbours.
    "wrapped": {"text_wrap": True, "valign": "top"},
    "title": {"bold": True, "font_size": 13},
    "section": {"bold": True, "font_size": 11},
    **{
        f"severity:{word}": {
            "bold": True,
            "bg_color": f"#{colour}",
            "pattern": 1,
            "font_color": "#FFFFFF" if word in _DARK else "#000000",
        }
        for word, colour in SEVERITY_COLOURS.items()
    },
}
#: Every cell style of a report, by name (xlsxwriter format properties); the ``top`` ones
#: are for every cell of a row that grows with wrapped text.
_STYLES: Mapping[str, Mapping[str, object]] = {
    **_BASE_STYLES,
    "top": {"valign": "top"},
    **{f"{name} top": {**spec, "valign": "top"} for name, spec in _BASE_STYLES.items()},
}
#: Every string is written as a string: never turned into a formula, a number or a link; the
#: book is assembled in memory (no temporary file beside the one written atomically).
_WRITER_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
_A3 = 8  # the paperSize code of A3 in SpreadsheetML
#: Total column width (in characters) that still reads well when a landscape page is fitted to
#: it; wider sheets print on A3 instead of shrinking to an unreadable size.
_PRINTABLE_WIDTH = 200


@dataclass(frozen=True)
class Styled:
    """A cell value and the name of the style it is shown in."""

    value: object
    style: str


def text_cell(value: object) -> str:
    """``value`` as cell text: characters XML cannot hold as U+FFFD, cut to Excel's limit.
    Written as a string whatever it says (``=HYPERLINK(...)``, ``+cmd``, ``@SUM``, ``#N/A``):
    Excel shows it as typed and never evaluates it."""
    return clean_text(display_text(value))


def date_cell(value: pd.Timestamp | dt.datetime | dt.date) -> Styled:
    """A real Excel date (naive UTC; Excel has no time zones) shown as ``yyyy-mm-dd hh:mm``."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return Styled(stamp.to_pydatetime(), "date")


def severity_cell(severity: object) -> Styled | str:
    """The severity word on its colour (plain text for a word without one)."""
    word = text_cell(severity)
    return Styled(word, f"severity:{word}") if word in SEVERITY_COLOURS else word


def wrapped_cell(value: object) -> Styled:
    """Text that wraps within its column."""
    return Styled(text_cell(value), "wrapped")


def title_cell(text: str) -> Styled:
    """A sheet's title line (bold, 13 points)."""
    return Styled(text_cell(text), "title")


def section_cell(text: str) -> Styled:
    """A section heading (bold)."""
    return Styled(text_cell(text), "section")


def header_row(names: Sequence[str]) -> list[Styled]:
    """Bold white-on-navy header cells."""
    return [Styled(text_cell(name), "header") for name in names]


def cell_value(value: object) -> object:
    """Any value as a cell: empty values none; dates real dates; numbers and booleans stay
    numbers and booleans; everything else text (dicts as JSON, lists joined with ``; ``)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return date_cell(value)
    return text_cell(value)


def fits_page_width(total_width: float) -> bool:
    """Whether columns adding up to ``total_width`` characters print fitted to one landscape
    page width (wider sheets print on A3 rather than shrink unreadably)."""
    return total_width <= _PRINTABLE_WIDTH


def rows_of(frame: pd.DataFrame) -> Iterable[tuple[object, ...]]:
    """The rows of ``frame`` as plain tuples (object values), column order kept."""
    return zip(*(frame[c].astype(object).tolist() for c in frame.columns), strict=True)


def _layout(worksheet: Any, widths: Sequence[float]) -> None:
    """Column widths, and the print layout auditors file: landscape, the header row on every
    page, fitted to one page width so a row never splits across pages; a sheet whose columns
    add up to more than :data:`_PRINTABLE_WIDTH` characters prints on A3 to stay readable."""
    for index, width in enumerate(widths):
        worksheet.set_column(index, index, width)
    worksheet.set_landscape()
    worksheet.repeat_rows(0)
    worksheet.fit_to_pages(1, 0)
    if not fits_page_width(sum(widths)):
        worksheet.set_paper(_A3)


class Sheet:
    """A small sheet written row after row: each cell a plain value (see :func:`cell_value`)
    or :class:`Styled`; ``None`` leaves the cell empty."""

    def __init__(self, worksheet: Any, formats: Mapping[str, Any]) -> None:
        self._worksheet = worksheet
        self._formats = formats
        self._widths: Sequence[float] = ()
        self._row = 0

    def layout(self, widths: Sequence[float]) -> None:
        """Column widths and the print layout (landscape, one page wide, header repeated)."""
        self._widths = widths
        _layout(self._worksheet, widths)

    def append(self, cells: Sequence[object] = ()) -> None:
        """Write ``cells`` as the next row (an empty sequence: an empty row); a row with
        wrapped text is as high as its text needs (printing does not grow rows)."""
        lines = 1
        for column, cell in enumerate(cells):
            self._write(column, cell)
            if isinstance(cell, Styled) and cell.style == "wrapped" and column < len(self._widths):
                lines = max(lines, wrapped_lines(str(cell.value), self._widths[column]))
        if lines > 1:
            self._worksheet.set_row(self._row, row_height(lines))
        self._row += 1

    def _write(self, column: int, cell: object) -> None:
        style = self._formats[cell.style] if isinstance(cell, Styled) else None
        value = cell_value(cell.value if isinstance(cell, Styled) else cell)
        if isinstance(value, Styled):  # a date
            style = style or self._formats[value.style]
            value = value.value
        sheet, row = self._worksheet, self._row
        if value is None or value == "":
            if style is not None:
                sheet.write_blank(row, column, None, style)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value, style)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value, style)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, column, value, style)
        else:
            sheet.write_string(row, column, str(value), style)


#: The cells of the probe row that shows which ``s`` index the writer gave each style: its
#: position in the row names the style.
_PROBES: tuple[str, ...] = (
    "date",
    "wrapped",
    *(f"severity:{w}" for w in SEVERITY_COLOURS),
    "top",
    "date top",
    *(f"severity:{w} top" for w in SEVERITY_COLOURS),
)


@dataclass
class _StreamedSheet:
    """A frame whose rows are streamed into its sheet when the book is saved."""

    frame: pd.DataFrame
    severity: frozenset[str]
    wrapped: dict[str, float]
    probes: Sequence[str] = _PROBES
    last_cell: str = field(init=False)

    def __post_init__(self) -> None:
        columns = max(len(self.frame.columns), 1)
        self.last_cell = f"{xl_col_to_name(columns - 1)}{len(self.frame) + 1}"

    def rows(self, styles: Mapping[str, str]) -> Iterator[bytes | memoryview]:
        """The frame's rows as ``<row>`` XML (see :func:`sheet_rows`)."""
        # Beside wrapped text, every cell sits at the top of its (taller) row.
        top = " top" if self.wrapped else ""
        ids = CellStyleIds(
            plain=styles["top"] if top else "",
            date=styles[f"date{top}"],
            wrapped=styles["wrapped"],
            severity={w: styles[f"severity:{w}{top}"] for w in SEVERITY_COLOURS},
        )
        yield from sheet_rows(self.frame, ids, severity=self.severity, wrapped=self.wrapped)


class ReportBook:
    """A workbook whose small sheets are written cell by cell (:meth:`create_sheet`) and
    whose big sheets (:meth:`write_frame`) are streamed into the file when it is saved.

    One instance per workbook: add sheets in order, then :meth:`save` once.
    """

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._book = xlsxwriter.Workbook(self._buffer, _WRITER_OPTIONS)
        self._formats = {name: self._book.add_format(dict(spec)) for name, spec in _STYLES.items()}
        self._streamed: dict[str, _StreamedSheet] = {}

    def create_sheet(self, title: str) -> Sheet:
        """A sheet to :meth:`Sheet.append` rows of cells to (small sheets)."""
        return Sheet(self._book.add_worksheet(title), self._formats)

    def write_frame(
        self,
        title: str,
        frame: pd.DataFrame,
        widths: Mapping[str, float] | None = None,
        *,
        severity: Collection[str] = (),
        wrapped: Collection[str] = (),
    ) -> None:
        """Add ``frame`` as the sheet ``title``: header, widths, frozen header, autofilter,
        print layout; the rows are written when the book is saved.

        ``severity`` columns show their word on its colour; ``wrapped`` columns are text that
        wraps within the column (rows as high as their longest wrapped cell).
        """
        widths = widths or {}
        worksheet = self._book.add_worksheet(title)
        names = [str(c) for c in frame.columns]
        sizes = [
            widths.get(n, _guess_width(frame[c])) for n, c in zip(names, frame.columns, strict=True)
        ]
        _layout(worksheet, sizes)
        worksheet.freeze_panes(1, 0)
        if not names:
            return
        for column, name in enumerate(names):
            worksheet.write_string(0, column, text_cell(name), self._formats["header"])
        probe = Sheet(worksheet, self._formats)
        probe.append([])
        probe.append([Styled("x", p) for p in _PROBES])
        worksheet.autofilter(0, 0, len(frame), len(names) - 1)
        self._streamed[title] = _StreamedSheet(
            frame=frame,
            severity=frozenset(severity) & set(names),
            wrapped={n: w for n, w in zip(names, sizes, strict=True) if n in set(wrapped)},
        )

    def save(self, path: Path) -> None:
        """Save the workbook so ``path`` is either the old file or the complete new one —
        never half-written (see :mod:`accessaudit._atomic`); a full disk is one
        :class:`AccessAuditError` naming ``path``."""
        self._book.close()
        write_package(self._buffer, Path(path), self._streamed)


def _guess_width(column: pd.Series) -> float:
    """A width from the header and the first rows: wide enough to read, never huge."""
    sample = column.head(200).astype(object).dropna().astype(str)
    longest = int(sample.str.len().max()) if len(sample) else 0
    return float(min(max(longest, len(str(column.name)), 8) + 2, 60))
