"""CSV text: decoding, line ends, delimiter, header checks, and the real line of every row.

The file is streamed (decoded as pandas reads it), so memory grows with the table, not with
copies of the file's text; a file over :data:`MAX_CSV_BYTES` is refused before it is read.
Line numbers count from the top of the file: the header is line 1, a PowerShell ``#TYPE``
line moves data to line 3, and a quoted value spanning lines still names the line its record
starts on.

Encodings, as Windows tools write them (Microsoft, about_Character_Encoding): UTF-8 with or
without a byte-order mark (Excel's "CSV UTF-8", PowerShell 7), UTF-16 with a BOM (Windows
PowerShell's ``Out-File`` and ``>``); anything else (Excel's plain "CSV" in a Western locale
is cp1252) needs ``encoding``. A declared single-byte encoding that contradicts the file (a
UTF-8 BOM, or text that is valid UTF-8 with non-ASCII letters) is refused rather than read as
mojibake (``Jürgen`` as ``JÃ¼rgen``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import numpy as np
import numpy.typing as npt
import pandas as pd

from accessaudit.connectors.base import SourceSettings
from accessaudit.errors import ConfigError, SourceError

__all__ = ["MAX_CSV_BYTES", "file_error", "open_text", "read_csv"]

#: The largest CSV file read (4 GiB). A bigger export is refused before it is read: split it
#: (one source per share or per business unit), or filter it to the columns read.
MAX_CSV_BYTES = 4 << 30

#: The first line Excel reads as the delimiter to use (``sep=;``), written by tools that
#: target Excel in any locale.
_SEP_LINE = re.compile(r"sep=([^\"\r\n])")
_TOKENIZE_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
#: Share of NUL bytes at odd (or even) positions above which text is UTF-16 without a BOM.
_UTF16_NUL_SHARE = 0.3
_HEAD_BYTES = 1 << 16
_CHUNK_CHARS = 1 << 20


def file_error(source: str, location: str, problem: str) -> SourceError:
    """A problem with the file as a whole (not one row), in the layout of row failures."""
    table = pd.DataFrame(
        {"location": [location], "column": [""], "value": [""], "problem": [problem]}
    )
    return SourceError(problem, source=source, location=location, failures=table)


def _refuse_workbook(head: bytes, label: str, source: str) -> None:
    """A workbook saved under a text name (``hr.csv`` that is really ``hr.xlsx``, or a legacy
    ``.xls``) would otherwise be reported as undecodable text."""
    if head.startswith(b"PK\x03\x04"):
        raise file_error(
            source, label, "is a workbook (a ZIP file such as XLSX), not CSV text: name it .xlsx"
        )
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise file_error(
            source,
            label,
            "is a legacy Excel .xls (or encrypted) workbook, not CSV text: save it as .xlsx "
            "without a password, or as CSV UTF-8",
        )


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return False
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    return max(odd, even) >= _UTF16_NUL_SHARE


def _encoding(head: bytes, declared: str | None, label: str, source: str) -> str:
    """The codec to read the file with, from its first bytes and the source's ``encoding``."""
    if declared is None:
        # PowerShell's Out-File and Excel's "Unicode text" write UTF-16 with a BOM.
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        if _looks_utf16(head):
            raise file_error(
                source,
                label,
                "looks like UTF-16 text without a byte-order mark; save it as UTF-8, or set "
                'encoding = "utf-16-le" (or "utf-16-be") for this source',
            )
        return "utf-8-sig"
    try:
        name = codecs.lookup(declared).name
    except LookupError as error:
        raise ConfigError(f"source {source!r}: unknown encoding {declared!r}") from error
    if name == "utf-8":
        return "utf-8-sig"  # the BOM Excel's "CSV UTF-8" writes is not part of the header
    if name.startswith("utf"):
        return declared
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise file_error(
            source,
            label,
            f"is UTF-16 text (it starts with a UTF-16 byte-order mark), but the source sets "
            f"encoding = {declared!r}; remove encoding for this source",
        )
    if head.startswith(b"\xef\xbb\xbf") or _valid_utf8_beyond_ascii(head):
        raise file_error(
            source,
            label,
            f"is UTF-8 text (it has a UTF-8 byte-order mark or UTF-8 letters such as 'ü'), "
            f"but the source sets encoding = {declared!r}, which would misread every "
            "non-ASCII letter; remove encoding for this source",
        )
    return declared


