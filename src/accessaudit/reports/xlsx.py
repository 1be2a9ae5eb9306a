"""Helpers for every workbook accessaudit writes (reports and review campaigns).

Workbooks are written in openpyxl's write-only (streaming) mode so a 100,000-row sheet does not
sit in memory as cell objects. Every value that came from a source is written as text Excel will
not evaluate: a display name ``=HYPERLINK("http://…")`` stays visible text, never a formula.
:func:`write_frame` converts a frame column by column, a chunk of rows at a time, straight to
the sheet's XML (the same XML openpyxl would write cell by cell, at a fraction of the cost).

>>> from openpyxl import Workbook
>>> book = Workbook(write_only=True)
>>> sheet = book.create_sheet("Accounts")
>>> start_sheet(sheet, [("login", 16), ("last sign-in", 18)])
>>> sheet.append(header_row(sheet, ["login", "last sign-in"]))
>>> sheet.append([text_cell(sheet, "=1+1"), date_cell(sheet, pd.Timestamp("2026-11-21"))])
>>> finish_sheet(sheet, rows=1, columns=2)
>>> atomic_save(book, Path(tempfile.mkdtemp()) / "accounts.xlsx")
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import math
import re
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd
from lxml import etree
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.compat import safe_string
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.xml.functions import fromstring

from accessaudit._atomic import atomic_file
from accessaudit.errors import AccessAuditError

__all__ = [
    "DATE_FORMAT",
    "NOT_XML",
    "SEVERITY_COLOURS",
    "CellStyles",
    "atomic_save",
    "cell_value",
    "date_cell",
    "finish_sheet",
    "fits_page_width",
    "header_row",
    "print_layout",
    "reports_write_errors",
    "rows_of",
    "severity_cell",
    "start_sheet",
    "text_cell",
    "write_frame",
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
_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
# Values starting with these are formulas (or DDE) to some spreadsheet programs.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MAX_CELL_TEXT = 32_767  # Excel's limit per cell
_A3 = 8  # the paperSize code of A3 in SpreadsheetML
_Writer = TypeVar("_Writer", bound=Callable[..., Any])


#: What XML 1.0 cannot hold (https://www.w3.org/TR/xml/#charsets): C0 controls other than
#: tab, newline and carriage return, U+FFFE and U+FFFF — as a pattern pandas' (Arrow) string
#: columns accept, which cannot hold lone surrogates anyway. A source value with one shows it
#: as U+FFFD, visibly, instead of losing it or breaking the workbook.
NOT_XML = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
# The same for single Python strings, which can also carry lone surrogates.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """Show characters XML cannot hold as U+FFFD and cut to Excel's cell limit."""
    return _NOT_XML_RE.sub("\ufffd", text)[:_MAX_CELL_TEXT]


def text_cell(sheet: Any, value: object) -> WriteOnlyCell:
    """A write-only cell that is always text (``data_type`` 's', written as an inline string).

    Whatever ``value`` is — ``=HYPERLINK(...)``, ``+cmd``, ``@SUM`` — Excel shows it as typed
    and never evaluates it.
    """
    cell = WriteOnlyCell(sheet)
    # Set the value first (openpyxl would infer a formula from a leading '='), then force text.
    cell.value = _clean(str(value))
    cell.data_type = "s"
    return cell


def date_cell(sheet: Any, value: pd.Timestamp | dt.datetime | dt.date) -> WriteOnlyCell:
    """A real Excel date (naive UTC; Excel has no time zones) shown as ``yyyy-mm-dd hh:mm``."""
    cell = WriteOnlyCell(sheet, value=_excel_datetime(value))
    cell.number_format = DATE_FORMAT
    return cell


def severity_cell(sheet: Any, severity: object) -> WriteOnlyCell:
    """The severity word on its colour."""
    word = str(severity)
    cell = text_cell(sheet, word)
    _severity_style(cell, word)
    return cell


