"""Saving a workbook whose big sheets' rows are streamed into its file.

A library (xlsxwriter) writes the workbook in memory with all its formatting, each streamed
sheet holding its header row and a *probe row*: one cell in each style the streamed rows use.
:func:`write_package` copies that package into the target file and, for each streamed sheet,
writes the header row as the library wrote it, then the rows chunk by chunk in place of the
probe row, and sets ``<dimension>``. The style indexes (``s="…"``) of the streamed cells are
those the library gave the probe cells, so they always refer to the ``cellXfs`` it wrote.
:class:`PackageTemplate` does the same from one package read once, any number of times, with
some parts' text edited each time (a review campaign's workbooks differ in a few values).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Protocol
from xml.etree import ElementTree

from accessaudit._atomic import atomic_file
from accessaudit.errors import AccessAuditError

__all__ = ["PackageTemplate", "PartEdit", "StreamedRows", "write_package"]


class StreamedRows(Protocol):
    """The rows of one sheet, streamed when the workbook is saved."""

    @property
    def probes(self) -> Sequence[str]:
        """The style names of the probe row's cells, in order."""
        ...

    @property
    def last_cell(self) -> str:
        """The bottom-right cell of the sheet (``"N14549"``), for ``<dimension>``."""
        ...

    def rows(self, styles: Mapping[str, str]) -> Iterator[bytes | memoryview]:
        """The ``<row>`` elements after the header, UTF-8, in chunks; ``styles`` maps each
        probe's style name to its ``s`` attribute (``' s="3"'``, or ``""``)."""
        ...


def write_package(written: IO[bytes], path: Path, streamed: Mapping[str, StreamedRows]) -> None:
    """Write the workbook package ``written`` (a zip) to ``path`` atomically, with the rows of
    each sheet named in ``streamed`` in place of its probe row. A full disk is one
    :class:`AccessAuditError` naming ``path`` (see :mod:`accessaudit._atomic`)."""
    PackageTemplate(written).write(path, streamed)


#: Edits of one part's text before it is written (a campaign's reviewer, row ranges).
PartEdit = Callable[[str], str]


class PackageTemplate:
    """A workbook package the library wrote, read once and written any number of times:
    each time with the streamed sheets' rows in place of their probe rows and some parts'
    text edited (a campaign's reviewer workbooks differ only in a few values)."""

    def __init__(self, written: IO[bytes]) -> None:
        with zipfile.ZipFile(written) as source:
            self._sheets = _sheet_parts(source)
            self._parts = [(info.filename, source.read(info)) for info in source.infolist()]
        self._probes: dict[tuple[str, tuple[str, ...]], tuple[str, str, str, dict[str, str]]] = {}

    def sheet_part(self, title: str) -> str:
        """The zip member of the worksheet titled ``title``."""
        return self._sheets[title]

    def write(
        self,
        path: Path,
        streamed: Mapping[str, StreamedRows],
        edits: Mapping[str, PartEdit] | None = None,
    ) -> None:
        """Write the package to ``path`` atomically, the rows of each sheet named in
        ``streamed`` in place of its probe row, each part named in ``edits`` (a zip member)
        edited as text. A full disk is one :class:`AccessAuditError` naming ``path``."""
        edits = edits or {}
        by_part = {self._sheets[title]: rows for title, rows in streamed.items()}
        with (
            atomic_file(Path(path)) as temporary,
            # Deflate level 1: at 200,000 people the report is written in 4.8 s instead of
            # 6.7 s (zlib's default 6), for a file of 33.9 MB instead of 27.3 MB
            # (bench/README.md).
            zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package,
        ):
            for name, data in self._parts:
                rows = by_part.get(name)
                edit = edits.get(name)
                if rows is not None:
                    self._splice(name, data, rows, package, edit)
                elif edit is not None:
                    package.writestr(name, edit(data.decode("utf-8")).encode("utf-8"))
                else:
                    package.writestr(name, data)

    def _splice(
        self,
        name: str,
        data: bytes,
        streamed: StreamedRows,
        package: zipfile.ZipFile,
        edit: PartEdit | None,
    ) -> None:
        """Write a sheet part the library wrote (header row, probe row) with the probe row
        replaced by the streamed rows, and the ``<dimension>`` made to cover them."""
        key = (name, tuple(streamed.probes))
        if key not in self._probes:
            self._probes[key] = _split_sheet(name, data.decode("utf-8"), streamed.probes)
        head, header, tail, styles = self._probes[key]
        if edit is not None:
            head, tail = edit(head), edit(tail)
        head = _with_dimension(head, f"A1:{streamed.last_cell}")
        rows = streamed.rows(styles)
        first = next(rows, b"")
        # ZIP64 only where the part may pass 4 GB: a part 2,000 times the first chunk.
        large = len(first) * 2_000 >= zipfile.ZIP64_LIMIT
        with package.open(name, "w", force_zip64=large) as part:
            part.write(f"{head}<sheetData>{header}".encode())
            part.write(first)
            for chunk in rows:
                part.write(chunk)
            part.write(f"</sheetData>{tail}".encode())


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → the zip member of its worksheet part, from the workbook part and its
    relationships (ECMA-376 Part 1, §18.2.19 sheet; Part 2, relationships)."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    relations = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {
        r.get("Id"): str(r.get("Target"))
        for r in relations.iter(f"{{{_PACKAGE_RELATIONSHIPS}}}Relationship")
    }
    parts = {}
    for sheet in workbook.iter(f"{{{_MAIN}}}sheet"):
        target = targets[sheet.get(f"{{{_RELATIONSHIPS}}}id")]
        # A target is relative to the workbook part's folder unless it starts with "/".
        name = target[1:] if target.startswith("/") else posixpath.join("xl", target)
        parts[str(sheet.get("name"))] = posixpath.normpath(name)
    return parts


