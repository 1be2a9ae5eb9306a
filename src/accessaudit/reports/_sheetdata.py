"""A frame's rows as SpreadsheetML ``<row>``/``<c>`` XML, a chunk of rows at a time.

The body of a worksheet's ``<sheetData>`` (ECMA-376 Part 1, §18.3.1.80 sheetData, §18.3.1.73
row, §18.3.1.4 c): every text cell an inline string (``t="inlineStr"``, §18.3.1.53 is), so a
source value is never a formula (``=HYPERLINK(…)``) or an error (``#N/A``); dates are Excel
serials with the date style; numbers and booleans stay numbers and booleans. Each column of a
chunk is converted at once with Arrow string kernels, and a chunk's rows come out as one
UTF-8 buffer, so a 400,000-row report needs no cell object and no XML tree.

Style indexes (``s="…"``) are not known here: the caller reads them from the workbook the
library wrote (:class:`CellStyleIds`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CHUNK_ROWS",
    "MAX_CELL_TEXT",
    "NOT_XML",
    "CellStyleIds",
    "clean_text",
    "display_text",
    "inline_cells",
    "join_cells",
    "join_rows",
    "row_height",
    "sheet_rows",
    "wrapped_lines",
]

#: What XML 1.0 cannot hold (https://www.w3.org/TR/xml/#charsets): C0 controls other than
#: tab, newline and carriage return, U+FFFE and U+FFFF — as a pattern pandas' (Arrow) string
#: columns accept, which cannot hold lone surrogates anyway. A source value with one shows it
#: as U+FFFD, visibly, instead of losing it or breaking the workbook.
NOT_XML = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
# The same for single Python strings, which can also carry lone surrogates.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_CELL_TEXT = 32_767  # Excel's limit per cell
#: What ``str.strip`` removes (Python's whitespace; ``str.isspace``), as a regex class: text
#: that starts or ends with it needs ``xml:space="preserve"``.
_WHITESPACE = "[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
_ESCAPE_TABLE = str.maketrans(dict(_ESCAPES))
#: Rows converted at a time: long enough that the per-column kernels dominate, short enough
#: that a chunk's XML stays a few MB.
CHUNK_ROWS = 16_384
#: Row height of one line of the default 11-point font, and Excel's highest row (points).
_LINE_POINTS = 15
_MAX_ROW_POINTS = 409
#: Characters of the default font per unit of column width (a unit is one "0").
_CHARACTERS_PER_UNIT = 1.2
_EPOCH_US = int(np.datetime64("1899-12-30", "us").astype(np.int64))
_DAY_US = 86_400_000_000


@dataclass(frozen=True)
class CellStyleIds:
    """The ``s`` attribute (``' s="3"'``, or ``""`` for the default style) of each style the
    streamed cells use, as the workbook's own writer numbered them in ``cellXfs``: ``plain``
    for text, numbers and booleans (top-aligned in sheets whose rows grow with wrapped text,
    as are ``date`` and ``severity`` there)."""

    plain: str
    date: str
    wrapped: str
    severity: Mapping[str, str]


def display_text(value: object) -> str:
    """Any value as the text a cell shows: dicts as JSON, lists joined with ``; ``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return "; ".join(str(v) for v in value)
    return str(value)


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


def sheet_rows(
    frame: pd.DataFrame,
    styles: CellStyleIds,
    *,
    severity: frozenset[str] = frozenset(),
    wrapped: Mapping[str, float] | None = None,
    first_row: int = 2,
) -> Iterator[memoryview]:
    """The rows of ``frame`` as ``<row>`` XML (UTF-8), numbered from ``first_row``, one
    buffer per chunk of :data:`CHUNK_ROWS` rows.

    ``severity`` columns get the severity colours; ``wrapped`` columns (name → width) are
    text that wraps, and each row is as high as its longest wrapped cell needs.
    """
    wrapped = wrapped or {}
    names = [str(c) for c in frame.columns]
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start : start + CHUNK_ROWS]
        numbers = pa.array(np.arange(first_row + start, first_row + start + len(part))).cast(
            pa.string()
        )
        lines = pa.array(np.ones(len(part), dtype=np.int64))
        cells: list[pa.Array] = []
        for at, name in enumerate(names):
            column = part.iloc[:, at]
            if name in wrapped:
                text = _text_array(column)
                xml = inline_cells(text, styles.wrapped)
                lines = pc.max_element_wise(lines, _lines(text, wrapped[name]), skip_nulls=True)
            elif name in severity:
                xml = _severity_cells(column, styles)
            else:
                xml = _cells(column, styles)
            cells.append(xml)
        yield join_rows(numbers, cells, lines if wrapped else None)