class CellStyles:
    """Fast styled cells for one workbook: dates and severity colours.

    Setting a font, fill or number format on a cell makes openpyxl look the style up in the
    workbook's tables (tens of microseconds a cell); here each style is looked up once, and
    later cells copy the resulting style ids. Use one instance per workbook.
    """

    def __init__(self) -> None:
        self._templates: dict[str, Any] = {}

    def _apply(self, cell: WriteOnlyCell, key: str, setup: Callable[[WriteOnlyCell], None]) -> None:
        template = self._templates.get(key)
        if template is None:
            setup(cell)
            self._templates[key] = copy.copy(cell._style)
        else:
            cell._style = copy.copy(template)

    def date(self, sheet: Any, value: object) -> WriteOnlyCell | None:
        """Like :func:`date_cell`; empty values give an empty cell."""
        if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            return None
        cell = WriteOnlyCell(sheet, value=_excel_datetime(value))
        self._apply(cell, "date", _date_format)
        return cell

    def severity(self, sheet: Any, severity: object) -> WriteOnlyCell:
        """Like :func:`severity_cell`."""
        word = str(severity)
        cell = text_cell(sheet, word)
        self._apply(cell, f"severity:{word}", lambda c: _severity_style(c, word))
        return cell

    def value(self, sheet: Any, value: object) -> object:
        """Like :func:`cell_value`, with fast date cells."""
        if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
            return self.date(sheet, value)
        return cell_value(sheet, value)


def _date_format(cell: WriteOnlyCell) -> None:
    cell.number_format = DATE_FORMAT


def _severity_style(cell: WriteOnlyCell, word: str) -> None:
    colour = SEVERITY_COLOURS.get(word)
    if colour:
        cell.fill = PatternFill("solid", fgColor=colour)
        cell.font = Font(bold=True, color="FFFFFF" if word in _DARK else "000000")


def _excel_datetime(value: object) -> dt.datetime:
    """Naive UTC (Excel has no time zones)."""
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    result: dt.datetime = stamp.to_pydatetime()
    return result


def header_row(sheet: Any, names: Sequence[str]) -> list[WriteOnlyCell]:
    """Bold white-on-navy header cells."""
    cells = []
    for name in names:
        cell = text_cell(sheet, name)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        cells.append(cell)
    return cells


