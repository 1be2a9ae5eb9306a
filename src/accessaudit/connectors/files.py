"""File connectors: the HR roster, the data inventory, NTFS ACL exports and generic grants.

Each protocol reads ``settings.path`` (CSV, or XLSX by extension, read with openpyxl in
read-only mode), maps the file's headers onto our column names (the manifest's ``[columns]``
table, overridden per source by ``columns = { ours = "Their Header" }``), and hands its rows to
:meth:`accessaudit.model.TableSchema.conform`. Every problem names the file and the real line
(``hr.csv:14``; the header is line 1, a PowerShell ``#TYPE`` line moves data to line 3;
``hr.xlsx!People:7`` for a workbook) and all bad rows are listed in ``SourceError.failures``.

Resource ids
------------
* An inventory row gets ``resource_id = "{inventory source}:{resource}"`` (the source's
  configured name, then the ``resource`` column as written). Names are unique per inventory.
* ``ntfs-acl`` never invents ids for inventoried data: each ACL path belongs to the inventory
  resource whose ``path`` is the longest prefix of it (compared case-insensitively, ``/`` and
  ``\\`` alike, trailing separators and the PowerShell provider prefix
  ``Microsoft.PowerShell.Core\\FileSystem::`` ignored). Paths no inventory entry covers are
  grouped per top-level share into a non-inventoried resource
  ``"{acl source}:\\\\server\\share"`` (lower-case; for local paths ``"{acl source}:d:\\top"``),
  so ``unclassified-resource`` can fire on it.
* ``grants-csv`` names resources by their inventory ``resource_id`` or ``name``
  (case-insensitive); anything else becomes a non-inventoried resource
  ``"{grants source}:{resource}"``.

NTFS rights
-----------
Named rights and numeric masks are both turned into an access mask, then into our ordered
right: any of WRITE_DAC (ChangePermissions), WRITE_OWNER (TakeOwnership) or GENERIC_ALL →
``admin`` (each lets the holder rewrite the ACL, so FullControl is admin too); any write, append,
delete or GENERIC_WRITE bit → ``write``; any read, list, execute/traverse, read-attribute or
GENERIC_READ / GENERIC_EXECUTE bit → ``read``. An NTFS ACE never yields ``owner``: ownership is
the folder's ``Owner`` field, not an ACE. An ACE with only SYNCHRONIZE (or no known bit) gives
no data right; it is dropped and counted in the report.

>>> right_from_ntfs_rights("ReadAndExecute, Synchronize")
'read'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from openpyxl import load_workbook

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import RIGHTS, SENSITIVITIES, TABLES, utc_timestamp

__all__ = [
    "HR_COLUMNS",
    "collect_grants",
    "collect_hr",
    "collect_inventory",
    "collect_ntfs_acl",
    "normalise_paths",
    "right_from_ntfs_rights",
]

logger = logging.getLogger("accessaudit.connectors.files")

_STATUSES = ("active", "leave", "terminated")
_WORKER_TYPES = ("employee", "contractor", "vendor")
_RESOURCE_TYPES = ("share", "folder", "database", "site", "bucket", "app", "other")
_TRUE_WORDS = frozenset({"true", "yes", "y", "1", "t"})
_FALSE_WORDS = frozenset({"false", "no", "n", "0", "f"})
_EXAMPLES = 5
_MAX_IN_MESSAGE = 3
_MAX_IDENTITIES_IN_REPORT = 100

#: The HR export's default columns (DESIGN.md); ``columns`` in the config renames them.
HR_COLUMNS = (
    "employee_id",
    "name",
    "email",
    "department",
    "title",
    "manager_id",
    "status",
    "worker_type",
    "start_date",
    "end_date",
)
_INVENTORY_COLUMNS = (
    "resource",
    "type",
    "system",
    "path",
    "owner",
    "sensitivity",
    "data_categories",
    "retention_days",
    "last_modified",
    "third_parties",
)
#: Our names for the columns of a PowerShell Get-Acl export, and their headers there.
_ACL_COLUMNS = MappingProxyType(
    {
        "path": "Path",
        "identity": "IdentityReference",
        "rights": "FileSystemRights",
        "access_type": "AccessControlType",
        "inherited": "IsInherited",
    }
)
_GRANT_COLUMNS = ("principal", "resource", "right", "inherited", "deny")

#: .NET FileSystemRights names (and the Win32 generic rights) as access-mask bits.
_NTFS_RIGHT_BITS = MappingProxyType(
    {
        "listdirectory": 0x1,
        "readdata": 0x1,
        "createfiles": 0x2,
        "writedata": 0x2,
        "appenddata": 0x4,
        "createdirectories": 0x4,
        "readextendedattributes": 0x8,
        "writeextendedattributes": 0x10,
        "executefile": 0x20,
        "traverse": 0x20,
        "deletesubdirectoriesandfiles": 0x40,
        "readattributes": 0x80,
        "writeattributes": 0x100,
        "write": 0x116,
        "delete": 0x10000,
        "readpermissions": 0x20000,
        "read": 0x20089,
        "readandexecute": 0x200A9,
        "modify": 0x301BF,
        "changepermissions": 0x40000,
        "takeownership": 0x80000,
        "synchronize": 0x100000,
        "fullcontrol": 0x1F01FF,
        "generic_all": 0x10000000,
        "genericall": 0x10000000,
        "generic_execute": 0x20000000,
        "genericexecute": 0x20000000,
        "generic_write": 0x40000000,
        "genericwrite": 0x40000000,
        "generic_read": 0x80000000,
        "genericread": 0x80000000,
    }
)
_ADMIN_BITS = 0x40000 | 0x80000 | 0x10000000
_WRITE_BITS = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000000
_READ_BITS = 0x1 | 0x8 | 0x20 | 0x80 | 0x20000 | 0x20000000 | 0x80000000

#: Words grants-csv accepts for our rights, besides the rights themselves.
_RIGHT_SYNONYMS = MappingProxyType(
    {
        "r": "read",
        "ro": "read",
        "read-only": "read",
        "readonly": "read",
        "reader": "read",
        "select": "read",
        "view": "read",
        "viewer": "read",
        "usage": "read",
        "w": "write",
        "rw": "write",
        "read-write": "write",
        "readwrite": "write",
        "writer": "write",
        "edit": "write",
        "editor": "write",
        "contribute": "write",
        "contributor": "write",
        "insert": "write",
        "update": "write",
        "delete": "write",
        "modify": "write",
        "change": "write",
        "full": "admin",
        "fullcontrol": "admin",
        "full control": "admin",
        "administrator": "admin",
        "manage": "admin",
        "all": "admin",
        "all privileges": "admin",
        "dbo": "owner",
        "db_owner": "owner",
    }
)

_PROVIDER_PREFIX = re.compile(r"^(?:Microsoft\.PowerShell\.Core\\)?FileSystem::", re.IGNORECASE)
_LONG_UNC_PREFIX = re.compile(r"^\\\\\?\\UNC\\", re.IGNORECASE)
_LONG_PREFIX = re.compile(r"^\\\\\?\\", re.IGNORECASE)
_TOKENIZE_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Rows:
    """A source file's rows under our column names, with the line each came from."""

    frame: pd.DataFrame
    lines: npt.NDArray[np.int64]
    label: str
    source: str

    def origin(self, mask: pd.Series | None = None) -> pd.Series:
        """``"file:line"`` for every row (or the rows in ``mask``), indexed like the frame."""
        lines = pd.Series(self.lines, index=self.frame.index)
        if mask is not None:
            lines = lines[mask.to_numpy(dtype=bool)]
        return f"{self.label}:" + lines.astype(str)

    def failures(self, mask: pd.Series, column: str, problem: str | pd.Series) -> pd.DataFrame:
        """One failure row per row in ``mask``, in the layout of ``SourceError.failures``."""
        mask = mask.fillna(False).astype(bool)
        values = self.frame.loc[mask, column] if column in self.frame else pd.Series()
        problems = problem[mask] if isinstance(problem, pd.Series) else problem
        return pd.DataFrame(
            {
                "location": self.origin(mask).to_numpy(),
                "column": column,
                "value": values.astype(object).where(values.notna(), "").astype(str).to_numpy(),
                "problem": np.asarray(problems, dtype=object)
                if isinstance(problems, pd.Series)
                else problems,
            }
        )


