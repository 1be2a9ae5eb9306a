"""data-inventory: a data inventory (record of processing, CSV or XLSX) read into ``resources``.

An inventory row gets ``resource_id = "{inventory source}:{resource}"`` (the source's configured
name, then the ``resource`` column as written); names are unique per inventory. The ``owner``
column is kept as written (an e-mail address, an employee id, a group name); which person or
group it names is decided when the snapshot is built (:mod:`accessaudit.resolve`).

>>> # [[sources]] name = "inventory"  connector = "data-inventory"  path = "inv.xlsx"
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.files._read import Rows, counts, read_rows, translate, word_map
from accessaudit.connectors.files._values import (
    clear_placeholders,
    lost_letters,
    refuse_partial_dates,
)
from accessaudit.model import RESOURCE_TYPES, SENSITIVITIES, TABLES, failures_error

__all__ = ["INVENTORY_COLUMNS", "collect_inventory"]

logger = logging.getLogger("accessaudit.connectors.files.inventory")

#: The inventory's default columns (DESIGN.md); ``columns`` in the config renames them.
INVENTORY_COLUMNS = (
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


#: ``1.000`` or ``12.500.000``: a thousands separator (German, Excel in a European locale),
#: which a number parser would read as 1 and 12.5.
_GROUPED_DIGITS = r"^\d{1,3}(?:\.\d{3})+$"


def _refuse_grouped_days(rows: Rows, source: str) -> None:
    days = rows.frame["retention_days"]
    grouped = days.str.fullmatch(_GROUPED_DIGITS).to_numpy(dtype=bool, na_value=False)
    if grouped.any():
        raise failures_error(
            pd.DataFrame(
                {
                    "location": rows.origin()[grouped].to_numpy(),
                    "column": rows.headers["retention_days"],
                    "value": days[grouped].to_numpy(),
                    "problem": "has a thousands separator ('1.000' is a thousand in German, "
                    "one in English): write the days as digits only",
                }
            ),
            source=source,
        )


def _categories(values: pd.Series) -> pd.Series:
    """``"PII, phi;pii "`` → ``"phi;pii"``: lower-case, trimmed, unique, sorted, ';'-joined."""
    parts = values.str.lower().str.split(r"[;,]", regex=True).explode().astype("str").str.strip()
    parts = parts[parts.notna() & (parts != "")]
    frame = parts.rename("category").reset_index()
    frame = frame.drop_duplicates().sort_values(["index", "category"])
    joined = frame.groupby("index")["category"].agg(";".join)
    return joined.reindex(values.index).astype("str")


def collect_inventory(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a data inventory (CSV or XLSX) into the ``resources`` table.

    ``resource_id`` is ``"{source}:{resource}"``; ``owner`` is kept as written and
    ``owner_id`` left empty for the snapshot stage to resolve; ``data_categories`` become
    ``"phi;pii"``. Options: ``columns``, ``sensitivity_map`` (``"Highly Confidential" =
    "restricted"``), ``type_map``, ``date_format``, ``encoding``, ``sheet``.
    """
    rows = read_rows(settings, manifest, {c: c for c in INVENTORY_COLUMNS}, ("resource",))
    rows, placeholder_notes = clear_placeholders(
        rows, ("owner", "data_categories", "retention_days", "last_modified", "third_parties")
    )
    _refuse_grouped_days(rows, settings.name)
    refuse_partial_dates(rows, ("last_modified",), settings.option("date_format"), settings.name)
    frame = rows.frame
    kind = translate(frame["type"], word_map(settings, manifest, "type_map", RESOURCE_TYPES))
    is_unc = frame["path"].str.startswith("\\\\").fillna(False).astype(bool)
    kind = kind.fillna(pd.Series(np.where(is_unc, "share", "other"), index=frame.index))
    resources = pd.DataFrame(
        {
            "resource_id": settings.name + ":" + frame["resource"],
            "system": frame["system"].fillna(settings.name),
            "name": frame["resource"],
            "type": kind,
            "path": frame["path"],
            "owner": frame["owner"],
            "sensitivity": translate(
                frame["sensitivity"],
                word_map(settings, manifest, "sensitivity_map", SENSITIVITIES),
            ),
            "data_categories": _categories(frame["data_categories"]),
            "retention_days": frame["retention_days"],
            "last_modified": frame["last_modified"],
            "third_parties": frame["third_parties"],
            "inventoried": True,
        }
    )
    resources = TABLES["resources"].conform(
        resources,
        source=settings.name,
        origin=rows.origin(),
        headers={"resource_id": rows.headers["resource"], "name": rows.headers["resource"]}
        | {k: v for k, v in rows.headers.items() if k != "resource"},
        hints={
            "sensitivity": "map it in [sources.sensitivity_map]",
            "type": "map it in [sources.type_map]",
        },
        date_format=settings.option("date_format"),
    )
    report: dict[str, Any] = {
        "file": rows.label,
        "rows": len(resources),
        "by_type": counts(resources["type"].astype("str")),
        "by_sensitivity": counts(resources["sensitivity"].astype("str")),
        "without_owner": int(resources["owner"].isna().sum()),
        "warnings": [
            *rows.warnings,
            *placeholder_notes,
            *lost_letters(rows, ("resource", "path", "owner"), "resources"),
        ],
    }
    logger.info("%s: %d resources from %s", settings.name, len(resources), rows.label)
    return SourceResult(settings.name, manifest.connector, {"resources": resources}, report)
