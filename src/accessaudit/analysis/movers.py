"""Movers: people whose department, title or manager changed, from HR history or two snapshots.

HR says it best when it can: the ``people`` columns ``previous_department``,
``previous_title`` and ``moved_on`` (filled by the HR roster or its job-history report). Where
HR keeps no history, two snapshots show the change: the person's department, manager or
title differs between them. Both give the same table (DataFrames in, a DataFrame out):

``person_id, previous_department, department, previous_title, title, previous_manager_id,
manager_id, moved_on, moved_by, found_by``

``moved_on`` is the effective date of the move. From snapshots the exact day is unknown: it is
taken as the earlier snapshot's date (the earliest the move can have happened) and
``moved_by`` is the later snapshot's date; ``found_by`` says ``hr`` or ``snapshots``.

>>> import pandas as pd
>>> before = pd.DataFrame({"person_id": ["E1"], "department": ["Finance"], "title": ["Clerk"],
...                        "manager_id": ["E9"], "status": ["active"]})
>>> after = before.assign(department="Marketing")
>>> moves_between(before, after, previous_as_of="2026-08-31", current_as_of="2026-11-30")[
...     ["person_id", "previous_department", "department"]].to_numpy().tolist()
[['E1', 'Finance', 'Marketing']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.model import utc_timestamp

__all__ = ["MOVE_COLUMNS", "all_moves", "moves_between", "moves_from_hr"]

MOVE_COLUMNS = (
    "person_id",
    "previous_department",
    "department",
    "previous_title",
    "title",
    "previous_manager_id",
    "manager_id",
    "moved_on",
    "moved_by",
    "found_by",
)
_DATE = "datetime64[ns, UTC]"


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in MOVE_COLUMNS})
    for column in ("moved_on", "moved_by"):
        frame[column] = pd.Series([], dtype=_DATE)
    return frame


def _current(people: pd.DataFrame) -> pd.Series:
    status = people["status"].astype(object) if "status" in people else None
    if status is None:
        return pd.Series(True, index=people.index)
    return status.ne("terminated")


def _differs(old: pd.Series, new: pd.Series) -> pd.Series:
    """Changed, where both sides are known (an empty value is not a move)."""
    # Only rows known on both sides are compared: most people have no previous department
    # or title, and casefolding 200,000 empty values is most of the work otherwise.
    both = (old.notna() & new.notna()).to_numpy(dtype=bool)
    changed = np.zeros(len(old), dtype=bool)
    a = old[both].astype("string").str.strip().str.casefold()
    b = new[both].astype("string").str.strip().str.casefold()
    changed[both] = a.ne(b).to_numpy(dtype=bool, na_value=False)
    return pd.Series(changed, index=old.index)


def moves_from_hr(people: pd.DataFrame) -> pd.DataFrame:
    """The moves HR records on the ``people`` table: a previous department or title that
    differs from the current one, with ``moved_on``. Terminated people are left out."""
    if "moved_on" not in people.columns or people.empty:
        return _empty()
    department = _differs(people["previous_department"], people["department"])
    title = _differs(people["previous_title"], people["title"])
    moved = (department | title) & _current(people)
    rows = people[moved.to_numpy(dtype=bool)]
    out = pd.DataFrame(
        {
            "person_id": rows["person_id"].astype(object),
            "previous_department": rows["previous_department"]
            .astype(object)
            .where(department[moved], rows["department"].astype(object)),
            "department": rows["department"].astype(object),
            "previous_title": rows["previous_title"]
            .astype(object)
            .where(title[moved], rows["title"].astype(object)),
            "title": rows["title"].astype(object),
            "previous_manager_id": pd.Series(np.nan, index=rows.index, dtype=object),
            "manager_id": rows["manager_id"].astype(object),
            "moved_on": rows["moved_on"],
            "moved_by": rows["moved_on"],
            "found_by": "hr",
        }
    )
    return out.reset_index(drop=True)


def moves_between(
    previous_people: pd.DataFrame,
    current_people: pd.DataFrame,
    *,
    previous_as_of: pd.Timestamp | str,
    current_as_of: pd.Timestamp | str,
) -> pd.DataFrame:
    """People (in both tables, not terminated now) whose department, manager or title
    changed between two snapshots' ``people`` tables.

    ``moved_on`` is ``previous_as_of`` (the earliest the move can have happened) and
    ``moved_by`` is ``current_as_of``.
    """
    columns = ["person_id", "department", "title", "manager_id"]
    before = previous_people[columns].astype(object)
    after = current_people.loc[_current(current_people).to_numpy(dtype=bool), columns]
    joined = after.astype(object).merge(before, on="person_id", suffixes=("", "_before"))
    changed = (
        _differs(joined["department_before"], joined["department"])
        | _differs(joined["title_before"], joined["title"])
        | _differs(joined["manager_id_before"], joined["manager_id"])
    )
    rows = joined[changed.to_numpy(dtype=bool)]
    if rows.empty:
        return _empty()
    out = pd.DataFrame(
        {
            "person_id": rows["person_id"],
            "previous_department": rows["department_before"],
            "department": rows["department"],
            "previous_title": rows["title_before"],
            "title": rows["title"],
            "previous_manager_id": rows["manager_id_before"],
            "manager_id": rows["manager_id"],
            "moved_on": utc_timestamp(previous_as_of),
            "moved_by": utc_timestamp(current_as_of),
            "found_by": "snapshots",
        }
    )
    return _dated(out.reset_index(drop=True))


def all_moves(
    people: pd.DataFrame,
    *,
    previous_people: pd.DataFrame | None = None,
    previous_as_of: pd.Timestamp | str | None = None,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """HR's moves, plus the moves two snapshots show for people HR records no move for.

    Without ``previous_people`` this is :func:`moves_from_hr` alone.
    """
    from_hr = moves_from_hr(people)
    if previous_people is None or previous_as_of is None or as_of is None:
        return from_hr
    seen = moves_between(
        previous_people, people, previous_as_of=previous_as_of, current_as_of=as_of
    )
    seen = seen[~seen["person_id"].isin(from_hr["person_id"])]
    if seen.empty:
        return from_hr
    if from_hr.empty:
        return seen.reset_index(drop=True)
    return _dated(pd.concat([_dated(from_hr), seen], ignore_index=True))


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    """One date dtype for the move dates, whatever resolution each source's dates had (a
    mix of resolutions would otherwise concatenate to plain objects)."""
    return frame.astype({"moved_on": _DATE, "moved_by": _DATE})
