"""hr-csv: an HR roster (CSV or XLSX) read into the ``people`` table.

>>> # [[sources]] name = "hr"  connector = "hr-csv"  path = "hr.csv"
>>> # status_map = { "Withdrawn" = "terminated", "LOA" = "leave" }
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.files._read import counts, examples, read_rows, translate, word_map
from accessaudit.connectors.files._values import (
    clear_placeholders,
    lost_letters,
    refuse_partial_dates,
)
from accessaudit.connectors.files.job_history import history_facts, read_history
from accessaudit.errors import ConfigError
from accessaudit.model import STATUSES, TABLES, WORKER_TYPES, utc_timestamp

__all__ = ["HR_COLUMNS", "collect_hr"]

logger = logging.getLogger("accessaudit.connectors.files.hr")

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
    # HR history and contract columns: optional, read when the export has them.
    "previous_department",
    "previous_title",
    "moved_on",
    "contract_end",
    "sponsor_id",
    "rehired_on",
)
#: Dates among the HR columns (read with ``date_format``; far dates stored empty).
_DATES = ("start_date", "end_date", "moved_on", "contract_end", "rehired_on")
#: Columns where an export's "N/A" or "-" means no value (never the keys or the status).
_OPTIONAL = (
    "email",
    "department",
    "title",
    "manager_id",
    "previous_department",
    "previous_title",
    "sponsor_id",
    *_DATES,
)


def collect_hr(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read an HR roster (CSV or XLSX) into the ``people`` table.

    Options: ``columns`` (our name → their header), ``status_map`` and ``worker_type_map``
    (their word → ours, case-insensitive), ``default_worker_type`` (for blank cells, default
    ``employee``), ``date_format`` (strftime; default ISO 8601 only), ``encoding``, ``sheet``.
    Dates beyond 2262 (``9999-12-31``, "no end") or before 1677 are stored empty and counted.

    History and contracts: the optional columns ``previous_department``, ``previous_title``,
    ``moved_on``, ``contract_end``, ``sponsor_id`` and ``rehired_on``; and ``job_history``
    (a job-history report, one row per assignment period; see
    :mod:`accessaudit.connectors.files.job_history`), which fills the move and rehire columns
    where the roster leaves them empty.
    """
    rows = read_rows(
        settings, manifest, {c: c for c in HR_COLUMNS}, ("employee_id", "name", "status")
    )
    rows, placeholder_notes = clear_placeholders(rows, _OPTIONAL)
    refuse_partial_dates(rows, _DATES, settings.option("date_format"), settings.name)
    frame = rows.frame
    default_worker = str(settings.option("default_worker_type", "employee")).lower()
    if default_worker not in WORKER_TYPES:
        raise ConfigError(
            f"source {settings.name!r}: default_worker_type {default_worker!r} is not one of "
            f"{', '.join(WORKER_TYPES)}"
        )
    defaulted_worker = int(frame["worker_type"].isna().sum())
    people = pd.DataFrame(
        {
            "person_id": frame["employee_id"],
            "name": frame["name"],
            "email": frame["email"].str.lower(),
            "department": frame["department"],
            "title": frame["title"],
            "manager_id": frame["manager_id"],
            "status": translate(
                frame["status"], word_map(settings, manifest, "status_map", STATUSES)
            ),
            "worker_type": translate(
                frame["worker_type"],
                word_map(settings, manifest, "worker_type_map", WORKER_TYPES),
            ).fillna(default_worker),
            **{column: frame[column] for column in _DATES},
            "previous_department": frame["previous_department"],
            "previous_title": frame["previous_title"],
            "sponsor_id": frame["sponsor_id"],
            "system": settings.name,
        }
    )
    people, origin, rehires = _earlier_employments(
        people, rows.origin(), settings.option("date_format")
    )
    people = TABLES["people"].conform(
        people,
        source=settings.name,
        origin=origin,
        headers={"person_id": rows.headers["employee_id"], **rows.headers},
        hints={
            "status": 'map it in [sources.status_map], e.g. status_map = { "Gone" = "terminated" }',
            "worker_type": "map it in [sources.worker_type_map]",
        },
        date_format=settings.option("date_format"),
    )
    kept = frame.loc[origin.index]
    far_dates = {
        column: int((kept[column].notna().to_numpy() & people[column].isna().to_numpy()).sum())
        for column in _DATES
    }
    history = read_history(settings, manifest)
    history_report: dict[str, Any] | None = None
    if history is not None:
        people, history_report = _with_history(people, *history, as_of=context.as_of)
    unknown_manager = people["manager_id"].notna() & ~people["manager_id"].isin(people["person_id"])
    as_of = utc_timestamp(context.as_of)
    active_past_end = (people["status"] == "active") & (people["end_date"] < as_of)
    warnings = [
        *rows.warnings,
        *placeholder_notes,
        *rehires.get("warnings", []),
        *lost_letters(rows, ("name", "email"), "people"),
    ]
    if not (people["status"] == "terminated").any():
        # BambooHR's reports default to current employees only (onlyCurrent), and many HR
        # report filters do the same: leavers would then look like orphan accounts.
        warnings.append(
            "no terminated people in the roster: if the export was limited to current "
            "employees, include terminated workers so leavers are found as leavers"
        )
    if active_past_end.any():
        warnings.append(
            f"{int(active_past_end.sum())} people active with a past end date (kept as HR "
            f"says; e.g. {', '.join(examples(people.loc[active_past_end, 'person_id']))})"
        )
    # Unknown managers are said from "unknown_managers" below (accessaudit.coverage).
    report: dict[str, Any] = {
        "file": rows.label,
        "rows": len(people),
        "by_status": counts(people["status"].astype("str")),
        "by_worker_type": counts(people["worker_type"].astype("str")),
        "worker_type_defaulted": defaulted_worker,
        "unknown_managers": {
            "count": int(unknown_manager.sum()),
            "examples": examples(people.loc[unknown_manager, "manager_id"]),
        },
        "active_with_past_end_date": int(active_past_end.sum()),
        # A leaver-to-be: not a leaver until the date (leaver-active looks at end_date).
        "terminated_with_future_end_date": int(
            ((people["status"] == "terminated") & (people["end_date"] > as_of)).sum()
        ),
        "earlier_employments_skipped": rehires.get("skipped", {"count": 0, "examples": []}),
        # 9999-12-31 ("no end") and 0001-01-01 lie beyond a timestamp: stored as no date.
        "dates_stored_empty": {k: v for k, v in far_dates.items() if v},
        "warnings": warnings,
    }
    if history_report is not None:
        warnings.extend(f"job history: {w}" for w in history_report.pop("warnings", []))
        report["job_history"] = history_report
        if history_report["unknown_people"]["count"]:
            warnings.append(
                f"{history_report['unknown_people']['count']} people in the job history are not "
                "in the roster (their history is not used)"
            )
    logger.info("%s: %d people from %s", settings.name, len(people), rows.label)
    return SourceResult(settings.name, manifest.connector, {"people": people}, report)


