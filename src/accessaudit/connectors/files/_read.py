"""Reading a source file (CSV or XLSX) into our column names, with the line of every row.

Each file protocol reads ``settings.path`` (CSV, or XLSX by extension, read with openpyxl in
read-only mode), maps the file's headers onto our column names (the manifest's ``[columns]``
table, overridden per source by ``columns = { ours = "Their Header" }``) and keeps, for every
row, the real line it came from (``hr.csv:14``; the header is line 1, a PowerShell ``#TYPE``
line moves data to line 3; ``hr.xlsx!People:7`` for a workbook). On the way it finds a header
below a report title, skips repeated headers of joined exports (said in ``Rows.warnings``),
refuses merged cells over a column read and cells whose value is not in the file
(:mod:`._values`). Types are not checked here: the protocols hand rows and their origins to
:meth:`accessaudit.model.TableSchema.conform`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.connectors.files._csv import file_error, read_csv
from accessaudit.connectors.files._values import refuse_unreadable_values
from accessaudit.connectors.files._xlsx import SheetFacts, read_xlsx
from accessaudit.errors import ConfigError

__all__ = [
    "Rows",
    "constant",
    "counts",
    "examples",
    "read_rows",
    "source_path",
    "translate",
    "word_map",
]

_EXAMPLES = 5
#: How far below the first line a header is looked for (report titles, run dates, blanks).
_TITLE_ROWS = 10


@dataclass(frozen=True)
class Rows:
    """A source file's rows under our column names (stripped text, empty → NA), the line each
    came from, the file's label for messages and the source's header for each column."""

    frame: pd.DataFrame
    lines: npt.NDArray[np.int64]
    label: str
    headers: Mapping[str, str]
    #: What was skipped on the way (repeated header rows, stray ``#TYPE`` lines), said.
    warnings: tuple[str, ...] = ()

    def origin(self) -> pd.Series:
        """``"file:line"`` for every row, indexed like the frame."""
        return f"{self.label}:" + pd.Series(self.lines, index=self.frame.index).astype(str)


def source_path(settings: SourceSettings) -> Path:
    """The source's ``path``, relative to the config file's folder; ConfigError without one."""
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
    path = source_path(settings)
    mapping = _column_map(settings, manifest, defaults)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "file not found"
        raise file_error(settings.name, str(path), problem)
    facts = SheetFacts()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raw, names, lines, label, header_line, facts = read_xlsx(path, settings)
    else:
        raw, names, lines, label, header_line = read_csv(path, settings)
    warnings: list[str] = []
    required = tuple(required)
    titled = _header_below_titles(raw, names, [mapping[ours].lower() for ours in required])
    if titled is not None:
        # A title (and perhaps a date or a blank line) above the header, as reports print.
        above = [f"{label}:{n}" for n in (header_line, *lines[:titled])]
        names = [str(v).strip() for v in raw.iloc[titled]]
        header_line = int(lines[titled])
        raw = raw.iloc[titled + 1 :].reset_index(drop=True)
        lines = lines[titled + 1 :]
        warnings.append(
            f"the header is on line {header_line}; the {len(above)} lines above it (a title?) "
            f"were skipped: {', '.join(above[:_EXAMPLES])}"
        )
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names):
        positions.setdefault(str(name).strip().lower(), []).append(position)
    repeated = [
        " and ".join(repr(str(names[p]).strip()) for p in positions[theirs.lower()])
        for theirs in mapping.values()
        if len(positions.get(theirs.lower(), ())) > 1
    ]
    if repeated:
        raise file_error(
            settings.name,
            f"{label}:{header_line}",
            f"the header repeats column {'; '.join(repeated)} (names compare without case); "
            "rename one so it is clear which to read",
        )
    missing = [ours for ours in required if mapping[ours].lower() not in positions]
    if missing:
        wanted = ", ".join(f"{mapping[m]!r} (for {m})" for m in missing)
        found = ", ".join(repr(str(h).strip()) for h in names)
        raise file_error(
            settings.name,
            f"{label}:{header_line}",
            f"missing column {wanted}; columns found: {found}. Rename the header or map it "
            f'with columns = {{ {missing[0]} = "Their Header" }} in the source',
        )
    frame = pd.DataFrame(index=raw.index)
    for ours, theirs in mapping.items():
        key = theirs.lower()
        if key in positions:
            values = raw[positions[key][0]].astype("str").str.strip()
            frame[ours] = values.mask(values == "")
        else:
            frame[ours] = pd.Series(pd.NA, index=raw.index, dtype="str")
    _refuse_merged_cells(
        facts,
        positions=positions,
        mapping=mapping,
        header_line=header_line,
        label=label,
        source=settings.name,
    )
    repeats = _repeated_headers(
        raw, names, [positions[t.lower()][0] for t in mapping.values() if t.lower() in positions]
    )
    blank = frame.isna().all(axis=1).to_numpy() | repeats
    warnings.extend(_sheet_notes(facts, lines, label))
    if repeats.any():
        where = ", ".join(f"{label}:{n}" for n in lines[repeats][:_EXAMPLES])
        warnings.append(
            f"{int(repeats.sum())} repeated header or PowerShell #TYPE lines skipped (files "
            f"joined together?): {where}"
        )
    frame = frame.loc[~blank].reset_index(drop=True)
    lines = lines[~blank]
    if frame.empty:
        raise file_error(settings.name, f"{label}:{header_line}", "has a header but no data rows")
    rows = Rows(frame=frame, lines=lines, label=label, headers=mapping, warnings=tuple(warnings))
    refuse_unreadable_values(rows, settings.name)
    return rows


def _header_below_titles(raw: pd.DataFrame, names: list[str], wanted: list[str]) -> int | None:
    """The row (of the first few) holding every wanted header, when the first line lacks
    one; None when the first line is the header or no row is."""
    found = {str(n).strip().lower() for n in names}
    if all(w in found for w in wanted):
        return None
    for row in range(min(_TITLE_ROWS, len(raw))):
        cells = {str(v).strip().lower() for v in raw.iloc[row]}
        if wanted and all(w in cells for w in wanted):
            return row
    return None


def _refuse_merged_cells(
    facts: SheetFacts,
    *,
    positions: Mapping[str, list[int]],
    mapping: Mapping[str, str],
    header_line: int,
    label: str,
    source: str,
) -> None:
    """Merged cells below the header over a column we read: Excel keeps the value in the
    first cell only, so every other row of the range would read as empty."""
    read = {p + 1 for theirs in mapping.values() for p in positions.get(theirs.lower(), ())[:1]}
    for first_col, first_row, last_col, last_row, ref in facts.merged:
        top = max(first_row, header_line + 1)
        columns = sum(1 for col in read if first_col <= col <= last_col)
        cells = max(0, last_row - top + 1) * columns  # data cells of read columns in range
        holds_value = top == first_row and first_col in read  # the one cell with a value
        if cells - holds_value > 0:
            raise file_error(
                source,
                f"{label}:{max(first_row, header_line + 1)}",
                f"cells {ref} are merged: Excel keeps the value in the first cell only, so the "
                "other rows would read as empty; unmerge them and fill every row",
            )


def _sheet_notes(facts: SheetFacts, lines: npt.NDArray[np.int64], label: str) -> list[str]:
    """What an auditor should know about the sheet that was read."""
    notes = []
    if facts.sheet_hidden:
        notes.append(f"{label} is a hidden sheet; it was read as any other")
    hidden = np.asarray(facts.hidden_rows, dtype=np.int64)
    if len(hidden):
        hidden = np.intersect1d(hidden, lines)
    if len(hidden):
        where = ", ".join(f"{label}:{n}" for n in hidden[:_EXAMPLES])
        notes.append(
            f"{len(hidden)} rows hidden or filtered out in the sheet were read (hidden is not "
            f"deleted): {where}"
        )
    return notes


def _repeated_headers(
    raw: pd.DataFrame, names: list[str], named: list[int]
) -> npt.NDArray[np.bool_]:
    """Rows that repeat the header (each column read holds its own header, any case), and
    ``#TYPE`` lines after the first (two ``Export-Csv`` files joined with ``cat`` or ``>>``)."""
    found = np.zeros(len(raw), dtype=bool)
    if raw.empty:
        return found
    # Each test narrows the rows still in question, so a file without repeats costs one
    # comparison of one column.
    if named:
        first_name = str(names[named[0]]).strip()
        candidates = np.flatnonzero(
            raw[named[0]].str.contains(first_name, case=False, regex=False).to_numpy(dtype=bool)
        )
        for position in named:
            # A second file's UTF-8 BOM is still in front of its header's first name.
            values = raw[position].iloc[candidates].astype("str").str.strip()
            same = values.str.lstrip("\ufeff").str.lower() == str(names[position]).strip().lower()
            candidates = candidates[same.to_numpy(dtype=bool)]
            if not len(candidates):
                break
        found[candidates] = True
    first = raw[0].astype("str")
    candidates = np.flatnonzero(first.str.contains("#TYPE ", regex=False).to_numpy(dtype=bool))
    for position in range(1, raw.shape[1]):
        empty = raw[position].iloc[candidates].astype("str").str.strip() == ""
        candidates = candidates[empty.to_numpy(dtype=bool)]
    type_lines = first.iloc[candidates].str.lstrip("\ufeff").str.startswith("#TYPE ")
    found[candidates[type_lines.to_numpy(dtype=bool)]] = True
    return found


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