def cell_value(sheet: Any, value: object) -> object:
    """Any value as something safe to append to a write-only sheet.

    Empty values become blank cells; dates real dates; numbers and booleans stay numbers;
    lists, tuples and dicts become readable text (JSON for dicts); every string that could be
    read as a formula is forced to text. Plain strings pass through (openpyxl stores them as
    strings), which keeps big sheets fast.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        if value.startswith(_FORMULA_STARTS):
            return text_cell(sheet, value)
        return _clean(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return date_cell(sheet, value)
    if isinstance(value, Mapping):
        return text_cell(sheet, json.dumps(value, default=_json_default, ensure_ascii=False))
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return text_cell(sheet, "; ".join(str(v) for v in value))
    return text_cell(sheet, value)


def _json_default(value: object) -> object:
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, set | frozenset | tuple | np.ndarray):
        return list(value)
    return str(value)


#: Total column width (in characters) that still reads well when a landscape page is fitted to
#: it; wider sheets print across pages instead of shrinking to an unreadable size.
_PRINTABLE_WIDTH = 200


def start_sheet(sheet: Any, columns: Sequence[tuple[str, float]]) -> None:
    """Column widths, a frozen header row, and the :func:`print_layout` (auditors file printed
    evidence); call before the first row is appended (write-only sheets
    write these ahead of the data)."""
    for index, (_name, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    print_layout(sheet, sum(width for _name, width in columns))


def print_layout(sheet: Any, total_width: float) -> None:
    """Landscape with the header row on every printed page, fitted to one page width so a
    row never splits across pages; a sheet whose columns add up to more than
    :data:`_PRINTABLE_WIDTH` characters prints on A3 to stay readable."""
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if not fits_page_width(total_width):
        sheet.page_setup.paperSize = _A3


def fits_page_width(total_width: float) -> bool:
    """Whether columns adding up to ``total_width`` characters print fitted to one landscape
    page width (wider sheets print across pages rather than shrink unreadably)."""
    return total_width <= _PRINTABLE_WIDTH


def finish_sheet(sheet: Any, *, rows: int, columns: int) -> None:
    """An autofilter over the header and ``rows`` data rows."""
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"


def write_frame(
    sheet: Any,
    frame: pd.DataFrame,
    widths: Mapping[str, float] | None = None,
    special: Mapping[str, Callable[[Any, object], object]] | None = None,
    styles: CellStyles | None = None,
) -> None:
    """Write ``frame`` as a sheet: header, widths, frozen header, autofilter.

    ``special`` maps a column to a function ``(sheet, value) -> cell`` (e.g. severity colours);
    other values go through :meth:`CellStyles.value`. Pass the workbook's ``styles`` to share
    style look-ups between sheets. Rows may still be appended to ``sheet`` afterwards.
    """
    widths = widths or {}
    special = special or {}
    styles = styles or CellStyles()
    names = [str(c) for c in frame.columns]
    start_sheet(
        sheet,
        [
            (n, widths.get(n, _guess_width(frame[c])))
            for n, c in zip(names, frame.columns, strict=True)
        ],
    )
    stream = _RowStream.open(sheet) if names else None
    if stream is None:  # not a fresh write-only sheet (or no columns): openpyxl's own path
        sheet.append(header_row(sheet, names))
        makers = [special.get(n, styles.value) for n in names]
        for values in rows_of(frame):
            sheet.append([make(sheet, v) for make, v in zip(makers, values, strict=True)])
    else:
        letters = [get_column_letter(i) for i in range(1, len(names) + 1)]
        stream.write([[_cell_xml(c)] for c in header_row(sheet, names)], letters)
        # Each column of a chunk becomes its cells' XML at once (the ``<c>`` element after
        # its ``r``), so a row is only a join: no cell object, style look-up or type test per
        # cell; chunks keep memory flat however long the sheet.
        for start in range(0, len(frame), _CHUNK_ROWS):
            part = frame.iloc[start : start + _CHUNK_ROWS]
            columns = [
                _column_xml(sheet, part.iloc[:, i], special.get(n), styles)
                for i, n in enumerate(names)
            ]
            stream.write(columns, letters)
    finish_sheet(sheet, rows=len(frame), columns=len(names))


#: Rows converted and handed to lxml at a time: enough that the per-column work is vectorised
#: and parsing is one C call, few enough that a chunk's XML stays a few MB.
_CHUNK_ROWS = 5_000
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


class _RowStream:
    """The ``<sheetData>`` of a write-only sheet, taking rows as ready-made cell XML.

    openpyxl builds a cell object and several XML elements per cell (most of a big report's
    time). This stream parses a few thousand rows of our own XML at once with lxml and hands
    the ``<row>`` elements to the sheet's own XML writer, so what lands in the file is what
    openpyxl would write. It replaces the sheet's row generator: ``sheet.append`` keeps
    working after it, and closing the sheet closes the ``<sheetData>`` element as before.
    """

    def __init__(self, sheet: Any) -> None:
        self._sheet = sheet
        self._xf: Any = None
        self.row = 1

    @classmethod
    def open(cls, sheet: Any) -> _RowStream | None:
        """The stream for ``sheet``, or None when openpyxl's own rows have already started."""
        if getattr(sheet, "_rows", False) is not None or not hasattr(sheet, "_get_writer"):
            return None
        stream = cls(sheet)
        sheet._get_writer()
        sheet._rows = stream._generator()
        next(sheet._rows)
        return stream

    def _generator(self) -> Generator[None, object, None]:
        sheet = self._sheet
        self._xf = sheet._writer.xf.send(True)
        with self._xf.element("sheetData"):
            try:
                while True:
                    values = yield  # a row appended with sheet.append
                    cells = sheet._values_to_row(values, self.row)
                    sheet._writer.write_row(self._xf, cells, self.row)
                    self.row += 1
            except GeneratorExit:
                pass
        sheet._writer.xf.send(None)

    def write(self, columns: Sequence[Sequence[str | None]], letters: Sequence[str]) -> None:
        """Write rows given column by column as cell XML (from :func:`_cell_xml`; None or ""
        for no cell), all columns the same length."""
        count = len(columns[0])
        numbers = range(self.row, self.row + count)
        # A grid of strings read out row by row: no tuple or generator per row, which would
        # keep the garbage collector busy scanning the big column lists.
        grid = np.empty((count, len(columns) + 2), dtype=object)
        grid[:, 0] = [f'<row r="{number}">' for number in numbers]
        for index, (letter, cells) in enumerate(zip(letters, columns, strict=True), start=1):
            grid[:, index] = [
                f'<c r="{letter}{number}"{cell}' if cell else ""
                for number, cell in zip(numbers, cells, strict=True)
            ]
        grid[:, -1] = "</row>"
        for element in fromstring("".join(["<d>", *grid.ravel().tolist(), "</d>"])):
            self._xf.write(element)
        self.row += count