def _earlier_employments(
    people: pd.DataFrame, origin: pd.Series, date_format: object
) -> tuple[pd.DataFrame, pd.Series, dict[str, Any]]:
    """A rehired person listed once per employment: keep the latest, skip the earlier ones
    when each is terminated and ended no later than the next began, and set ``rehired_on``
    from the kept row's start. Any other repeated id is left for the schema to refuse."""
    ids = people["person_id"]
    repeated = (ids.duplicated(keep=False) & ids.notna()).to_numpy(dtype=bool)
    if not repeated.any():
        return people, origin, {}
    fmt = str(date_format) if date_format else "ISO8601"
    rows = people[repeated]
    order = pd.DataFrame(
        {
            "person_id": rows["person_id"],
            "terminated": (rows["status"] == "terminated").to_numpy(dtype=bool),
            "start": pd.to_datetime(rows["start_date"], utc=True, errors="coerce", format=fmt),
            "end": pd.to_datetime(rows["end_date"], utc=True, errors="coerce", format=fmt),
        }
    ).sort_values(["person_id", "start"], kind="stable")
    latest = ~order["person_id"].duplicated(keep="last")
    next_start = order.groupby("person_id")["start"].shift(-1)
    ended_before = (
        order["terminated"] & order["start"].notna() & (order["end"] <= next_start)
    ).fillna(False)
    clean = (latest | ended_before).groupby(order["person_id"]).all()
    merged = clean.index[clean.to_numpy(dtype=bool)]
    earlier = order.index[~latest.to_numpy(dtype=bool) & order["person_id"].isin(merged)]
    if not len(earlier):
        return people, origin, {}
    kept = people.drop(index=earlier)
    again = kept["person_id"].isin(merged) & kept["rehired_on"].isna()
    kept["rehired_on"] = kept["rehired_on"].mask(again, kept["start_date"])
    where = ", ".join(origin[earlier].head(5))
    return (
        kept,
        origin.drop(index=earlier),
        {
            "skipped": {"count": len(earlier), "examples": examples(pd.Series(merged))},
            "warnings": [
                f"{len(merged)} rehired people are listed once per employment: the latest is "
                f"read (rehired_on from its start), {len(earlier)} earlier terminated rows "
                f"skipped ({where})"
            ],
        },
    )


def _with_history(
    people: pd.DataFrame, periods: pd.DataFrame, report: dict[str, Any], *, as_of: object
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``people`` with move and rehire facts from the job history where the roster has none."""
    facts = history_facts(periods, as_of=utc_timestamp(as_of)).set_index("person_id")
    unknown = facts.index[~facts.index.isin(people["person_id"])]
    at = facts.reindex(people["person_id"]).set_axis(people.index)
    out = people.copy()
    # The move columns go together: a roster that records a move keeps all of its own.
    roster_moved = out["moved_on"].notna() | out["previous_department"].notna()
    for column in ("previous_department", "previous_title", "moved_on"):
        out[column] = out[column].where(roster_moved, at[column].astype(out[column].dtype))
    out["rehired_on"] = out["rehired_on"].fillna(at["rehired_on"])
    return out, {
        **report,
        "people": len(facts),
        "moves": int(at["moved_on"].notna().sum()),
        "rehires": int(at["rehired_on"].notna().sum()),
        "unknown_people": {"count": len(unknown), "examples": examples(pd.Series(unknown))},
    }
