"""XLSX workbooks: checked before openpyxl opens them, then read whole (read-only mode).

Refused with one clear sentence, before any XML is parsed:

* an encrypted (password-protected) workbook, which is an OLE2 file, not a zip;
* a part larger than :data:`MAX_PART_BYTES` unpacked, or packed more than
  :data:`MAX_PACKING_RATIO` to one (a zip bomb), or a workbook over :data:`MAX_TOTAL_BYTES`;
* any XML part with a document type declaration (``<!DOCTYPE``/``<!ENTITY``): an XLSX
  never needs one, and entities can read local files (XXE) or expand without bound
  ("billion laughs"). Entities are never resolved.

Then every row is read, whatever the sheet's ``<dimension ref>`` claims (other tools often
write it too small, and openpyxl's read-only mode would stop there), up to Excel's own limit of
:data:`MAX_ROWS` rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from accessaudit.connectors.base import SourceSettings
from accessaudit.connectors.files._csv import file_error
from accessaudit.model import failures_error

__all__ = [
    "MAX_PACKING_RATIO",
    "MAX_PART_BYTES",
    "MAX_ROWS",
    "MAX_TOTAL_BYTES",
    "SheetFacts",
    "read_xlsx",
    "sheet_facts",
]

#: Excel's own sheet limit (1,048,576 rows, the header included).
MAX_ROWS = 1_048_576
#: The most one part (a sheet's XML) may hold unpacked, and the whole workbook.
MAX_PART_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30
#: Unpacked / packed size above which a part larger than 10 MB is taken for a zip bomb.
MAX_PACKING_RATIO = 200
_RATIO_FLOOR = 10 << 20

_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_DTD_MARKERS = (b"<!DOCTYPE", b"<!ENTITY", "<!DOCTYPE".encode("utf-16-le"))
_CHUNK = 1 << 20


def _refuse_unsafe(path: Path, settings: SourceSettings) -> None:
    """Raise a SourceError for an encrypted, oversized or DTD-carrying workbook."""
    with path.open("rb") as file:
        head = file.read(8)
    if head == _OLE2_SIGNATURE:
        with path.open("rb") as file:
            encrypted = _ENCRYPTED_PACKAGE in file.read(1 << 20)
        problem = (
            "encrypted workbook: save it without a password"
            if encrypted
            else "is an OLE2 file (a legacy .xls?), not an XLSX workbook: save it as .xlsx"
        )
        raise file_error(settings.name, path.name, problem)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = sum(m.file_size for m in members)
            if total > MAX_TOTAL_BYTES:
                raise file_error(
                    settings.name,
                    path.name,
                    f"unpacks to {total:,} bytes, over the limit of {MAX_TOTAL_BYTES:,}; "
                    "export the data as CSV instead",
                )
            for member in members:
                _check_member(archive, member, path, settings)
    except zipfile.BadZipFile as error:
        raise file_error(
            settings.name, path.name, f"is not a readable XLSX workbook: {error}"
        ) from error


def _check_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path, settings: SourceSettings
) -> None:
    where = f"{path.name} (part {member.filename})"
    packed = max(1, member.compress_size)
    if member.file_size > MAX_PART_BYTES or (
        member.file_size > _RATIO_FLOOR and member.file_size / packed > MAX_PACKING_RATIO
    ):
        raise file_error(
            settings.name,
            where,
            f"unpacks to {member.file_size:,} bytes from {member.compress_size:,} (limits: "
            f"{MAX_PART_BYTES:,} bytes, {MAX_PACKING_RATIO} to one): refused as a zip bomb",
        )
    if not member.filename.lower().endswith((".xml", ".rels", ".vml")):
        return
    tail = b""
    # A zip member reads no more than its declared size, so this scan is bounded too.
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            if any(marker in window for marker in _DTD_MARKERS):
                raise file_error(
                    settings.name,
                    where,
                    "contains an XML document type declaration (DTD); XLSX files never need "
                    "one and its entities could read files or exhaust memory: refused (save "
                    "the workbook again from Excel)",
                )
            tail = window[-32:]


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        # Excel stores employee ids typed as numbers as floats: 1001.0 means "1001".
        return str(int(value))
    return str(value)


@dataclasses.dataclass(frozen=True)
class SheetFacts:
    """What the sheet's XML says beyond its cell values: merged ranges (first column, first
    row, last column, last row, as written), hidden rows, and whether it holds formulas."""

    merged: tuple[tuple[int, int, int, int, str], ...] = ()
    hidden_rows: tuple[int, ...] = ()
    has_formulas: bool = False
    sheet_hidden: bool = False


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def sheet_facts(path: Path, part: str) -> SheetFacts:
    """Scan one worksheet part (already checked by :func:`_refuse_unsafe`) for merged cells,
    hidden rows and formulas; whole tags are matched, chunk by chunk."""
    merged: list[tuple[int, int, int, int, str]] = []
    hidden: list[int] = []
    has_formulas = False
    row = 0
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(part.lstrip("/")) as stream:
        while chunk := stream.read(_CHUNK):
            window = tail + chunk
            end = window.rfind(b">") + 1
            done, tail = window[:end], window[end:]
            has_formulas = has_formulas or _FORMULA.search(done) is not None
            for tag in _ROW_TAG.finditer(done):
                number = _ROW_NUMBER.search(tag.group())
                row = int(number.group(1)) if number else row + 1
                if _HIDDEN.search(tag.group()):
                    hidden.append(row)
            for found in _MERGE.finditer(done):
                first_col, first_row, last_col, last_row = found.groups()
                ref = found.group(1) + found.group(2)
                if last_col is not None:
                    ref += b":" + last_col + last_row
                merged.append(
                    (
                        _column_number(first_col),
                        int(first_row),
                        _column_number(last_col or first_col),
                        int(last_row or first_row),
                        ref.decode("ascii"),
                    )
                )
    return SheetFacts(tuple(merged), tuple(hidden), has_formulas)


def read_xlsx(
    path: Path, settings: SourceSettings
) -> tuple[pd.DataFrame, list[str], npt.NDArray[np.int64], str, int, SheetFacts]:
    """The sheet's rows as text, its header, the row of every record (``book.xlsx!Sheet:7``
    counts from 1 at the header), the label for messages, the header's row, and the facts
    of :func:`sheet_facts`. A formula without a saved value is refused by cell."""
    _refuse_unsafe(path, settings)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as error:
        raise file_error(
            settings.name, str(path), f"is not a readable XLSX workbook: {error}"
        ) from error
    try:
        sheet_name = settings.option("sheet")
        if sheet_name:
            if sheet_name not in workbook.sheetnames:
                raise file_error(
                    settings.name,
                    path.name,
                    f"has no sheet {sheet_name!r}; sheets: {', '.join(workbook.sheetnames)}",
                )
            sheet = workbook[sheet_name]
        else:
            sheet = workbook.worksheets[0]
        label = f"{path.name}!{sheet.title}"
        records = _records(sheet, label, settings.name)
        part = str(getattr(sheet, "_worksheet_path", ""))
        hidden = getattr(sheet, "sheet_state", "visible") != "visible"
    finally:
        workbook.close()
    # A table may start lower down (a title, blank rows): the header is looked for there.
    if not any(any(c is not None for c in r) for r in records):
        raise file_error(settings.name, f"{label}:1", "the sheet is empty")
    facts = dataclasses.replace(
        sheet_facts(path, part) if part else SheetFacts(), sheet_hidden=hidden
    )
    if facts.has_formulas:
        _refuse_unsaved_formulas(path, sheet.title, records, label, settings.name)
    # Rows are as long as their last cell: a title row above the header may be one cell.
    width = max(len(r) for r in records)
    header = [c or f"column {i + 1}" for i, c in enumerate(records[0] + [None] * width)][:width]
    texts = [(r + [None] * width)[:width] for r in records[1:]]
    raw = pd.DataFrame(texts, columns=range(width), dtype=object).fillna("")
    return raw, header, np.arange(2, 2 + len(raw), dtype=np.int64), label, 1, facts


def _records(sheet: Any, label: str, source: str) -> list[list[str | None]]:
    """Every row's cells as text (None for an empty cell), the header first."""
    # Other tools often write a <dimension ref> smaller than the data; read-only mode
    # would stop where it says. Forget it and read every row there is.
    sheet.reset_dimensions()
    records: list[list[str | None]] = []
    for row in sheet.iter_rows(values_only=True):
        if len(records) >= MAX_ROWS:
            raise file_error(
                source,
                f"{label}:{MAX_ROWS + 1}",
                f"has more than Excel's {MAX_ROWS:,} rows; refused",
            )
        records.append([_cell_text(v) for v in row])
    return records


def _refuse_unsaved_formulas(
    path: Path, title: str, records: list[list[str | None]], label: str, source: str
) -> None:
    """Cells with a formula but no saved result: a workbook written by a program (openpyxl,
    a report generator) and never opened and saved in Excel. Their values are unknown."""
    workbook = load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = workbook[title]
        sheet.reset_dimensions()
        unsaved = []
        for number, (formulas, values) in enumerate(
            zip(sheet.iter_rows(values_only=True), records, strict=False), start=1
        ):
            for column, formula in enumerate(formulas):
                value = values[column] if column < len(values) else None
                if value is None and (
                    (isinstance(formula, str) and formula.startswith("="))
                    or type(formula).__name__ in ("ArrayFormula", "DataTableFormula")
                ):
                    unsaved.append((f"{label}:{number}", get_column_letter(column + 1)))
    finally:
        workbook.close()
    if unsaved:
        failures = pd.DataFrame(
            {
                "location": [u[0] for u in unsaved],
                "column": [u[1] for u in unsaved],
                "value": "",
                "problem": "holds a formula with no saved value (the workbook was written by a "
                "program and never saved in Excel); open and save it in Excel, or export CSV",
            }
        )
        raise failures_error(failures, source=source)
