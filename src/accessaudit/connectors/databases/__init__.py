"""Database servers as data stores: PostgreSQL and MySQL/MariaDB roles, grants and samples.

Each flavour reads its own catalog (``postgresql``, ``mysql``) into the plain frames of
:mod:`~accessaudit.connectors.databases.catalog`, which turns them into snapshot tables the
same way for both. The drivers (psycopg, PyMySQL) are optional extras, imported only when a
source uses them. With ``discover = true`` a source also samples its tables
(:mod:`~accessaudit.connectors.databases.sampling`) and puts the data categories found on
their resources.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.databases import mysql, postgresql
from accessaudit.connectors.databases.sampling import sample_mysql, sample_postgresql
from accessaudit.discovery.classify import classify_columns, data_categories_by_table

__all__ = ["collect_mysql", "collect_postgresql"]

Sampler = Callable[[SourceSettings], tuple[pd.DataFrame, dict[str, Any]]]


def _discover(
    settings: SourceSettings, sampler: Sampler
) -> tuple[pd.Series, dict[str, Any]] | None:
    if not settings.option("discover", False):
        return None
    samples, report = sampler(settings)
    classified = classify_columns(samples)
    minimum = float(settings.option("discover_min_confidence", 0.5))
    categories = data_categories_by_table(classified, min_confidence=minimum)
    found = classified[classified["confidence"] >= minimum]["category"].value_counts()
    report["columns_by_category"] = {str(k): int(v) for k, v in found.items()}
    report["tables_with_sensitive_data"] = len(categories)
    return categories, report


def collect_postgresql(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a PostgreSQL cluster (see :mod:`accessaudit.connectors.databases.postgresql`)."""
    discovered = _discover(settings, sample_postgresql)
    return postgresql.collect(settings, manifest, context, discovered=discovered)


def collect_mysql(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a MySQL or MariaDB server (see :mod:`accessaudit.connectors.databases.mysql`)."""
    discovered = _discover(settings, sample_mysql)
    return mysql.collect(settings, manifest, context, discovered=discovered)
