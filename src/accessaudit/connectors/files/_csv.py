"""CSV text: decoding, line ends, delimiter, header checks, and the real line of every row.

Line numbers count from the top of the file: the header is line 1, a PowerShell ``#TYPE``
line moves data to line 3, and a quoted value spanning lines still names the line its record
starts on.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from accessaudit.connectors.base import SourceSettings
from accessaudit.errors import ConfigError, SourceError

__all__ = ["file_error", "read_csv"]

_TOKENIZE_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
#: Share of NUL bytes at odd (or even) positions above which text is UTF-16 without a BOM.
_UTF16_NUL_SHARE = 0.3


def file_error(source: str, location: str, problem: str) -> SourceError:
    """A problem with the file as a whole (not one row), in the layout of row failures."""
    table = pd.DataFrame(
        {"location": [location], "column": [""], "value": [""], "problem": [problem]}
    )
    return SourceError(problem, source=source, location=location, failures=table)


def _looks_utf16(data: bytes) -> bool:
    sample = data[:4096]
    if len(sample) < 4 or b"\x00" not in sample:
        return False
    odd = sample[1::2].count(0) / max(1, len(sample[1::2]))
    even = sample[0::2].count(0) / max(1, len(sample[0::2]))
    return max(odd, even) >= _UTF16_NUL_SHARE


def _decode(data: bytes, encoding: str | None, label: str, source: str) -> str:
    if encoding is None:
        # PowerShell's Out-File and Excel's "Unicode text" write UTF-16 with a BOM.
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        if not utf16 and _looks_utf16(data):
            raise file_error(
                source,
                label,
                "looks like UTF-16 text without a byte-order mark; save it as UTF-8, or set "
                'encoding = "utf-16-le" (or "utf-16-be") for this source',
            )
        encoding = "utf-16" if utf16 else "utf-8-sig"
    try:
        return data.decode(encoding)
    except LookupError as error:
        raise ConfigError(f"source {source!r}: unknown encoding {encoding!r}") from error
    except UnicodeDecodeError as error:
        raise _decode_error(data, encoding, label, source) from error


def _decode_error(data: bytes, encoding: str, label: str, source: str) -> SourceError:
    """Every line that does not decode (the first few hundred), the first in the message."""
    name = encoding.removesuffix("-sig").upper()
    bad_lines = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode(encoding)
        except UnicodeDecodeError as line_error:
            bad_lines.append((f"{label}:{number}", f"0x{line[line_error.start]:02x}"))
            if len(bad_lines) >= 1000:
                break
    if not bad_lines:  # a multi-byte sequence split by a newline
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
        data = path.read_bytes()
    except OSError as error:
        raise file_error(settings.name, str(path), f"cannot be read: {error}") from error
    encoding = settings.option("encoding")
    text = _decode(data, str(encoding) if encoding else None, label, settings.name)
    # Excel for Mac writes CR-only line ends; Windows tools CRLF. Lines are counted on "\n".
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    header_line = 1
    if text.startswith("#TYPE"):
        # Export-Csv without -NoTypeInformation writes the .NET type name first.
        text = text.partition("\n")[2]
        header_line = 2
    if not text or text.isspace():  # unlike strip(), stops at the first visible character
        raise file_error(settings.name, f"{label}:{header_line}", "the file is empty")
    delimiter = _delimiter(settings)
    first_line = text.partition("\n")[0]
    if delimiter is None:
        delimiter = ","
        for other, name in ((";", '";"'), ("\t", '"tab"')):
            if other in first_line and "," not in first_line:
                raise file_error(
                    settings.name,
                    f"{label}:{header_line}",
                    f"the header is separated by {name}, not commas; set delimiter = {name} "
                    "for this source",
                )
    try:
        header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    except csv.Error:  # pandas below names the problem with its line
        header = []
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            sep=delimiter,
        )
    except pd.errors.ParserError as error:
        # pandas counts lines from the header; ours count from the top of the file
        found = _TOKENIZE_LINE.search(str(error))
        if found is None:
            raise file_error(
                settings.name, label, f"is not a well-formed CSV file: {error}"
            ) from error
        expected, line, seen = (int(g) for g in found.groups())
        raise file_error(
            settings.name,
            f"{label}:{line + header_line - 1}",
            f"has {seen} fields where the header has {expected} (an unquoted delimiter?)",
        ) from error
    except pd.errors.EmptyDataError as error:
        raise file_error(settings.name, f"{label}:{header_line}", "the file is empty") from error
    first_data = header_line + 1
    lines = np.arange(first_data, first_data + len(raw), dtype=np.int64)
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical - 1 != len(raw):
        # Quoted values spanning lines: ask the csv module where each record starts.
        lines = _record_lines(text, delimiter, first_data, len(raw), lines)
    # pandas renames a repeated header ("status.1"); keep the names as written, so a repeat
    # is refused rather than one of them picked.
    names = header if len(header) == len(raw.columns) else [str(c) for c in raw.columns]
    raw.columns = pd.RangeIndex(len(raw.columns))
    return raw, names, lines, label, header_line


def _record_lines(
    text: str, delimiter: str, first_data: int, rows: int, fallback: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    starts: list[int] = []
    try:
        next(reader, None)
        previous = reader.line_num
        for _ in reader:
            starts.append(first_data + previous - 1)
            previous = reader.line_num
    except csv.Error:
        return fallback
    if len(starts) != rows:
        return fallback
    return np.asarray(starts, dtype=np.int64)
