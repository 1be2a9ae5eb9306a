"""An HR job-history report: one row per assignment period, turned into the move facts.

HR systems export a person's history as one row per period of one assignment — SAP
SuccessFactors Employee Central's ``EmpJob`` records (``userId``, ``startDate``, ``endDate``,
``department``, ``jobTitle``, ``managerId``, ``event``) and Workday's worker job-history reports
(effective date, business process such as Hire / Rehire / Change Job, supervisory
organisation, job title) both have this shape. The roster (``hr-csv``) names the file with
``job_history = "job-history.csv"``; its headers map with ``job_history_columns`` (ours =
theirs), defaults ``employee_id, department, title, manager_id, start_date, end_date, event``.

From the periods up to the audit date, per person:

* the last **move**: the latest period whose department or title differs from the period
  before it (within the same employment) gives ``previous_department``, ``previous_title``
  and ``moved_on`` (its start);
* the last **rehire**: the latest period that follows a gap of more than a day after the
  previous period's end, or whose ``event`` says rehire, gives ``rehired_on``.

>>> import pandas as pd
>>> periods = pd.DataFrame({
...     "person_id": ["E1", "E1"], "department": ["Finance", "Marketing"],
...     "title": ["Clerk", "Clerk"], "start_date": pd.to_datetime(["2020-01-01", "2026-09-01"],
...     utc=True), "end_date": pd.to_datetime(["2026-08-31", None], utc=True),
...     "event": [None, None]})
>>> facts = history_facts(periods, as_of=pd.Timestamp("2026-11-21", tz="UTC"))
>>> facts.loc[0, ["previous_department", "moved_on"]].tolist()
['Finance', Timestamp('2026-09-01 00:00:00+0000', tz='UTC')]
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.connectors.files._read import read_rows
from accessaudit.connectors.files._values import clear_placeholders, refuse_partial_dates
from accessaudit.model import Column, TableSchema

__all__ = ["FACT_COLUMNS", "JOB_HISTORY_COLUMNS", "JOB_PERIODS", "history_facts", "read_history"]

#: Our columns of a job-history report (default headers are the same words).
JOB_HISTORY_COLUMNS = (
    "employee_id",
    "department",
    "title",
    "manager_id",
    "start_date",
    "end_date",
    "event",
)
#: Words of the ``event`` column that mark a return after leaving (case-insensitive).
REHIRE_WORDS = frozenset({"rehire", "re-hire", "rehired", "return", "reinstatement"})
#: What :func:`history_facts` gives per person.
FACT_COLUMNS = ("person_id", "previous_department", "previous_title", "moved_on", "rehired_on")

JOB_PERIODS = TableSchema(
    "job_history",
    "one assignment period of a person",
    (
        Column("person_id", "str", required=True),
        Column("department", "str"),
        Column("title", "str"),
        Column("manager_id", "str"),
        Column("start_date", "datetime", required=True, description="period start"),
        Column("end_date", "datetime", description="period end, empty while current"),
        Column("event", "str", description="hire / rehire / transfer … as HR words it"),
    ),
)


def read_history(
    settings: SourceSettings, manifest: Manifest
) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The job-history periods named by the source's ``job_history`` option (conformed to
    :data:`JOB_PERIODS`, bad rows reported with file and line), and a report; None when the
    source names none."""
    path = settings.file_option("job_history")
    if path is None:
        return None
    keep = {
        k: v
        for k, v in settings.options.items()
        if k in ("encoding", "sheet", "delimiter", "date_format")
    }
    history_settings = dataclasses.replace(
        settings,
        path=path,
        options={**keep, "columns": settings.option("job_history_columns", {})},
    )
    history_manifest = dataclasses.replace(
        manifest, settings={"columns": manifest.section("job_history_columns")}
    )
    rows = read_rows(
        history_settings,
        history_manifest,
        {c: c for c in JOB_HISTORY_COLUMNS},
        ("employee_id", "start_date"),
    )
    rows, placeholder_notes = clear_placeholders(rows, JOB_HISTORY_COLUMNS[1:])
    refuse_partial_dates(
        rows, ("start_date", "end_date"), settings.option("date_format"), settings.name
    )
    frame = rows.frame.rename(columns={"employee_id": "person_id"})
    periods = JOB_PERIODS.conform(
        frame,
        source=settings.name,
        origin=rows.origin(),
        headers={"person_id": rows.headers["employee_id"], **rows.headers},
        date_format=settings.option("date_format"),
    )
    return periods, {
        "file": rows.label,
        "rows": len(periods),
        "warnings": [*rows.warnings, *placeholder_notes],
    }


def _changed(a: pd.Series, b: pd.Series) -> np.ndarray:
    left = a.astype("string").str.casefold()
    right = b.astype("string").str.casefold()
    return (left.notna() & right.notna() & left.ne(right)).to_numpy(dtype=bool, na_value=False)


def history_facts(periods: pd.DataFrame, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per person with any period up to ``as_of``: the last move and the last rehire (see the
    module docstring). Columns :data:`FACT_COLUMNS`; empty values where there was none."""
    started = periods[(periods["start_date"] <= as_of).to_numpy(dtype=bool, na_value=False)]
    ordered = started.sort_values(["person_id", "start_date"], kind="stable").reset_index(drop=True)
    same = ordered["person_id"].eq(ordered["person_id"].shift()).to_numpy(dtype=bool)
    before = ordered.shift()
    gap = (ordered["start_date"] - before["end_date"]).dt.days.to_numpy(
        dtype=float, na_value=np.nan
    )
    said = (
        ordered["event"].astype("string").str.strip().str.casefold().isin(REHIRE_WORDS)
    ).to_numpy(dtype=bool, na_value=False)
    rehire = said | (same & (gap > 1))
    moved = (
        same
        & ~rehire
        & (
            _changed(before["department"], ordered["department"])
            | _changed(before["title"], ordered["title"])
        )
    )
    people = pd.DataFrame({"person_id": ordered["person_id"].drop_duplicates()})
    moves = pd.DataFrame(
        {
            "person_id": ordered["person_id"][moved],
            "previous_department": before["department"][moved],
            "previous_title": before["title"][moved],
            "moved_on": ordered["start_date"][moved],
        }
    ).drop_duplicates("person_id", keep="last")
    rehires = pd.DataFrame(
        {"person_id": ordered["person_id"][rehire], "rehired_on": ordered["start_date"][rehire]}
    ).drop_duplicates("person_id", keep="last")
    # A move before the latest rehire belongs to the earlier employment.
    facts = people.merge(moves, on="person_id", how="left").merge(
        rehires, on="person_id", how="left"
    )
    earlier = (facts["moved_on"] < facts["rehired_on"]).to_numpy(dtype=bool, na_value=False)
    for column in ("previous_department", "previous_title", "moved_on"):
        facts[column] = facts[column].mask(earlier)
    return facts[list(FACT_COLUMNS)].reset_index(drop=True)
