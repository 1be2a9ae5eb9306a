"""What a cell's text really says: values that are not there (Excel error values, numbers
Excel rounded into scientific notation, .NET type names), placeholders for "no value",
letters lost to an ASCII export, dates without a day.

The checks name every cell they refuse (file, line, column) through
:func:`accessaudit.model.failures_error`; what they accept but change is said in a sentence
for the source's report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from accessaudit.model import failures_error

if TYPE_CHECKING:
    from accessaudit.connectors.files._read import Rows

__all__ = [
    "EXCEL_ERRORS",
    "PLACEHOLDERS",
    "clear_placeholders",
    "lost_letters",
    "refuse_partial_dates",
    "refuse_unreadable_values",
]

_EXAMPLES = 5
#: The error values Excel shows in a cell whose formula failed (Microsoft Support, "How to
#: correct a #N/A error" and its siblings); a CSV saved from such a sheet carries the text.
EXCEL_ERRORS = frozenset(
    {
        "#null!",
        "#div/0!",
        "#value!",
        "#ref!",
        "#name?",
        "#num!",
        "#n/a",
        "#getting_data",
        "#spill!",
        "#calc!",
        "#field!",
        "#blocked!",
        "#connect!",
        "#busy!",
        "#unknown!",
        "#python!",
    }
)
#: A collection's type name as PowerShell writes it for a list-valued property:
#: ``System.Object[]``, ``System.String[]``,
#: ``Microsoft.ActiveDirectory.Management.ADPropertyValueCollection``,
#: ``System.Collections.Generic.List`1[System.String]``.
_TYPE_NAME = r"(?:System|Microsoft)\.[\w.`]*(?:\[\]|Collection|\[[\w.`, ]+\])"
#: ``1.23457E+11``: how Excel shows, and saves to CSV, a number of more than 11 digits in a
#: General cell (Microsoft, "Long numbers are displayed incorrectly in Excel"): the rest of
#: the id is gone.
_SCIENTIFIC = r"[+-]?\d(?:[.,]\d+)?E[+-]?\d+"
_UNREADABLE = (
    r"(?i:#[a-z0-9/_!?]+)|" + _SCIENTIFIC + "|" + _TYPE_NAME
)  # a superset of the three: Excel errors start with "#"
_EXCEL_ERROR_PROBLEM = (
    "is an Excel error value (a formula that failed); fix the formula or clear the cell, then "
    "export again"
)
_SCIENTIFIC_PROBLEM = (
    "is a number in scientific notation: Excel turned a long number (an id) into this when "
    "the file was opened and saved, and its digits are lost; format the column as Text in "
    "the source and export again"
)
_TYPE_NAME_PROBLEM = (
    "is a .NET type name, not a value: PowerShell wrote a list this way; join it (-join ';') "
    "or expand it (Select-Object -ExpandProperty) before Export-Csv"
)
#: What HR and inventory exports write for "no value" (lower-case): read as an empty cell in
#: the columns a connector names, and counted.
PLACEHOLDERS = frozenset({"-", "--", "\u2013", "\u2014", "n/a", "null", "(blank)"})


def refuse_unreadable_values(rows: Rows, source: str) -> None:
    """Cells whose real value is not in the file: an Excel error value (``#N/A``, ``#REF!``
    …, a formula that failed), a long number Excel rounded (``1.23457E+11``) or a .NET
    collection's type name (``System.Object[]``: what ``Export-Csv`` writes for a
    multi-valued property such as ``Get-ADUser``'s ``MemberOf``). The file is refused with
    every such cell."""
    failures = []
    for ours, values in rows.frame.items():
        # One pass over the column finds every suspect; only those few are told apart.
        suspect = values.str.fullmatch(_UNREADABLE).to_numpy(dtype=bool, na_value=False)
        if not suspect.any():
            continue
        found = values[suspect]
        for bad, problem in (
            (found.str.lower().isin(EXCEL_ERRORS), _EXCEL_ERROR_PROBLEM),
            (found.str.fullmatch(_SCIENTIFIC), _SCIENTIFIC_PROBLEM),
            (found.str.fullmatch(_TYPE_NAME), _TYPE_NAME_PROBLEM),
        ):
            hit = bad.to_numpy(dtype=bool, na_value=False)
            if hit.any():
                failures.append(
                    pd.DataFrame(
                        {
                            "location": rows.origin()[suspect][hit].to_numpy(),
                            "column": rows.headers.get(str(ours), str(ours)),
                            "value": found[hit].to_numpy(),
                            "problem": problem,
                            "position": np.flatnonzero(suspect)[hit],
                        }
                    )
                )
    if failures:
        raise failures_error(pd.concat(failures, ignore_index=True), source=source)


def refuse_partial_dates(
    rows: Rows, columns: Iterable[str], date_format: object, source: str
) -> None:
    """Without ``date_format``, ISO 8601 also allows ``2026`` and ``2026-02`` (read as 1
    January, 1 February): a year or a month is not a day, so such values are refused by row
    rather than read as the first day."""
    if date_format:
        return
    failures = []
    for column in columns:
        values = rows.frame[column]
        hit = values.str.fullmatch(r"\d{4}(?:-?\d{2})?").to_numpy(dtype=bool, na_value=False)
        if hit.any():
            failures.append(
                pd.DataFrame(
                    {
                        "location": rows.origin()[hit].to_numpy(),
                        "column": rows.headers.get(column, column),
                        "value": values[hit].to_numpy(),
                        "problem": "is a year or a month, not a date; write the day "
                        "(YYYY-MM-DD) or set date_format",
                        "position": np.flatnonzero(hit),
                    }
                )
            )
    if failures:
        raise failures_error(pd.concat(failures, ignore_index=True), source=source)


def clear_placeholders(rows: Rows, columns: Iterable[str]) -> tuple[Rows, list[str]]:
    """``rows`` with :data:`PLACEHOLDERS` (``N/A``, ``-`` …) in ``columns`` read as empty, and
    a sentence saying how many were, per column."""
    frame = rows.frame.copy()
    cleared: dict[str, int] = {}
    for column in columns:
        hit = frame[column].str.lower().isin(PLACEHOLDERS).fillna(False).astype(bool)
        if hit.any():
            cleared[rows.headers.get(column, column)] = int(hit.sum())
            frame[column] = frame[column].mask(hit)
    if not cleared:
        return rows, []
    listing = ", ".join(f"{n} in {column!r}" for column, n in cleared.items())
    return replace(rows, frame=frame), [
        f"values written as 'N/A', '-' or 'NULL' read as empty: {listing}"
    ]


def lost_letters(rows: Rows, columns: Iterable[str], what: str) -> list[str]:
    """A sentence for values with ``?`` between letters (``J?rgen``): what Windows
    PowerShell 5.1's ``Export-Csv`` writes for every non-ASCII letter by default (its
    ``-Encoding`` defaults to ASCII), so names and paths no longer match; [] when none."""
    found = pd.Series(False, index=rows.frame.index)
    for column in columns:
        values = rows.frame[column].astype("string")
        found |= values.str.contains(r"\w\?|\?\w", regex=True).fillna(False).astype(bool)
    # \\?\ is Windows' long-path prefix, not a lost letter.
    if not found.any():
        return []
    where = ", ".join(rows.origin()[found].head(_EXAMPLES))
    return [
        f"{int(found.sum())} {what} have '?' in place of a letter (e.g. {where}): Windows "
        "PowerShell 5.1's Export-Csv writes ASCII unless told otherwise; export again with "
        "-Encoding UTF8 so they match"
    ]
