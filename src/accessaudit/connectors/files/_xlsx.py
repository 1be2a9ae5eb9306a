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

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import load_workbook

from accessaudit.connectors.base import SourceSettings
from accessaudit.connectors.files._csv import file_error

__all__ = ["MAX_PACKING_RATIO", "MAX_PART_BYTES", "MAX_ROWS", "MAX_TOTAL_BYTES", "read_xlsx"]

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


def read_xlsx(
    path: Path, settings: SourceSettings
) -> tuple[pd.DataFrame, list[str], npt.NDArray[np.int64], str, int]:
    """The sheet's rows as text, its header, the row of every record (``book.xlsx!Sheet:7``
    counts from 1 at the header), the label for messages and the header's row."""
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
        # Other tools often write a <dimension ref> smaller than the data; read-only mode
        # would stop where it says. Forget it and read every row there is.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None or all(c is None for c in header_cells):
            raise file_error(settings.name, f"{label}:1", "the sheet is empty")
        header = [_cell_text(c) or f"column {i + 1}" for i, c in enumerate(header_cells)]
        width = len(header)
        records: list[list[str | None]] = []
        for row in rows:
            if len(records) + 1 >= MAX_ROWS:
                raise file_error(
                    settings.name,
                    f"{label}:{MAX_ROWS + 1}",
                    f"has more than Excel's {MAX_ROWS:,} rows; refused",
                )
            records.append([_cell_text(v) for v in (tuple(row) + (None,) * width)[:width]])
    finally:
        workbook.close()
    raw = pd.DataFrame(records, columns=range(width), dtype=object).fillna("")
    return raw, header, np.arange(2, 2 + len(raw), dtype=np.int64), label, 1