_SHEET_DATA = re.compile(r"<sheetData>(.*)</sheetData>", re.DOTALL)
_DIMENSION = re.compile(r"<dimension [^>]*/>")
_AFTER_SHEET_PR = re.compile(r"(<sheetPr\b[^>]*/>|<sheetPr\b.*?</sheetPr>)", re.DOTALL)


def _split_sheet(
    name: str, xml: str, probes: Sequence[str]
) -> tuple[str, str, str, dict[str, str]]:
    """A sheet part the library wrote: its start up to ``<sheetData>``, the header row, its
    end after ``</sheetData>``, and the ``s`` attribute of each probe cell by style name."""
    data = _SHEET_DATA.search(xml)
    if data is None:
        raise AccessAuditError(f"the workbook writer wrote no sheet data into {name}")
    header, probe = _header_and_probe(data.group(1))
    return xml[: data.start()], header, xml[data.end() :], _probe_styles(probe, probes)


def _header_and_probe(rows: str) -> tuple[str, str]:
    """The header row's XML as written, and the probe row (the second ``<row>``)."""
    second = rows.find("<row", 1)  # cell text escapes "<", so this is the next row element
    if second < 0:
        raise AccessAuditError("the workbook writer dropped the style probe row")
    return rows[:second], rows[second:]


def _probe_styles(probe: str, names: Sequence[str]) -> dict[str, str]:
    """The ``s`` attribute of each probe cell, by the style name it stands for."""
    row = ElementTree.fromstring(f'<sheetData xmlns="{_MAIN}">{probe}</sheetData>')
    cells = list(row.iter(f"{{{_MAIN}}}c"))
    if len(cells) != len(names):
        raise AccessAuditError("the workbook writer changed the style probe row")
    return {
        name: f' s="{cell.get("s")}"' if cell.get("s") not in (None, "0") else ""
        for name, cell in zip(names, cells, strict=True)
    }


def _with_dimension(head: str, ref: str) -> str:
    """The part's start with ``<dimension ref>`` set (after ``<sheetPr>``, where the
    schema puts it)."""
    dimension = f'<dimension ref="{ref}"/>'
    if _DIMENSION.search(head):
        return _DIMENSION.sub(dimension, head, count=1)
    after = _AFTER_SHEET_PR.search(head)
    if after is not None:
        return head[: after.end()] + dimension + head[after.end() :]
    opening = head.index(">", head.index("<worksheet")) + 1
    return head[:opening] + dimension + head[opening:]