def join_rows(
    numbers: pa.Array, cells: Sequence[pa.Array], lines: pa.Array | None = None
) -> memoryview:
    """``<row>`` elements numbered ``numbers`` (strings) of ``cells`` (one array per column
    from column A: each cell's XML after its ``r`` attribute, null for no cell), UTF-8;
    rows whose ``lines`` (of text, at 15 points a line) exceed one get that height."""
    joined = []
    for index, xml in enumerate(cells, start=1):
        cell = pc.binary_join_element_wise(f'<c r="{_column_letter(index)}', numbers, '"', xml, "")
        joined.append(pc.fill_null(cell, ""))
    opener: Any = ">"
    if lines is not None:
        capped = pc.min_element_wise(lines, _MAX_ROW_POINTS // _LINE_POINTS)
        points = pc.cast(pc.multiply(capped, _LINE_POINTS), pa.string())
        high = pc.binary_join_element_wise(' ht="', points, '" customHeight="1">', "")
        opener = pc.if_else(pc.greater(lines, 1), high, ">")
    rows = pc.binary_join_element_wise('<row r="', numbers, '"', opener, *joined, "</row>", "")
    return _utf8(rows)


def join_cells(cells: pa.Array, columns: int, count: int, lines: np.ndarray) -> memoryview:
    """``count`` ``<row>`` elements numbered from 2, UTF-8, of ``cells`` in row-major order,
    ``columns`` a row from column A (each cell's XML after its ``r`` attribute, null for no
    cell); a row whose ``lines`` (of 15 points) exceed one gets that height. A few Arrow
    calls whatever the number of columns, for many small sheets."""
    numbers = np.arange(2, count + 2).astype(str)
    letters = np.array([_column_letter(i) for i in range(1, columns + 1)])
    refs = pa.array(np.char.add(np.tile(letters, count), np.repeat(numbers, columns)))
    made = pc.fill_null(pc.binary_join_element_wise('<c r="', refs, '"', cells, ""), "")
    offsets = pa.array(np.arange(0, count * columns + 1, columns, dtype=np.int32))
    content = pc.binary_join(pa.ListArray.from_arrays(offsets, made), "")
    points = np.minimum(lines, _MAX_ROW_POINTS // _LINE_POINTS) * _LINE_POINTS
    high = np.char.add(np.char.add(' ht="', points.astype(str)), '" customHeight="1">')
    openers = pa.array(np.where(lines > 1, high, ">"))
    rows = pc.binary_join_element_wise(
        '<row r="', pa.array(numbers), '"', openers, content, "</row>", ""
    )
    return _utf8(rows)


def _utf8(strings: pa.Array) -> memoryview:
    """The concatenated UTF-8 of a string array without nulls, without copying it."""
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    _validity, offsets, data = strings.buffers()
    bounds = np.frombuffer(
        offsets, dtype=np.int32, count=len(strings) + 1, offset=strings.offset * 4
    )
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def wrapped_lines(text: str, width: float) -> int:
    """Printed lines of one wrapped text at ``width`` (as :func:`_lines` counts them)."""
    per_line = max(int(width * _CHARACTERS_PER_UNIT), 1)
    return -(-len(text) // per_line) + text.count("\n")


def row_height(lines: int) -> int:
    """The height (points) of a row of ``lines`` lines, within Excel's limit."""
    return min(lines, _MAX_ROW_POINTS // _LINE_POINTS) * _LINE_POINTS


def _lines(text: pa.Array, width: float) -> pa.Array:
    """Printed lines of wrapped text at ``width`` (each line break starts a new line)."""
    per_line = max(int(width * _CHARACTERS_PER_UNIT), 1)
    length = pc.utf8_length(text)
    wrapped = pc.divide(pc.add(length, per_line - 1), per_line)
    return pc.fill_null(pc.add(wrapped, pc.count_substring(text, "\n")), 1)


def _text_array(column: pd.Series) -> pa.Array:
    """The column's shown text as an Arrow string array (nulls where a value is missing)."""
    if isinstance(column.dtype, pd.StringDtype):
        try:
            text = pa.array(column.array, type=pa.string())
            # pandas keeps a column's Arrow data in chunks; a slice may span two
            return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        except (pa.ArrowException, TypeError):
            pass  # python-backed string storage: the general path below
    values = column.astype(object).tolist()
    shown = [None if _missing(v) else clean_text(display_text(v)) for v in values]
    return pa.array(shown, type=pa.string())


def inline_cells(text: pa.Array, style: str | pa.Array) -> pa.Array:
    """Inline-string cells of ``text`` in ``style`` (one ``s`` attribute, or one per value):
    the XML after a cell's ``r`` attribute; null text gives null (no cell)."""
    text = pc.replace_substring_regex(text, NOT_XML, "\ufffd")
    text = pc.utf8_slice_codeunits(text, 0, MAX_CELL_TEXT)
    preserve = pc.match_substring_regex(text, f"^{_WHITESPACE}|{_WHITESPACE}$")
    for plain, escaped in _ESCAPES:
        text = pc.replace_substring(text, plain, escaped)
    start = pc.if_else(
        preserve, ' t="inlineStr"><is><t xml:space="preserve">', ' t="inlineStr"><is><t>'
    )
    xml = pc.binary_join_element_wise(style, start, text, "</t></is></c>", "")
    empty = pc.binary_join_element_wise(style, ' t="inlineStr"/>', "")
    return pc.if_else(pc.equal(text, ""), empty, xml)


def _severity_cells(column: pd.Series, styles: CellStyleIds) -> pa.Array:
    """Severity words on their colours; a word without a colour is plain text."""
    words = _text_array(column).dictionary_encode()
    known = [
        _inline_one(word, styles.severity.get(word, styles.plain))
        for word in words.dictionary.to_pylist()
    ]
    return pc.take(pa.array(known, type=pa.string()), words.indices)


def _cells(column: pd.Series, styles: CellStyleIds) -> pa.Array:
    """Cells of a column whose values are not forced to text: the converter chosen once per
    column from its dtype, value by value only for mixed object columns."""
    dtype = column.dtype
    if isinstance(dtype, pd.StringDtype):
        return inline_cells(_text_array(column), styles.plain)
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        return _date_cells(column, styles.date)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        true, false = (f'{styles.plain} t="b"><v>{v}</v></c>' for v in (1, 0))
        return pc.if_else(pa.array(column.to_numpy()), true, false)
    values = column.astype(object).to_numpy()
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        try:
            return inline_cells(pa.array(values, type=pa.string(), from_pandas=True), styles.plain)
        except (pa.ArrowException, UnicodeError):
            pass  # a lone surrogate: cleaned value by value below
    memo: dict[str, str | None] = {}
    result: list[str | None] = []
    for value in values.tolist():
        if type(value) is str:  # most cells; the same words recur (systems, rights, kinds)
            xml = memo.get(value)
            if xml is None:
                xml = memo[value] = _inline_one(value, styles.plain)
            result.append(xml)
        else:
            result.append(_value_xml(value, styles))
    return pa.array(result, type=pa.string())


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float | np.floating) and math.isnan(value))
    )


def _value_xml(value: object, styles: CellStyleIds) -> str | None:
    """One cell of a mixed column: empty, boolean, number, date, or text."""
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return f'{styles.plain} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | np.integer | np.floating):
        if math.isinf(value):
            return None
        return f'{styles.plain} t="n"><v>{value:.16g}</v></c>'
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        micros = np.array([stamp.value // 1_000], dtype=np.int64) - _EPOCH_US
        return f'{styles.date} t="n"><v>{_serials(micros)[0]:.16g}</v></c>'
    return _inline_one(display_text(value), styles.plain)


def clean_text(text: str) -> str:
    """Show characters XML cannot hold as U+FFFD and cut to Excel's cell limit."""
    return _NOT_XML_RE.sub("\ufffd", text)[:MAX_CELL_TEXT]


def _inline_one(value: str, style: str) -> str:
    """One inline-string cell (exactly what :func:`_inline_cells` gives for ``value``)."""
    text = clean_text(value)
    if not text:
        return f'{style} t="inlineStr"/>'
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return f'{style} t="inlineStr"><is><t{space}>{text.translate(_ESCAPE_TABLE)}</t></is></c>'


def _date_cells(column: pd.Series, style: str) -> pa.Array:
    """A datetime column as Excel date cells (naive UTC serials), converted in one go."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = column.isna().to_numpy()
    micros = column.to_numpy().astype("datetime64[us]").astype(np.int64) - _EPOCH_US
    # '%.16g' is how openpyxl writes numbers (``safe_string``): the same text for the same
    # serial, whichever writer wrote the workbook.
    cells = [
        None if gone else f'{style} t="n"><v>{serial:.16g}</v></c>'
        for gone, serial in zip(missing.tolist(), _serials(micros).tolist(), strict=True)
    ]
    return pa.array(cells, type=pa.string())


def _serials(micros: np.ndarray) -> np.ndarray:
    """Excel serials of microseconds since 1899-12-30: the arithmetic of
    ``openpyxl.utils.datetime.to_excel``, in the same order, so the serials are bit for bit
    what a cell-by-cell write gives (including Excel's phantom 1900-02-29)."""
    days = micros // _DAY_US
    rest = micros - days * _DAY_US
    days = np.where((days > 0) & (days <= 60), days - 1, days)
    serials: np.ndarray = days + ((rest // 1_000_000) + (rest % 1_000_000) / 1e6) / 86_400
    return serials
