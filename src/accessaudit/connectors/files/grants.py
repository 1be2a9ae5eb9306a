"""grants-csv: ``principal, resource, right`` for any other system (CSV or XLSX).

Principals (an ``account_id``, ``group_id``, login or group name) and resources (a
``resource_id`` or an inventory name) are kept as written; the snapshot stage resolves them
(:mod:`accessaudit.resolve`). A resource nothing else knows becomes a non-inventoried resource
``"{grants source}:{resource}"`` of type ``resource_type`` (default ``other``).

>>> # [[sources]] name = "erp"  connector = "grants-csv"  path = "erp-grants.csv"
"""

from __future__ import annotations

import logging
from types import MappingProxyType
from typing import Any

import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.files._read import constant, read_rows, translate, word_map
from accessaudit.connectors.files._values import lost_letters
from accessaudit.errors import ConfigError
from accessaudit.model import REFERENCES, RESOURCE_TYPES, RIGHTS

__all__ = ["RIGHT_SYNONYMS", "collect_grants"]

logger = logging.getLogger("accessaudit.connectors.files.grants")

_GRANT_COLUMNS = ("principal", "resource", "right", "inherited", "deny")

#: Words grants-csv accepts for our rights, besides the rights themselves.
RIGHT_SYNONYMS = MappingProxyType(
    {
        "r": "read",
        "ro": "read",
        "read-only": "read",
        "readonly": "read",
        "reader": "read",
        "select": "read",
        "view": "read",
        "viewer": "read",
        "usage": "read",
        "w": "write",
        "rw": "write",
        "read-write": "write",
        "readwrite": "write",
        "writer": "write",
        "edit": "write",
        "editor": "write",
        "contribute": "write",
        "contributor": "write",
        "insert": "write",
        "update": "write",
        "delete": "write",
        "modify": "write",
        "change": "write",
        "full": "admin",
        "fullcontrol": "admin",
        "full control": "admin",
        "administrator": "admin",
        "manage": "admin",
        "all": "admin",
        "all privileges": "admin",
        "dbo": "owner",
        "db_owner": "owner",
    }
)


def collect_grants(
    settings: SourceSettings, manifest: Manifest, context: CollectContext
) -> SourceResult:
    """Read a generic ``principal, resource, right`` export into permission references.

    Rights: read / write / admin / owner, the synonyms in :data:`RIGHT_SYNONYMS` (select →
    read, modify → write, full control → admin, dbo → owner), plus ``right_map``. Optional
    columns ``inherited`` and ``deny`` (true/false). Options: ``directory`` (the one source
    whose accounts and groups principals name), ``resource_type``, ``columns``,
    ``encoding``, ``sheet``.
    """
    resource_type = str(settings.option("resource_type", "other")).lower()
    if resource_type not in RESOURCE_TYPES:
        raise ConfigError(
            f"source {settings.name!r}: resource_type {resource_type!r} is not one of "
            f"{', '.join(RESOURCE_TYPES)}"
        )
    directory = settings.option("directory")
    rows = read_rows(settings, manifest, {c: c for c in _GRANT_COLUMNS}, _GRANT_COLUMNS[:3])
    frame = rows.frame
    length = len(frame)
    references = pd.DataFrame(
        {
            "principal": pd.Categorical(frame["principal"]),
            "principal_form": "name",
            "domain": constant(None, length),
            "directory": constant(str(directory) if directory not in (None, "") else None, length),
            "resource": pd.Categorical(frame["resource"]),
            "resource_form": "name",
            "resource_type": resource_type,
            "right": translate(
                frame["right"], word_map(settings, manifest, "right_map", RIGHTS, RIGHT_SYNONYMS)
            ),
            "inherited": frame["inherited"],
            "deny": frame["deny"],
            "system": constant(settings.name, length),
            "location": rows.origin(),
        }
    )
    references = REFERENCES.conform(
        references,
        source=settings.name,
        origin=rows.origin(),
        headers=rows.headers,
        hints={"right": "map it in [sources.right_map]"},
        # Unlike an ACE, every row of this export must name a right.
        require=("right",),
    )
    report: dict[str, Any] = {
        "file": rows.label,
        "rows": length,
        "warnings": [
            *rows.warnings,
            *lost_letters(rows, ("principal", "resource"), "permissions"),
        ],
    }
    logger.info("%s: %d permissions from %s", settings.name, length, rows.label)
    return SourceResult(settings.name, manifest.connector, {}, report, references=references)
