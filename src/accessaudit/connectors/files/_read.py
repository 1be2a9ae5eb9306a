"""Reading a source file (CSV or XLSX) into our column names, with the line of every row.

Each file protocol reads ``settings.path`` (CSV, or XLSX by extension, read with openpyxl in
read-only mode), maps the file's headers onto our column names (the manifest's ``[columns]``
table, overridden per source by ``columns = { ours = "Their Header" }``) and keeps, for every
row, the real line it came from (``hr.csv:14``; the header is line 1, a PowerShell ``#TYPE``
line moves data to line 3; ``hr.xlsx!People:7`` for a workbook). Validation is not done here:
the protocols hand rows and their origins to :meth:`accessaudit.model.TableSchema.conform`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import load_workbook

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.errors import ConfigError, SourceError

__all__ = [
    "Rows",
    "constant",
    "counts",
    "examples",
    "file_error",
    "read_rows",
    "translate",
    "word_map",
]

_EXAMPLES = 5
_TOKENIZE_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class Rows:
    """A source file's rows under our column names (stripped text, empty → NA), the line each
    came from, the file's label for messages and the source's header for each column."""

    frame: pd.DataFrame
    lines: npt.NDArray[np.int64]
    label: str
    headers: Mapping[str, str]

    def origin(self) -> pd.Series:
        """``"file:line"`` for every row, indexed like the frame."""
        return f"{self.label}:" + pd.Series(self.lines, index=self.frame.index).astype(str)


def file_error(source: str, location: str, problem: str) -> SourceError:
    """A problem with the file as a whole (not one row), in the layout of row failures."""
    table = pd.DataFrame(
        {"location": [location], "column": [""], "value": [""], "problem": [problem]}
    )
    return SourceError(problem, source=source, location=location, failures=table)


def _source_path(settings: SourceSettings) -> Path:
    if settings.path is None:
        raise ConfigError(f"source {settings.name!r} ({settings.connector}) needs 'path'")
    path = Path(settings.path).expanduser()
    return path if path.is_absolute() else settings.base_dir / path


def _column_map(
    settings: SourceSettings, manifest: Manifest, defaults: Mapping[str, str]
) -> dict[str, str]:
    """Our column name → the file's header: defaults, the manifest, then the source."""
    mapping = dict(defaults)
    for where, table in (
        (f"connector manifest {manifest.file}: [columns]", manifest.section("columns")),
        (f"source {settings.name!r}: columns", settings.option("columns", {})),
    ):
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where} must be a table of our column = their header")
        for ours, theirs in table.items():
            if ours not in defaults:
                raise ConfigError(
                    f"{where}: {ours!r} is not one of our columns ({', '.join(defaults)})"
                )
            if not isinstance(theirs, str) or not theirs.strip():
                raise ConfigError(f"{where}: {ours} must name a header, got {theirs!r}")
            mapping[ours] = theirs.strip()
    return mapping


def read_rows(
    settings: SourceSettings,
    manifest: Manifest,
    defaults: Mapping[str, str],
    required: Iterable[str],
) -> Rows:
    """Read the source file into our columns (stripped strings, empty → NA).

    ``defaults`` maps our column names to the headers expected when neither the manifest nor
    the source renames them; ``required`` columns must be present in the header. Blank rows
    are skipped; a file with a header and no data is an error.
    """
    path = _source_path(settings)
    mapping = _column_map(settings, manifest, defaults)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "file not found"
        raise file_error(settings.name, str(path), problem)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw, lines, label, header_line = _read_xlsx(path, settings)
    else:
        raw, lines, label, header_line = _read_csv(path, settings)
    headers = {str(h).strip().lower(): h for h in raw.columns}
    missing = [ours for ours in required if mapping[ours].lower() not in headers]
    if missing:
        wanted = ", ".join(f"{mapping[m]!r} (for {m})" for m in missing)
        found = ", ".join(repr(str(h).strip()) for h in raw.columns)
        raise file_error(
            settings.name,
            f"{label}:{header_line}",
            f"missing column {wanted}; columns found: {found}. Rename the header or map it "
            f'with columns = {{ {missing[0]} = "Their Header" }} in the source',
        )
    frame = pd.DataFrame(index=raw.index)
    for ours, theirs in mapping.items():
        key = theirs.lower()
        if key in headers:
            values = raw[headers[key]].astype("str").str.strip()
            frame[ours] = values.mask(values == "")
        else:
            frame[ours] = pd.Series(pd.NA, index=raw.index, dtype="str")
    blank = frame.isna().all(axis=1).to_numpy()
    frame = frame.loc[~blank].reset_index(drop=True)
    lines = lines[~blank]
    if frame.empty:
        raise file_error(settings.name, f"{label}:{header_line}", "has a header but no data rows")
    return Rows(frame=frame, lines=lines, label=label, headers=mapping)


