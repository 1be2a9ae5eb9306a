"""``accessaudit discover``: sample every database source of a config and classify its columns.

The result is one row per column (never a value): the source, the table's ``resource_id``
(the same id the connector gives the table in a snapshot), the column, its category,
confidence and evidence. :func:`inventory_from_discovery` turns it into a data-inventory file
for stores that have none.

>>> results, report = discover(load_config("audit.toml"))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from accessaudit.config import AuditConfig
from accessaudit.connectors import SourceSettings
from accessaudit.connectors.databases import mysql, postgresql
from accessaudit.connectors.databases.sampling import sample_mysql, sample_postgresql
from accessaudit.discovery.classify import classify_columns
from accessaudit.errors import ConfigError

__all__ = ["DISCOVERY_COLUMNS", "discover", "inventory_from_discovery"]

#: The columns of :func:`discover`'s result, in order.
DISCOVERY_COLUMNS = (
    "source",
    "resource_id",
    "table",
    "column",
    "category",
    "data_category",
    "confidence",
    "match_rate",
    "sampled",
    "name_hint",
    "method",
    "path",
)

_Sampler = Callable[[SourceSettings], tuple[pd.DataFrame, dict[str, Any]]]
_FLAVOURS: dict[str, tuple[_Sampler, Callable[[SourceSettings, str], str]]] = {
    "postgresql": (sample_postgresql, postgresql.resource_path),
    "mysql": (sample_mysql, mysql.resource_path),
}


def discover(
    config: AuditConfig,
    *,
    sample_rows: int | None = None,
    sources: Sequence[str] = (),
    min_match_rate: float | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sample and classify the columns of every database source (or only ``sources``).

    Returns the classification (columns :data:`DISCOVERY_COLUMNS`) and a report per source
    (tables sampled, tables not sampled and why).
    """
    chosen = [
        s
        for s in config.sources
        if config.manifests[s.connector].protocol in _FLAVOURS
        and (not sources or s.name in sources)
    ]
    if not chosen:
        raise ConfigError("discover: the config has no postgresql or mysql source to sample")
    frames = []
    report: dict[str, Any] = {}
    for configured in chosen:
        settings = (
            configured
            if sample_rows is None
            else dataclasses.replace(
                configured, options={**configured.options, "sample_rows": sample_rows}
            )
        )
        sampler, path_of = _FLAVOURS[config.manifests[settings.connector].protocol]
        samples, report[settings.name] = sampler(settings)
        options = {} if min_match_rate is None else {"min_match_rate": min_match_rate}
        classified = classify_columns(samples, **options)
        classified.insert(0, "source", settings.name)
        classified.insert(1, "resource_id", settings.name + ":" + classified["table"])
        classified["path"] = [path_of(settings, str(t)) for t in classified["table"]]
        frames.append(classified)
    results = pd.concat(frames, ignore_index=True)
    return results[list(DISCOVERY_COLUMNS)], report


def inventory_from_discovery(results: pd.DataFrame, *, min_confidence: float = 0.5) -> pd.DataFrame:
    """A data inventory (the ``data-inventory`` connector's columns) with one row per table
    that holds pii / pci / phi, for stores that have no inventory yet. Owner, retention and
    third parties are left for the data owner to fill in; sensitivity starts at
    ``confidential`` (``restricted`` for payment or health data)."""
    sure = results[results["data_category"].notna() & (results["confidence"] >= min_confidence)]
    tables = (
        sure.groupby(["source", "table", "path"], sort=True)["data_category"]
        .agg(lambda s: ";".join(sorted(set(s))))
        .reset_index()
    )
    restricted = tables["data_category"].str.contains("pci|phi", regex=True)
    return pd.DataFrame(
        {
            "resource": tables["table"],
            "type": "database",
            "system": tables["source"],
            "path": tables["path"],
            "owner": "",
            "sensitivity": restricted.map({True: "restricted", False: "confidential"}),
            "data_categories": tables["data_category"],
            "retention_days": "",
            "last_modified": "",
            "third_parties": "",
        }
    )