def _source_error(failures: pd.DataFrame, source: str) -> SourceError:
    """One SourceError naming the first bad rows and carrying all of them."""
    first = failures.iloc[0]
    parts = [_failure_text(first)]
    parts += [
        f"{r.location}: {_failure_text(r)}"
        for r in failures.iloc[1:_MAX_IN_MESSAGE].itertuples(index=False)
    ]
    more = len(failures) - _MAX_IN_MESSAGE
    if more > 0:
        parts.append(f"and {more} more (see .failures)")
    return SourceError(
        "; ".join(parts),
        source=source,
        location=str(first["location"]),
        failures=failures.reset_index(drop=True),
    )


def _failure_text(row: Any) -> str:
    value = f" {row.value!r}" if row.value != "" else ""
    return f"{row.column}{value} {row.problem}"


def _raise_collected(failures: Iterable[pd.DataFrame], source: str) -> None:
    frames = [f for f in failures if len(f)]
    if frames:
        table = pd.concat(frames, ignore_index=True)
        # report in file order, whichever check found the problem
        line = pd.to_numeric(table["location"].str.extract(r":(\d+)$", expand=False))
        table = table.iloc[np.argsort(line.to_numpy(), kind="stable")]
        raise _source_error(table, source)


def _file_error(source: str, location: str, column: str, problem: str) -> SourceError:
    table = pd.DataFrame(
        {"location": [location], "column": [column], "value": [""], "problem": [problem]}
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


def _read(
    settings: SourceSettings,
    manifest: Manifest,
    defaults: Mapping[str, str],
    required: Iterable[str],
) -> _Rows:
    """Read the source file into our columns (stripped strings, empty → NA)."""
    path = _source_path(settings)
    mapping = _column_map(settings, manifest, defaults)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "file not found"
        raise _file_error(settings.name, str(path), "", problem)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw, lines, label, header_line = _read_xlsx(path, settings)
    else:
        raw, lines, label, header_line = _read_csv(path, settings)
    headers = {str(h).strip().lower(): h for h in raw.columns}
    missing = [ours for ours in required if mapping[ours].lower() not in headers]
    if missing:
        wanted = ", ".join(f"{mapping[m]!r} (for {m})" for m in missing)
        found = ", ".join(repr(str(h).strip()) for h in raw.columns)
        raise _file_error(
            settings.name,
            f"{label}:{header_line}",
            ",".join(missing),
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
        raise _file_error(
            settings.name, f"{label}:{header_line}", "", "has a header but no data rows"
        )
    return _Rows(frame=frame, lines=lines, label=label, source=settings.name)


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
        raise _file_error(settings.name, str(path), "", f"cannot be read: {error}") from error
    encoding = settings.option("encoding")
    text = _decode(data, str(encoding) if encoding else None, label, settings.name)
    text = text.removeprefix("\ufeff")
    header_line = 1
    if text.startswith("#TYPE"):
        # Export-Csv without -NoTypeInformation writes the .NET type name first.
        text = text.partition("\n")[2]
        header_line = 2
    if not text or text.isspace():  # unlike strip(), stops at the first visible character
        raise _file_error(settings.name, f"{label}:{header_line}", "", "the file is empty")
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
            raise _file_error(
                settings.name, label, "", f"is not a well-formed CSV file: {error}"
            ) from error
        expected, line, seen = (int(g) for g in found.groups())
        raise _file_error(
            settings.name,
            f"{label}:{line + header_line - 1}",
            "",
            f"has {seen} fields where the header has {expected} (an unquoted comma?)",
        ) from error
    except pd.errors.EmptyDataError as error:
        raise _file_error(
            settings.name, f"{label}:{header_line}", "", "the file is empty"
        ) from error
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
        raise _file_error(
            settings.name, str(path), "", f"is not a readable XLSX workbook: {error}"
        ) from error
    try:
        sheet_name = settings.option("sheet")
        if sheet_name:
            if sheet_name not in workbook.sheetnames:
                raise _file_error(
                    settings.name,
                    path.name,
                    "",
                    f"has no sheet {sheet_name!r}; sheets: {', '.join(workbook.sheetnames)}",
                )
            sheet = workbook[sheet_name]
        else:
            sheet = workbook.worksheets[0]
        label = f"{path.name}!{sheet.title}"
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None or all(c is None for c in header_cells):
            raise _file_error(settings.name, f"{label}:1", "", "the sheet is empty")
        header = [_cell_text(c) or f"column {i + 1}" for i, c in enumerate(header_cells)]
        width = len(header)
        records = [[_cell_text(v) for v in (tuple(row) + (None,) * width)[:width]] for row in rows]
    finally:
        workbook.close()
    raw = pd.DataFrame(records, columns=header, dtype=object).fillna("")
    return raw, np.arange(2, 2 + len(raw), dtype=np.int64), label, 1


# ----------------------------------------------------------------------------- helpers


def _word_map(
    settings: SourceSettings,
    manifest: Manifest,
    key: str,
    allowed: tuple[str, ...],
    builtin: Mapping[str, str] = MappingProxyType({}),
) -> dict[str, str]:
    """Their word (lower-case) → ours: our own words, built-ins, the manifest, the source."""
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


def _map_words(values: pd.Series, lookup: Mapping[str, str]) -> tuple[pd.Series, pd.Series]:
    """Map words case-insensitively; return the mapped values and a mask of unknown words."""
    mapped = values.str.lower().map(dict(lookup)).astype("str")
    return mapped, mapped.isna() & values.notna()


def _parse_dates(
    rows: _Rows, column: str, date_format: str | None
) -> tuple[pd.Series, pd.DataFrame]:
    values = rows.frame[column]
    parsed = pd.to_datetime(
        values, format=date_format or "ISO8601", errors="coerce", utc=True
    ).astype("datetime64[ns, UTC]")
    bad = parsed.isna() & values.notna()
    problem = (
        f"does not match date_format {date_format!r}"
        if date_format
        else "is not an ISO 8601 date (YYYY-MM-DD); set date_format for this source"
    )
    return parsed, rows.failures(bad, column, problem)


def _required_blank(rows: _Rows, columns: Iterable[str]) -> list[pd.DataFrame]:
    return [rows.failures(rows.frame[c].isna(), c, "is empty but required") for c in columns]


def _duplicates(rows: _Rows, column: str, what: str) -> pd.DataFrame:
    """Every row whose ``column`` repeats another's, naming all lines that share it."""
    keys = rows.frame[column]
    mask = keys.duplicated(keep=False) & keys.notna()
    if not mask.any():
        return rows.failures(mask, column, "")
    origins = rows.origin(mask)
    together = origins.groupby(keys[mask]).agg(", ".join)
    problem = ("is a duplicate " + what + " (lines " + keys[mask].map(together) + ")").reindex(
        keys.index
    )
    return rows.failures(mask, column, problem)


def _truth(rows: _Rows, column: str, default: bool) -> tuple[pd.Series, pd.DataFrame]:
    words = rows.frame[column].str.lower()
    values = pd.Series(default, index=words.index, dtype=bool)
    values[words.isin(_TRUE_WORDS).to_numpy(dtype=bool)] = True
    values[words.isin(_FALSE_WORDS).to_numpy(dtype=bool)] = False
    bad = words.notna() & ~words.isin(_TRUE_WORDS | _FALSE_WORDS)
    return values, rows.failures(bad, column, "is not true/false")


def _as_of(context: CollectContext) -> pd.Timestamp:
    return utc_timestamp(context.as_of)


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts(dropna=True).sort_index().items()}


def _examples(values: pd.Series) -> list[str]:
    return [str(v) for v in values.dropna().unique()[:_EXAMPLES]]


def _str(values: pd.Series | str | None, index: pd.Index) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype("str")
    return pd.Series(values, index=index, dtype="str")


def _known_sources(context: CollectContext) -> set[str]:
    return {result.source for result in context.earlier.values()}


def _directory(settings: SourceSettings, context: CollectContext) -> str | None:
    directory = settings.option("directory")
    if directory in (None, ""):
        return None
    if str(directory) not in _known_sources(context):
        raise ConfigError(
            f"source {settings.name!r}: directory {directory!r} is not a source collected "
            f"before it (known: {', '.join(sorted(_known_sources(context))) or 'none'})"
        )
    return str(directory)


# ----------------------------------------------------------------------------- hr-csv


def collect_hr(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read an HR roster (CSV or XLSX) into the ``people`` table.

    Options: ``columns`` (our name → their header), ``status_map`` and ``worker_type_map``
    (their word → ours, case-insensitive), ``default_worker_type`` (for blank cells, default
    ``employee``), ``date_format`` (strftime; default ISO 8601 only), ``encoding``, ``sheet``.

    >>> # [[sources]] name = "hr"  connector = "hr-csv"  path = "hr.csv"
    >>> # status_map = { "Withdrawn" = "terminated", "LOA" = "leave" }
    """
    rows = _read(settings, manifest, {c: c for c in HR_COLUMNS}, ("employee_id", "name", "status"))
    frame = rows.frame
    failures = _required_blank(rows, ("employee_id", "name", "status"))

    status, unknown = _map_words(
        frame["status"], _word_map(settings, manifest, "status_map", _STATUSES)
    )
    failures.append(
        rows.failures(
            unknown,
            "status",
            f"is not a known status word ({', '.join(_STATUSES)}); map it in "
            '[sources.status_map], e.g. status_map = { "' + frame["status"] + '" = "terminated" }',
        )
    )
    default_worker = str(settings.option("default_worker_type", "employee")).lower()
    if default_worker not in _WORKER_TYPES:
        raise ConfigError(
            f"source {settings.name!r}: default_worker_type {default_worker!r} is not one of "
            f"{', '.join(_WORKER_TYPES)}"
        )
    worker_type, unknown = _map_words(
        frame["worker_type"], _word_map(settings, manifest, "worker_type_map", _WORKER_TYPES)
    )
    failures.append(
        rows.failures(
            unknown,
            "worker_type",
            f"is not a known worker type ({', '.join(_WORKER_TYPES)}); map it in "
            "[sources.worker_type_map]",
        )
    )
    defaulted_worker = int(frame["worker_type"].isna().sum())
    worker_type = worker_type.fillna(default_worker)

    date_format = settings.option("date_format")
    start, bad = _parse_dates(rows, "start_date", date_format)
    failures.append(bad)
    end, bad = _parse_dates(rows, "end_date", date_format)
    failures.append(bad)
    failures.append(_duplicates(rows, "employee_id", "employee id"))
    _raise_collected(failures, settings.name)

    people = pd.DataFrame(
        {
            "person_id": frame["employee_id"],
            "name": frame["name"],
            "email": frame["email"].str.lower(),
            "department": frame["department"],
            "title": frame["title"],
            "manager_id": frame["manager_id"],
            "status": status,
            "worker_type": worker_type,
            "start_date": start,
            "end_date": end,
            "system": _str(settings.name, frame.index),
        }
    )
    people = TABLES["people"].conform(people, source=settings.name, origin=rows.origin())

    unknown_manager = people["manager_id"].notna() & ~people["manager_id"].isin(people["person_id"])
    active_past_end = (people["status"] == "active") & (people["end_date"] < _as_of(context))
    warnings = []
    if active_past_end.any():
        warnings.append(
            f"{int(active_past_end.sum())} people active with a past end date (kept as HR "
            f"says; e.g. {', '.join(_examples(people.loc[active_past_end, 'person_id']))})"
        )
    if unknown_manager.any():
        warnings.append(
            f"{int(unknown_manager.sum())} people name a manager_id that is not in the file"
        )
    report: dict[str, Any] = {
        "file": rows.label,
        "rows": len(people),
        "by_status": _counts(people["status"].astype("str")),
        "by_worker_type": _counts(people["worker_type"].astype("str")),
        "worker_type_defaulted": defaulted_worker,
        "unknown_managers": {
            "count": int(unknown_manager.sum()),
            "examples": _examples(people.loc[unknown_manager, "manager_id"]),
        },
        "active_with_past_end_date": int(active_past_end.sum()),
        "warnings": warnings,
    }
    logger.info("%s: %d people from %s", settings.name, len(people), rows.label)
    return SourceResult(settings.name, manifest.connector, {"people": people}, report)


# ----------------------------------------------------------------------------- inventory


def _categories(values: pd.Series) -> pd.Series:
    """``"PII, phi;pii "`` → ``"phi;pii"``: lower-case, trimmed, unique, sorted, ';'-joined."""
    parts = values.str.lower().str.split(r"[;,]", regex=True).explode().astype("str").str.strip()
    parts = parts[parts.notna() & (parts != "")]
    frame = parts.rename("category").reset_index()
    frame = frame.drop_duplicates().sort_values(["index", "category"])
    joined = frame.groupby("index")["category"].agg(";".join)
    return joined.reindex(values.index).astype("str")


def _resolve_owners(owners: pd.Series, people: pd.DataFrame) -> pd.Series:
    """An owner written as an employee id or an email → person_id (NA when nobody)."""
    ids = people["person_id"].astype("str")
    by_id = pd.Series(ids.to_numpy(), index=ids.to_numpy())
    by_id = by_id[~by_id.index.duplicated()]
    emails = people["email"].astype("str").str.lower()
    by_email = pd.Series(ids.to_numpy(), index=emails.to_numpy())
    by_email = by_email[by_email.index.notna() & ~by_email.index.duplicated()]
    resolved = owners.map(by_id)
    return resolved.fillna(owners.str.lower().map(by_email)).astype("str")


def collect_inventory(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a data inventory (CSV or XLSX) into the ``resources`` table.

    ``resource_id`` is ``"{source}:{resource}"``; owners (email or employee id) resolve
    against the people collected earlier; ``data_categories`` become ``"phi;pii"``.
    Options: ``columns``, ``sensitivity_map`` (``"Highly Confidential" = "restricted"``),
    ``type_map``, ``date_format``, ``encoding``, ``sheet``.

    >>> # [[sources]] name = "inventory"  connector = "data-inventory"  path = "inv.xlsx"
    """
    rows = _read(settings, manifest, {c: c for c in _INVENTORY_COLUMNS}, ("resource",))
    frame = rows.frame
    failures = _required_blank(rows, ("resource",))

    sensitivity, unknown = _map_words(
        frame["sensitivity"], _word_map(settings, manifest, "sensitivity_map", SENSITIVITIES)
    )
    failures.append(
        rows.failures(
            unknown,
            "sensitivity",
            f"is not a known sensitivity ({', '.join(SENSITIVITIES)}); map it in "
            "[sources.sensitivity_map]",
        )
    )
    kind, unknown = _map_words(
        frame["type"], _word_map(settings, manifest, "type_map", _RESOURCE_TYPES)
    )
    failures.append(
        rows.failures(
            unknown,
            "type",
            f"is not a known resource type ({', '.join(_RESOURCE_TYPES)}); map it in "
            "[sources.type_map]",
        )
    )
    is_unc = frame["path"].str.startswith("\\\\").fillna(False).astype(bool)
    kind = kind.fillna(pd.Series(np.where(is_unc, "share", "other"), index=frame.index))
    last_modified, bad = _parse_dates(rows, "last_modified", settings.option("date_format"))
    failures.append(bad)
    failures.append(_duplicates(rows, "resource", "resource name"))
    _raise_collected(failures, settings.name)

    people = context.table("people")
    owner_id = _resolve_owners(frame["owner"], people)
    resources = pd.DataFrame(
        {
            "resource_id": settings.name + ":" + frame["resource"],
            "system": frame["system"].fillna(settings.name),
            "name": frame["resource"],
            "type": kind,
            "path": frame["path"],
            "owner": frame["owner"],
            "owner_id": owner_id,
            "sensitivity": sensitivity,
            "data_categories": _categories(frame["data_categories"]),
            "retention_days": frame["retention_days"],
            "last_modified": last_modified,
            "third_parties": frame["third_parties"],
            "inventoried": True,
        }
    )
    resources = TABLES["resources"].conform(resources, source=settings.name, origin=rows.origin())
    unknown_owner = resources["owner"].notna() & resources["owner_id"].isna()
    warnings = []
    if people.empty and resources["owner"].notna().any():
        warnings.append("no HR source was collected before the inventory; owners not resolved")
    report: dict[str, Any] = {
        "file": rows.label,
        "rows": len(resources),
        "by_type": _counts(resources["type"].astype("str")),
        "by_sensitivity": _counts(resources["sensitivity"].astype("str")),
        "without_owner": int(resources["owner"].isna().sum()),
        "unknown_owners": {
            "count": int(unknown_owner.sum()),
            "examples": _examples(resources.loc[unknown_owner, "owner"]),
        },
        "warnings": warnings,
    }
    logger.info("%s: %d resources from %s", settings.name, len(resources), rows.label)
    return SourceResult(settings.name, manifest.connector, {"resources": resources}, report)


# ----------------------------------------------------------------------------- ntfs-acl


def normalise_paths(paths: pd.Series) -> pd.Series:
    """Paths as compared: provider prefix and ``\\\\?\\`` stripped, ``/`` → ``\\``,
    lower-case, no trailing separator.

    >>> normalise_paths(pd.Series(["//FS01/Finance/"])).tolist()
    ['\\\\\\\\fs01\\\\finance']
    """
    return (
        paths.astype("str")
        .str.strip()
        .str.replace(_PROVIDER_PREFIX, "", regex=True)
        .str.replace("/", "\\", regex=False)
        .str.replace(_LONG_UNC_PREFIX, r"\\\\", regex=True)
        .str.replace(_LONG_PREFIX, "", regex=True)
        .str.lower()
        .str.rstrip("\\")
    )


def right_from_ntfs_rights(rights: str) -> str | None:
    """Our right for a FileSystemRights value (names or a numeric mask); None for no data
    right (Synchronize alone). Raises ValueError on a word that is not a right.

    >>> right_from_ntfs_rights("Modify, Synchronize"), right_from_ntfs_rights("268435456")
    ('write', 'admin')
    """
    mask = 0
    for part in rights.split(","):
        word = part.strip()
        if not word:
            continue
        if re.fullmatch(r"-?\d+", word):
            mask |= int(word) & 0xFFFFFFFF
        elif re.fullmatch(r"0x[0-9a-fA-F]+", word):
            mask |= int(word, 16)
        else:
            bits = _NTFS_RIGHT_BITS.get(word.lower().replace(" ", ""))
            if bits is None:
                raise ValueError(word)
            mask |= bits
    if mask & _ADMIN_BITS:
        return "admin"
    if mask & _WRITE_BITS:
        return "write"
    if mask & _READ_BITS:
        return "read"
    return None


def _share_of(normalised: pd.Series) -> pd.Series:
    r"""The top-level share a path lives in: ``\\server\share``, or ``d:\top`` for local."""
    unc = normalised.str.extract(r"^(\\\\[^\\]+(?:\\[^\\]+)?)", expand=False)
    local = normalised.str.extract(r"^([^\\]+(?:\\[^\\]+)?)", expand=False)
    return unc.fillna(local).fillna(normalised).astype("str")


def _longest_prefix(paths: pd.Series, inventory: pd.DataFrame) -> pd.Series:
    """For each normalised path, the resource_id of the inventory entry with the longest
    path that is a whole-component prefix of it (NA when none).

    One vectorised pass per distinct inventory depth, not per path or per entry.
    """
    result = pd.Series(pd.NA, index=paths.index, dtype="str")
    depth = inventory["norm"].str.count(r"\\") + 1
    for level in sorted(depth.unique()):
        entries = inventory[depth == level]
        lookup = pd.Series(entries["resource_id"].to_numpy(), index=entries["norm"].to_numpy())
        pattern = r"^((?:[^\\]*\\){" + str(int(level) - 1) + r"}[^\\]*)(?:\\|$)"
        prefix = paths.str.extract(pattern, expand=False)
        found = prefix.map(lookup)
        result = found.where(found.notna(), result).astype("str")
    return result


def _resolve_identities(
    identities: pd.Series, domain: str, accounts: pd.DataFrame, groups: pd.DataFrame
) -> tuple[pd.Series, pd.Series]:
    """``DOMAIN\\name`` and raw SIDs → (principal_id, principal_type); unresolved keep the raw
    identity and type ``unresolved``."""
    split = identities.str.extract(r"^([^\\]+)\\(.+)$")
    in_domain = split[0].str.lower() == domain.lower()
    names = split[1].str.lower().where(in_domain)
    sids = identities.str.upper().where(identities.str.match(r"(?i)^S-1-\d"))

    def index(frame: pd.DataFrame, key: pd.Series, id_column: str) -> pd.Series:
        table = pd.Series(frame[id_column].to_numpy(), index=key.to_numpy())
        return table[table.index.notna() & ~table.index.duplicated()]

    logins = index(accounts, accounts["login"].str.lower(), "account_id")
    account_sids = index(accounts, accounts["sid"].str.upper(), "account_id")
    group_names = index(groups, groups["name"].str.lower(), "group_id")
    group_sids = index(groups, groups["sid"].str.upper(), "group_id")

    account = names.map(logins).fillna(sids.map(account_sids))
    group = names.map(group_names).fillna(sids.map(group_sids))
    principal_type = pd.Series("unresolved", index=identities.index, dtype=object)
    principal_type[group.notna().to_numpy(dtype=bool)] = "group"
    principal_type[account.notna().to_numpy(dtype=bool)] = "account"
    principal_id = account.fillna(group).fillna(identities).astype("str")
    return principal_id, principal_type.astype("str")


def collect_ntfs_acl(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a PowerShell ``Get-Acl`` CSV export into ``grants`` (and non-inventoried
    ``resources`` for paths the inventory does not cover).

    Options: ``domain`` (the NetBIOS domain whose ``DOMAIN\\name`` identities resolve),
    ``directory`` (the source whose accounts and groups they resolve to; default every
    source collected before), ``columns``, ``encoding``.

    >>> # [[sources]] name = "files"  connector = "ntfs-acl"  path = "fs01-acl.csv"
    >>> # domain = "CORP"  directory = "corp"
    """
    domain = str(settings.required("domain"))
    directory = _directory(settings, context)
    rows = _read(settings, manifest, _ACL_COLUMNS, ("path", "identity", "rights"))
    frame = rows.frame
    failures = _required_blank(rows, ("path", "identity", "rights"))

    # Everything below works on the distinct values (a few rights words, thousands of
    # identities and folders) and maps back to the rows through integer codes.
    rights_codes, rights_uniques = pd.factorize(frame["rights"])
    rank_of_unique = np.full(len(rights_uniques), -1, dtype=np.int64)
    unknown_right = np.zeros(len(rights_uniques), dtype=bool)
    for number, word in enumerate(rights_uniques):
        try:
            right = right_from_ntfs_rights(str(word))
        except ValueError:
            unknown_right[number] = True
            continue
        if right is not None:
            rank_of_unique[number] = RIGHTS.index(right)
    rank = np.where(rights_codes >= 0, rank_of_unique[rights_codes], -1)
    bad = pd.Series((rights_codes >= 0) & unknown_right[np.maximum(rights_codes, 0)])
    failures.append(
        rows.failures(bad, "rights", "is not a FileSystemRights name or numeric mask (e.g. Modify)")
    )
    access = frame["access_type"].str.lower()
    failures.append(
        rows.failures(
            access.notna() & ~access.isin(["allow", "deny"]),
            "access_type",
            "is not Allow or Deny",
        )
    )
    deny = (access == "deny").fillna(False).to_numpy(dtype=bool)
    inherited, bad_frame = _truth(rows, "inherited", default=False)
    failures.append(bad_frame)
    _raise_collected(failures, settings.name)

    # identities → principals
    id_codes, id_uniques = pd.factorize(frame["identity"])
    identities = pd.Series(id_uniques, dtype="str")
    principal_id, principal_type = _resolve_identities(
        identities,
        domain,
        context.table("accounts", source=directory),
        context.table("groups", source=directory),
    )
    principal_codes, _ = pd.factorize(principal_id)

    # paths → resources
    path_codes, path_uniques = pd.factorize(frame["path"])
    raw_paths = pd.Series(path_uniques, dtype="str")
    shown_paths = raw_paths.str.replace(_PROVIDER_PREFIX, "", regex=True)
    normalised = normalise_paths(raw_paths)
    path_depth = normalised.str.count(r"\\").to_numpy(dtype=np.int64)
    resources = context.table("resources")
    inventory = resources[resources["inventoried"] & resources["path"].notna()]
    inventory = pd.DataFrame(
        {"resource_id": inventory["resource_id"], "norm": normalise_paths(inventory["path"])}
    )
    shadowed = inventory["norm"].duplicated()
    inventory = inventory[~shadowed & (inventory["norm"] != "")]
    covered = _longest_prefix(normalised, inventory)
    share = _share_of(normalised)
    uncovered = covered.isna()
    resource_of_path = covered.fillna(settings.name + ":" + share).astype("str")
    resource_codes, _ = pd.factorize(resource_of_path)

    # collapse: one grant per (principal, resource, deny, inherited) with the highest right,
    # and among the ACEs holding it the most specific path
    keep = rank >= 0
    row_index = np.flatnonzero(keep)
    principal = principal_codes[id_codes[keep]]
    resource = resource_codes[path_codes[keep]]
    row_deny = deny[keep]
    row_inherited = inherited.to_numpy(dtype=bool)[keep]
    row_rank = rank[keep]
    row_depth = path_depth[path_codes[keep]]
    order = np.lexsort((-row_depth, -row_rank, row_inherited, row_deny, resource, principal))
    keys = np.stack([principal, resource, row_deny, row_inherited], axis=1)[order]
    first = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        first[1:] = (keys[1:] != keys[:-1]).any(axis=1)
    chosen = row_index[order[first]]

    chosen_paths = path_codes[chosen]
    chosen_ids = id_codes[chosen]
    grants = pd.DataFrame(
        {
            "principal_id": principal_id.to_numpy()[chosen_ids],
            "principal_type": principal_type.to_numpy()[chosen_ids],
            "resource_id": resource_of_path.to_numpy()[chosen_paths],
            "right": np.asarray(RIGHTS, dtype=object)[rank[chosen]],
            "inherited": inherited.to_numpy(dtype=bool)[chosen],
            "deny": deny[chosen],
            "path": shown_paths.to_numpy()[chosen_paths],
            "system": settings.name,
        }
    )
    origin = pd.Series(f"{rows.label}:" + pd.Series(rows.lines[chosen]).astype(str))
    grants = TABLES["grants"].conform(grants, source=settings.name, origin=origin)

    new = pd.DataFrame(
        {
            "resource_id": resource_of_path[uncovered],
            "name": share[uncovered],
            "path": share[uncovered],
        }
    ).drop_duplicates("resource_id")
    new_resources = TABLES["resources"].conform(
        new.assign(
            system=settings.name,
            type=np.where(new["path"].str.startswith("\\\\"), "share", "folder"),
            inventoried=False,
        ),
        source=settings.name,
    )
    resource_id_known = set(resources["resource_id"].dropna())
    new_resources = new_resources[~new_resources["resource_id"].isin(resource_id_known)]
    new_resources = new_resources.reset_index(drop=True)

    report = _acl_report(
        rows,
        rank=rank,
        id_codes=id_codes,
        identities=identities,
        principal_type=principal_type,
        uncovered=uncovered,
        path_codes=path_codes,
        grants=grants,
    )
    report["non_inventoried_resources"] = new_resources["name"].tolist()
    if shadowed.any():
        report["warnings"].append(
            f"{int(shadowed.sum())} inventory entries share a path with an earlier one; "
            "ACLs map to the first"
        )
    logger.info("%s: %d ACEs → %d grants", settings.name, len(frame), len(grants))
    return SourceResult(
        settings.name,
        manifest.connector,
        {"grants": grants, "resources": new_resources},
        report,
    )


def _acl_report(
    rows: _Rows,
    *,
    rank: npt.NDArray[np.int64],
    id_codes: npt.NDArray[np.intp],
    identities: pd.Series,
    principal_type: pd.Series,
    uncovered: pd.Series,
    path_codes: npt.NDArray[np.intp],
    grants: pd.DataFrame,
) -> dict[str, Any]:
    aces_per_identity = np.bincount(id_codes, minlength=len(identities))
    unresolved = (principal_type == "unresolved").to_numpy()
    by_identity = (
        pd.Series(aces_per_identity[unresolved], index=identities[unresolved].to_numpy())
        .sort_values(ascending=False, kind="stable")
        .head(_MAX_IDENTITIES_IN_REPORT)
    )
    type_of_row = principal_type.to_numpy()[id_codes]
    uncovered_rows = uncovered.to_numpy(dtype=bool)[path_codes]
    warnings: list[str] = []
    if unresolved.any():
        warnings.append(
            f"{int(unresolved.sum())} identities could not be resolved and are kept as "
            f"unresolved ({int(aces_per_identity[unresolved].sum())} ACEs)"
        )
    return {
        "file": rows.label,
        "aces": len(rows.frame),
        "aces_without_data_right": int((rank < 0).sum()),
        "grants": len(grants),
        "deny_grants": int(grants["deny"].sum()),
        "aces_by_principal_type": {
            kind: int((type_of_row == kind).sum()) for kind in ("account", "group", "unresolved")
        },
        "unresolved": {
            "identities": int(unresolved.sum()),
            "aces": int(aces_per_identity[unresolved].sum()),
            "by_identity": {str(k): int(v) for k, v in by_identity.items()},
        },
        "paths": len(uncovered),
        "paths_not_in_inventory": int(uncovered.sum()),
        "aces_not_in_inventory": int(uncovered_rows.sum()),
        "warnings": warnings,
    }


# ----------------------------------------------------------------------------- grants-csv


def _candidates(keys: Iterable[tuple[pd.Series, pd.Series, str, int]]) -> pd.DataFrame:
    """A lookup table: key (lower-case) → id, type, priority (lower wins)."""
    frames = [
        pd.DataFrame(
            {"key": key.str.lower().to_numpy(), "id": ids.to_numpy(), "type": kind, "rank": rank}
        )
        for key, ids, kind, rank in keys
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[table["key"].notna()].drop_duplicates(["key", "id"])


def _resolve(names: pd.Series, candidates: pd.DataFrame) -> pd.DataFrame:
    """Match each distinct name to the best-ranked candidates; columns id, type, matches."""
    wanted = pd.DataFrame({"name": names, "key": names.str.lower()})
    merged = wanted.merge(candidates, on="key", how="left")
    best = merged.groupby("name", dropna=False)["rank"].transform("min")
    merged = merged[(merged["rank"] == best) | merged["rank"].isna()]
    return merged.groupby("name", dropna=False).agg(
        id=("id", "first"),
        type=("type", "first"),
        matches=("id", "nunique"),
        all_ids=("id", lambda ids: ", ".join(sorted(ids.dropna().astype(str)))),
    )


def collect_grants(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a generic ``principal, resource, right`` export into ``grants``.

    Principals resolve against the accounts and groups collected earlier (``account_id``,
    ``group_id``, login or group name, case-insensitive; ``directory`` narrows to one
    source); unresolvable ones are kept as ``unresolved`` and counted. Resources resolve to
    an earlier resource by ``resource_id`` or to an inventory entry by name; anything else
    becomes a non-inventoried resource ``"{source}:{resource}"`` of type ``resource_type``
    (default ``other``). Rights: read / write / admin / owner, the synonyms in
    ``_RIGHT_SYNONYMS`` (select → read, modify → write, full control → admin, dbo → owner),
    plus ``right_map``. Optional columns ``inherited`` and ``deny`` (true/false).

    >>> # [[sources]] name = "erp"  connector = "grants-csv"  path = "erp-grants.csv"
    """
    directory = _directory(settings, context)
    rows = _read(settings, manifest, {c: c for c in _GRANT_COLUMNS}, _GRANT_COLUMNS[:3])
    frame = rows.frame
    failures = _required_blank(rows, _GRANT_COLUMNS[:3])
    right, unknown = _map_words(
        frame["right"], _word_map(settings, manifest, "right_map", RIGHTS, _RIGHT_SYNONYMS)
    )
    failures.append(
        rows.failures(
            unknown,
            "right",
            f"is not a known right ({', '.join(RIGHTS)} or a synonym); map it in "
            "[sources.right_map]",
        )
    )
    inherited, bad = _truth(rows, "inherited", default=False)
    failures.append(bad)
    deny, bad = _truth(rows, "deny", default=False)
    failures.append(bad)

    accounts = context.table("accounts", source=directory)
    groups = context.table("groups", source=directory)
    principals = _resolve(
        frame["principal"].dropna().drop_duplicates(),
        _candidates(
            [
                (accounts["account_id"], accounts["account_id"], "account", 0),
                (groups["group_id"], groups["group_id"], "group", 0),
                (accounts["login"], accounts["account_id"], "account", 1),
                (groups["name"], groups["group_id"], "group", 1),
            ]
        ),
    )
    ambiguous = frame["principal"].map(principals["matches"] > 1).fillna(False).astype(bool)
    failures.append(
        rows.failures(
            ambiguous,
            "principal",
            "matches several principals ("
            + frame["principal"].map(principals["all_ids"]).fillna("")
            + "); set directory for this source or use the account_id",
        )
    )
    resources = context.table("resources")
    inventory = resources[resources["inventoried"]]
    targets = _resolve(
        frame["resource"].dropna().drop_duplicates(),
        _candidates(
            [
                (resources["resource_id"], resources["resource_id"], "resource", 0),
                (inventory["name"], inventory["resource_id"], "resource", 1),
            ]
        ),
    )
    ambiguous = frame["resource"].map(targets["matches"] > 1).fillna(False).astype(bool)
    failures.append(
        rows.failures(
            ambiguous,
            "resource",
            "matches several inventory resources ("
            + frame["resource"].map(targets["all_ids"]).fillna("")
            + "); use the resource_id",
        )
    )
    _raise_collected(failures, settings.name)

    principal_id = frame["principal"].map(principals["id"]).fillna(frame["principal"])
    principal_type = frame["principal"].map(principals["type"]).fillna("unresolved")
    resource_id = frame["resource"].map(targets["id"])
    unmatched = resource_id.isna()
    resource_id = resource_id.fillna(settings.name + ":" + frame["resource"])
    grants = pd.DataFrame(
        {
            "principal_id": principal_id.astype("str"),
            "principal_type": principal_type.astype("str"),
            "resource_id": resource_id.astype("str"),
            "right": right,
            "inherited": inherited,
            "deny": deny,
            "path": frame["resource"],
            "system": settings.name,
        }
    )
    grants = TABLES["grants"].conform(grants, source=settings.name, origin=rows.origin())
    grants = (
        grants.sort_values("right", ascending=False, kind="stable")
        .drop_duplicates(["principal_id", "resource_id", "deny", "inherited"])
        .sort_index()
        .reset_index(drop=True)
    )
    resource_type = str(settings.option("resource_type", "other")).lower()
    if resource_type not in _RESOURCE_TYPES:
        raise ConfigError(
            f"source {settings.name!r}: resource_type {resource_type!r} is not one of "
            f"{', '.join(_RESOURCE_TYPES)}"
        )
    new_resources = TABLES["resources"].conform(
        pd.DataFrame(
            {
                "resource_id": resource_id[unmatched],
                "system": settings.name,
                "name": frame.loc[unmatched, "resource"],
                "type": resource_type,
                "inventoried": False,
            }
        ).drop_duplicates("resource_id"),
        source=settings.name,
    )
    unresolved = grants["principal_type"] == "unresolved"
    report: dict[str, Any] = {
        "file": rows.label,
        "rows": len(frame),
        "grants": len(grants),
        "unresolved": {
            "principals": int(grants.loc[unresolved, "principal_id"].nunique()),
            "by_identity": {
                str(k): int(v)
                for k, v in grants.loc[unresolved, "principal_id"]
                .value_counts()
                .head(_MAX_IDENTITIES_IN_REPORT)
                .items()
            },
        },
        "non_inventoried_resources": new_resources["name"].tolist(),
        "warnings": [],
    }
    return SourceResult(
        settings.name,
        manifest.connector,
        {"grants": grants, "resources": new_resources},
        report,
    )