def _decode(data: bytes, encoding: str | None, label: str, source: str) -> str:
    if encoding is None:
        # PowerShell's Out-File and Excel's "Unicode text" write UTF-16 with a BOM.
        utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
        encoding = "utf-16" if utf16 else "utf-8-sig"
    try:
        return data.decode(encoding)
    except LookupError as error:
        raise ConfigError(f"source {source!r}: unknown encoding {encoding!r}") from error
    except UnicodeDecodeError as error:
        bad_lines = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as line_error:
                byte = line[line_error.start]
                bad_lines.append((f"{label}:{number}", f"0x{byte:02x}"))
        if not bad_lines:  # a multi-byte sequence split by a newline
            line_no = data.count(b"\n", 0, error.start) + 1
            bad_lines = [(f"{label}:{line_no}", f"0x{data[error.start]:02x}")]
        problem = (
            f"is not valid {encoding.removesuffix('-sig').upper()} (byte {bad_lines[0][1]}); "
            'save the file as UTF-8, or set encoding = "cp1252" (or the file\'s real '
            "encoding) for this source"
        )
        table = pd.DataFrame(
            {
                "location": [b[0] for b in bad_lines],
                "column": "",
                "value": [b[1] for b in bad_lines],
                "problem": f"is not valid {encoding.removesuffix('-sig').upper()}",
            }
        )
        raise SourceError(
            f"line {problem}", source=source, location=bad_lines[0][0], failures=table
        ) from error


def _read_csv(
    path: Path, settings: SourceSettings
) -> tuple[pd.DataFrame, npt.NDArray[np.int64], str, int]:
    label = path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise file_error(settings.name, str(path), f"cannot be read: {error}") from error
    encoding = settings.option("encoding")
    text = _decode(data, str(encoding) if encoding else None, label, settings.name)
    text = text.removeprefix("\ufeff")
    header_line = 1
    if text.startswith("#TYPE"):
        # Export-Csv without -NoTypeInformation writes the .NET type name first.
        text = text.partition("\n")[2]
        header_line = 2
    if not text or text.isspace():  # unlike strip(), stops at the first visible character
        raise file_error(settings.name, f"{label}:{header_line}", "the file is empty")
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
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
            f"has {seen} fields where the header has {expected} (an unquoted comma?)",
        ) from error
    except pd.errors.EmptyDataError as error:
        raise file_error(settings.name, f"{label}:{header_line}", "the file is empty") from error
    first_data = header_line + 1
    lines = np.arange(first_data, first_data + len(raw), dtype=np.int64)
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical - 1 != len(raw):
        # Quoted values spanning lines: ask the csv module where each record starts.
        lines = _record_lines(text, first_data, len(raw), lines)
    return raw, lines, label, header_line


def _record_lines(
    text: str, first_data: int, rows: int, fallback: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    starts: list[int] = []
    previous = reader.line_num
    for _ in reader:
        starts.append(first_data + previous - 1)
        previous = reader.line_num
    if len(starts) != rows:
        return fallback
    return np.asarray(starts, dtype=np.int64)


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


def _read_xlsx(
    path: Path, settings: SourceSettings
) -> tuple[pd.DataFrame, npt.NDArray[np.int64], str, int]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as error:
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
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None or all(c is None for c in header_cells):
            raise file_error(settings.name, f"{label}:1", "the sheet is empty")
        header = [_cell_text(c) or f"column {i + 1}" for i, c in enumerate(header_cells)]
        width = len(header)
        records = [[_cell_text(v) for v in (tuple(row) + (None,) * width)[:width]] for row in rows]
    finally:
        workbook.close()
    raw = pd.DataFrame(records, columns=header, dtype=object).fillna("")
    return raw, np.arange(2, 2 + len(raw), dtype=np.int64), label, 1


def word_map(
    settings: SourceSettings,
    manifest: Manifest,
    key: str,
    allowed: tuple[str, ...],
    builtin: Mapping[str, str] = MappingProxyType({}),
) -> dict[str, str]:
    """Their word (lower-case) → ours: our own words, built-ins, the manifest's ``[key]``
    table, then the source's ``key`` option. A target outside ``allowed`` is a ConfigError."""
    lookup = {word: word for word in allowed}
    lookup.update(builtin)
    for where, table in (
        (f"connector manifest {manifest.file}: [{key}]", manifest.section(key)),
        (f"source {settings.name!r}: {key}", settings.option(key, {})),
    ):
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where} must be a table of their word = our word")
        for theirs, ours in table.items():
            target = str(ours).strip().lower()
            if target not in allowed:
                raise ConfigError(
                    f"{where}: {theirs!r} maps to {ours!r}, which is not one of "
                    f"{', '.join(allowed)}"
                )
            lookup[str(theirs).strip().lower()] = target
    return lookup


def translate(values: pd.Series, lookup: Mapping[str, str]) -> pd.Series:
    """Their words as ours (case-insensitive); a word the lookup lacks stays as written, so
    the table schema reports it with its line."""
    mapped = values.str.lower().map(dict(lookup))
    return mapped.fillna(values).astype("str")


def constant(value: str | None, length: int) -> pd.Categorical:
    """One value (or none) repeated ``length`` times, as a categorical: a per-source setting
    carried on every row costs one byte a row."""
    categories = pd.Index([] if value is None else [value], dtype=object)
    codes = np.full(length, -1 if value is None else 0, dtype=np.int8)
    return pd.Categorical.from_codes(codes, categories=categories)


def counts(values: pd.Series) -> dict[str, int]:
    """How often each value occurs, sorted by value (for reports)."""
    return {str(k): int(v) for k, v in values.value_counts(dropna=True).sort_index().items()}


def examples(values: pd.Series) -> list[str]:
    """The first few distinct values (for reports)."""
    return [str(v) for v in values.dropna().unique()[:_EXAMPLES]]