def _text_xml(value: str, style: str = "") -> str:
    """A cell's XML after its ``r`` attribute: inline text (as openpyxl writes it)."""
    text = _clean(value)
    if not text:
        return f'{style} t="inlineStr"/>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{style} t="inlineStr"><is><t{space}>{text.translate(_XML_ESCAPES)}</t></is></c>'


def _cell_xml(made: object) -> str | None:
    """The XML (after ``r``) of what a cell maker returned: a cell, a plain value or None.

    Text is always an inline string, whatever openpyxl inferred (a formula for ``=…``, an
    error for ``#N/A``): values from sources are never evaluated.
    """
    if isinstance(made, Cell):
        style = f' s="{made.style_id}"' if made.has_style else ""
        kind, value = made.data_type, made._value
        if value is None or value == "":
            if not style:
                return None if value is None else ' t="inlineStr"/>'
            return f"{style}/>" if value is None else f'{style} t="inlineStr"/>'
        if kind in ("s", "f", "e"):
            return _text_xml(str(value), style)
        if kind == "d":
            return f'{style} t="n"><v>{safe_string(to_excel(value))}</v></c>'
        return f'{style} t="{kind}"><v>{safe_string(value)}</v></c>'
    if made is None:
        return None
    if isinstance(made, str):
        return _text_xml(made)
    if isinstance(made, bool):
        return f' t="b"><v>{int(made)}</v></c>'
    return f' t="n"><v>{safe_string(made)}</v></c>'


def _column_xml(
    sheet: Any,
    column: pd.Series,
    special: Callable[[Any, object], object] | None,
    styles: CellStyles,
) -> list[str | None]:
    """Every cell of ``column`` as XML ("" for no cell), the writer chosen once for the
    column."""
    if special is None and isinstance(column.dtype, pd.StringDtype) and len(column) > 1_000:
        # Vectorised text pays a fixed cost per column: worth it only on long columns.
        return _text_column_xml(column)
    if special is None and isinstance(column.dtype, np.dtype | pd.DatetimeTZDtype):
        if column.dtype.kind == "M":
            return _date_column_xml(sheet, column, styles)
        if column.dtype.kind == "b":
            return [f' t="b"><v>{int(v)}</v></c>' for v in column.tolist()]
    memo: dict[object, str | None] = {}
    result: list[str | None] = []
    append = result.append
    for value in column.tolist():
        if type(value) is str:  # most cells; the same words recur (systems, rights, kinds)
            xml = memo.get(value)
            if xml is None:
                made = special(sheet, value) if special else value
                xml = memo[value] = _cell_xml(made)
            append(xml)
        elif special is None and (
            value is None or value is pd.NA or (type(value) is float and math.isnan(value))
        ):
            append(None)  # missing text (NaN in a text column): no cell
        else:
            append(_cell_xml(special(sheet, value) if special else styles.value(sheet, value)))
    return result


