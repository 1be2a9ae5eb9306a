"""JSON for machines: findings, the diff of two snapshots, a breach scope.

Dates in ISO 8601, every kind of empty as null, evidence as a nested object.

>>> findings_json(result)  # doctest: +SKIP
'[{"finding_id": "3f1c…", "rule": "leaver-active", ...}]'
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.analysis import ScopeResult, SnapshotDiff
from accessaudit.audit import AuditResult
from accessaudit.findings import FINDING_COLUMNS

__all__ = ["diff_document", "findings_json", "frame_records", "scope_document", "to_plain"]


def to_plain(value: object) -> object:
    """``value`` as JSON-able Python: ISO 8601 dates, None for every kind of empty, lists for
    tuples and arrays, plain numbers for numpy ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [to_plain(v) for v in value]
    return str(value)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as JSON-able dicts (see :func:`to_plain`)."""
    return [
        {str(key): to_plain(value) for key, value in record.items()}
        for record in frame.astype(object).to_dict("records")
    ]


def findings_json(result: AuditResult, *, indent: int | None = 2) -> str:
    """The shown findings of ``result`` as a JSON array (columns as in DESIGN.md plus
    ``entitlement``); accepted risks are not in it."""
    records = frame_records(result.findings.loc[:, list(FINDING_COLUMNS)])
    return json.dumps(records, indent=indent, ensure_ascii=False, allow_nan=False)


def diff_document(change: SnapshotDiff) -> dict[str, Any]:
    """``change`` as a JSON-able dict: both dates, then every change table as records."""
    document: dict[str, Any] = {
        "old_as_of": change.old_as_of.isoformat(),
        "new_as_of": change.new_as_of.isoformat(),
        "old_digest": change.old_digest,
        "new_digest": change.new_digest,
    }
    for name, table in change.tables().items():
        document[name] = frame_records(table)
    return document


def scope_document(result: ScopeResult) -> dict[str, Any]:
    """``result`` as a JSON-able dict: the subject, the date, categories and every table."""
    return {
        "subject_type": result.subject_type,
        "subject": result.subject,
        "as_of": result.as_of.isoformat(),
        "data_categories": list(result.data_categories),
        "accounts": frame_records(result.accounts),
        "resources": frame_records(result.resources),
        "groups": frame_records(result.groups),
        "notifications": frame_records(result.notifications),
    }
