"""Data discovery: which columns hold personal, payment or health data, found in the data.

:func:`classify_columns` takes sampled values (a long DataFrame ``table, column, value``) and
returns one row per column with its category, confidence and evidence (match rates, never the
values). The database connectors sample their tables with it when a source sets
``discover = true``; ``accessaudit discover`` (:mod:`accessaudit.discovery.run`) samples every
database source of a config and writes the per-column results.
"""

from __future__ import annotations

from accessaudit.discovery.classify import (
    DATA_CATEGORY,
    classify_by_name,
    classify_columns,
    data_categories_by_table,
)

__all__ = ["DATA_CATEGORY", "classify_by_name", "classify_columns", "data_categories_by_table"]