#: What ``str.strip`` removes (Python's whitespace; ``str.isspace``), as a regex class.
_WHITESPACE = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _text_column_xml(column: pd.Series) -> list[str | None]:
    """A text column as inline-string cells, built with vectorised string operations
    (exactly :func:`_text_xml` per value; missing values give no cell)."""
    present = column.notna().to_numpy()
    text = column.str.replace(NOT_XML, "\ufffd", regex=True)
    long = (text.str.len() > _MAX_CELL_TEXT).fillna(False).to_numpy()
    preserve = text.str.contains(f"^{_WHITESPACE}|{_WHITESPACE}$", regex=True)
    for plain, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = text.str.replace(plain, escaped, regex=False)
    start = preserve.map({True: ' t="inlineStr"><is><t xml:space="preserve">'}).fillna(
        ' t="inlineStr"><is><t>'
    )
    xml = (start + text + "</t></is></c>").where(text != "", ' t="inlineStr"/>')
    cells: np.ndarray = xml.astype(object).to_numpy(copy=True)
    cells[~present] = ""
    for at in np.flatnonzero(long & present):  # cut to Excel's limit, rare
        cells[at] = _text_xml(column.iloc[at])
    result: list[str | None] = cells.tolist()
    return result


def _date_column_xml(sheet: Any, column: pd.Series, styles: CellStyles) -> list[str | None]:
    """A datetime column as Excel date cells, converted in one go (naive UTC serials)."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = column.isna().to_numpy()
    micros = column.to_numpy().astype("datetime64[us]").astype(np.int64) - _EPOCH_US
    # The arithmetic of openpyxl.utils.datetime.to_excel, in the same order, so the serials
    # are bit-for-bit what a cell-by-cell write gives.
    days = micros // _DAY_US
    rest = micros - days * _DAY_US
    days = np.where((days > 0) & (days <= 60), days - 1, days)
    serials = days + ((rest // 1_000_000) + (rest % 1_000_000) / 1e6) / 86_400
    template = styles.date(sheet, dt.datetime(2000, 1, 1))
    style = f' s="{template.style_id}"' if template is not None else ""
    return [
        "" if gone else f'{style} t="n"><v>{serial:.16g}</v></c>'
        for gone, serial in zip(missing.tolist(), serials.tolist(), strict=True)
    ]


_EPOCH_US = int(np.datetime64("1899-12-30", "us").astype(np.int64))
_DAY_US = 86_400_000_000


def _guess_width(column: pd.Series) -> float:
    """A width from the header and the first rows: wide enough to read, never huge."""
    sample = column.head(200).astype(object).dropna().astype(str)
    longest = int(sample.str.len().max()) if len(sample) else 0
    return float(min(max(longest, len(str(column.name)), 8) + 2, 60))


def reports_write_errors(write: _Writer) -> _Writer:
    """Decorate a workbook writer whose first argument is the target path: a full disk or a
    file-size limit while rows stream out (lxml says ``SerialisationError``, not OSError)
    becomes one :class:`AccessAuditError` naming the path, never a traceback."""

    @functools.wraps(write)
    def guarded(path: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return write(path, *args, **kwargs)
        except etree.SerialisationError as error:
            raise AccessAuditError(
                f"cannot write {path}: the disk is full or the file too large ({error})"
            ) from error

    return cast(_Writer, guarded)


def atomic_save(book: Any, path: Path) -> None:
    """Save ``book`` so ``path`` is either the old file or the complete new one — never
    half-written (see :mod:`accessaudit._atomic`)."""
    with atomic_file(Path(path)) as temporary:
        try:
            book.save(temporary)
        except etree.SerialisationError as error:
            # lxml reports a full disk or a file-size limit this way, not as an OSError.
            raise AccessAuditError(
                f"cannot write {path}: the disk is full or the file too large ({error})"
            ) from error


def rows_of(frame: pd.DataFrame) -> Iterable[tuple[object, ...]]:
    """The rows of ``frame`` as plain tuples (object values), column order kept."""
    return zip(*(frame[c].astype(object).tolist() for c in frame.columns), strict=True)
