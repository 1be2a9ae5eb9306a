"""Review workbooks back: a returned workbook read as text, with its campaign and reviewer.

Nothing is trusted here: :func:`read_workbook` only reads (every row as text, the custom
document properties from the package itself); :mod:`accessaudit.review.collect` checks each
row against the campaign.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from accessaudit.errors import ReviewError
from accessaudit.review._cells import CAMPAIGN_PROPERTY, HEADER, REVIEW_SHEET, REVIEWER_PROPERTY

__all__ = ["ReturnedWorkbook", "read_workbook"]


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


#: ECMA-376 Part 1 §22.3 (custom file properties): docProps/custom.xml, one <property name=…>
#: per property, its value in a vt: child.
_CUSTOM_PART = "docProps/custom.xml"
_CUSTOM_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_CUSTOM_MAX_BYTES = 1 << 20


def _custom_properties(path: Path) -> dict[str, str]:
    """The workbook's custom document properties, read from the package itself.

    openpyxl 3.2 no longer returns them (``custom_doc_props`` comes back empty), and the
    campaign and reviewer ids live there, so the part is read directly. A part with a DTD
    (entity expansion) or over a megabyte is not a campaign's and gives no properties.
    """
    try:
        with zipfile.ZipFile(path) as package:
            if _CUSTOM_PART not in package.namelist():
                return {}
            info = package.getinfo(_CUSTOM_PART)
            if info.file_size > _CUSTOM_MAX_BYTES:
                return {}
            data = package.read(info)
    except (OSError, zipfile.BadZipFile) as error:
        raise ReviewError(f"{path.name}: not a readable Excel workbook ({error})") from error
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return {}
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return {}
    return {
        str(item.get("name")): "".join(item.itertext()).strip()
        for item in root.iter(f"{_CUSTOM_NS}property")
        if item.get("name")
    }


def read_workbook(path: Path) -> ReturnedWorkbook:
    """Read a returned review workbook; :class:`ReviewError` when it cannot be read at all."""
    # Imported here: only collecting reads workbooks, and creating a campaign starts faster.
    from openpyxl import load_workbook  # noqa: PLC0415

    try:
        book = load_workbook(path, read_only=False, data_only=False)
    except Exception as error:
        # openpyxl raises zipfile, KeyError, ValueError and its own errors for a file that
        # is not a workbook; all of them mean the same thing to a reviewer.
        raise ReviewError(f"{path.name}: not a readable Excel workbook ({error})") from error
    try:
        properties = _custom_properties(path)
        campaign_id = properties.get(CAMPAIGN_PROPERTY, book.properties.identifier or "")
        reviewer_id = properties.get(REVIEWER_PROPERTY, "")
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