def _valid_utf8_beyond_ascii(head: bytes) -> bool:
    # A cut multi-byte sequence at the end of the sample is not evidence against UTF-8.
    if head.isascii():
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


@contextmanager
def _text(path: Path, encoding: str) -> Iterator[TextIO]:
    """The file as decoded text with every line end (CRLF, LF, Excel for Mac's CR) read as
    ``"\\n"``, inside and outside quoted values."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline=None) as text:
        yield text


@contextmanager
def open_text(path: Path, settings: SourceSettings) -> Iterator[TextIO]:
    """The file as text in its encoding (detected as for CSV, or the source's ``encoding``);
    a byte that does not decode is a SourceError naming its line."""
    try:
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    except OSError as error:
        raise file_error(settings.name, str(path), f"cannot be read: {error}") from error
    declared = settings.option("encoding")
    encoding = _encoding(head, str(declared) if declared else None, path.name, settings.name)
    try:
        with _text(path, encoding) as text:
            yield text
    except UnicodeDecodeError as error:
        raise _decode_error(path, encoding, path.name, settings.name) from error


def _decode_error(path: Path, encoding: str, label: str, source: str) -> SourceError:
    """Every line that does not decode (the first thousand), the first in the message."""
    name = encoding.removesuffix("-sig").upper()
    bad_lines = []
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as line_error:
                bad_lines.append((f"{label}:{number}", f"0x{line[line_error.start]:02x}"))
                if len(bad_lines) >= 1000:
                    break
    if not bad_lines:  # a multi-byte sequence split by a newline, or UTF-16 read by lines
        bad_lines = [(f"{label}:1", "")]
    problem = (
        f"is not valid {name} (byte {bad_lines[0][1]}); save the file as UTF-8, or set "
        'encoding = "cp1252" (or the file\'s real encoding) for this source'
    )
    table = pd.DataFrame(
        {
            "location": [b[0] for b in bad_lines],
            "column": "",
            "value": [b[1] for b in bad_lines],
            "problem": f"is not valid {name}",
        }
    )
    return SourceError(f"line {problem}", source=source, location=bad_lines[0][0], failures=table)


def _delimiter(settings: SourceSettings) -> str | None:
    value = settings.option("delimiter")
    if value is None:
        return None
    text = {"tab": "\t", "\\t": "\t"}.get(str(value).lower(), str(value))
    if len(text) != 1 or text in '"\r\n':
        raise ConfigError(
            f'source {settings.name!r}: delimiter must be one character such as ";" or '
            f'"tab", got {value!r}'
        )
    return text


def read_csv(
    path: Path, settings: SourceSettings
) -> tuple[pd.DataFrame, list[str], npt.NDArray[np.int64], str, int]:
    """The file's rows as text (header names as written), its header, the line of every row,
    the file's label for messages and the header's line."""
    label = path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(_HEAD_BYTES)
    except OSError as error:
        raise file_error(settings.name, str(path), f"cannot be read: {error}") from error
    if size > MAX_CSV_BYTES:
        raise file_error(
            settings.name,
            label,
            f"is {size:,} bytes, over the limit of {MAX_CSV_BYTES:,} for one CSV file; split "
            "the export (one source per share or business unit) or keep only the columns read",
        )
    _refuse_workbook(head, label, settings.name)
    declared = settings.option("encoding")
    encoding = _encoding(head, str(declared) if declared else None, label, settings.name)
    delimiter = _delimiter(settings)
    try:
        with _text(path, encoding) as text:
            raw, header, header_line, delimiter = _parse(text, delimiter, label, settings.name)
        with _text(path, encoding) as text:
            lines = _row_lines(text, delimiter, header_line, len(raw))
    except UnicodeDecodeError as error:
        raise _decode_error(path, encoding, label, settings.name) from error
    # pandas renames a repeated header ("status.1"); keep the names as written, so a repeat
    # is refused rather than one of them picked.
    names = header if len(header) == len(raw.columns) else [str(c) for c in raw.columns]
    raw.columns = pd.RangeIndex(len(raw.columns))
    return raw, names, lines, label, header_line


def _parse(
    text: TextIO, delimiter: str | None, label: str, source: str
) -> tuple[pd.DataFrame, list[str], int, str]:
    """The rows (as text), the header as written, its line and the delimiter used."""
    start = text.tell()
    first_line = text.readline().removeprefix("\ufeff")
    header_line = 1
    if first_line.startswith("#TYPE"):
        # Export-Csv without -NoTypeInformation writes the .NET type name first.
        start = text.tell()
        first_line = text.readline()
        header_line = 2
    hint = _SEP_LINE.fullmatch(first_line.rstrip("\n"))
    if header_line == 1 and hint is not None:
        # Excel's hint line: the file declares its own delimiter, nothing is guessed.
        if delimiter is not None and delimiter != hint.group(1):
            raise file_error(
                source,
                f"{label}:1",
                f"declares sep={hint.group(1)} but the source sets delimiter = {delimiter!r}",
            )
        delimiter = hint.group(1)
        start = text.tell()
        first_line = text.readline()
        header_line = 2
    if not first_line or first_line.isspace():
        rest = text.read(_CHUNK_CHARS)
        if not rest or rest.isspace():  # unlike strip(), stops at the first visible character
            raise file_error(source, f"{label}:{header_line}", "the file is empty")
    first_line = first_line.rstrip("\n")
    if delimiter is None:
        delimiter = ","
        for other, name in ((";", '";"'), ("\t", '"tab"')):
            if other in first_line and "," not in first_line:
                raise file_error(
                    source,
                    f"{label}:{header_line}",
                    f"the header is separated by {name}, not commas; set delimiter = {name} "
                    "for this source",
                )
    try:
        header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    except csv.Error:  # pandas below names the problem with its line
        header = []
    text.seek(start)
    # A BOM the codec keeps (encoding = "utf-16-le" on a file with one) is not the header's.
    if header_line == 1 and text.read(1) != "\ufeff":
        text.seek(start)
    try:
        raw = pd.read_csv(
            text,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            sep=delimiter,
        )
    except pd.errors.ParserError as error:
        # pandas counts lines from the header; ours count from the top of the file
        found = _TOKENIZE_LINE.search(str(error))
        if found is None:
            raise file_error(source, label, f"is not a well-formed CSV file: {error}") from error
        expected, line, seen = (int(g) for g in found.groups())
        raise file_error(
            source,
            f"{label}:{line + header_line - 1}",
            f"has {seen} fields where the header has {expected} (an unquoted delimiter?)",
        ) from error
    except pd.errors.EmptyDataError as error:
        raise file_error(source, f"{label}:{header_line}", "the file is empty") from error
    return raw, header, header_line, delimiter


def _row_lines(text: TextIO, delimiter: str, header_line: int, rows: int) -> npt.NDArray[np.int64]:
    """The line each of ``rows`` records starts on: one a line unless a quoted value spans
    lines, then where the csv module says each record starts."""
    first_data = header_line + 1
    lines = np.arange(first_data, first_data + rows, dtype=np.int64)
    physical = 0
    last = ""
    while chunk := text.read(_CHUNK_CHARS):
        physical += chunk.count("\n")
        last = chunk[-1]
    if last and last != "\n":
        physical += 1
    if physical - header_line == rows:
        return lines
    for where in (_record_lines, _quoted_record_lines):
        text.seek(0)
        for _ in range(header_line - 1):
            text.readline()
        starts = where(text, delimiter, first_data)
        if starts is not None and len(starts) == rows:
            return np.asarray(starts, dtype=np.int64)
    return lines


def _record_lines(text: TextIO, delimiter: str, first_data: int) -> list[int] | None:
    """Where each record starts, as the csv module reads them; None when it cannot (a value
    longer than its field limit of 131,072 characters)."""
    reader = csv.reader(text, delimiter=delimiter)
    starts: list[int] = []
    try:
        next(reader, None)
        previous = reader.line_num
        for _ in reader:
            starts.append(first_data + previous - 1)
            previous = reader.line_num
    except csv.Error:
        return None
    return starts


def _quoted_record_lines(text: TextIO, delimiter: str, first_data: int) -> list[int]:
    """Where each record starts by RFC 4180 quoting alone: a line starts a record unless an
    odd number of quotes before it left a quoted value open (doubled quotes count twice)."""
    del delimiter  # quoting decides; kept for the shape of _record_lines
    starts: list[int] = []
    inside = False
    for number, line in enumerate(text, start=first_data - 1):
        if not inside:
            starts.append(number)
        if line.count('"') % 2:
            inside = not inside
    return starts[1:]  # the first record is the header
