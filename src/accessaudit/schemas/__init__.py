"""JSON Schemas (draft 2020-12) of every JSON document the command line prints.

=========  =====================================================
name       document
=========  =====================================================
audit      ``accessaudit audit --format json`` (the envelope)
collect    ``accessaudit collect --format json``
diff       ``accessaudit diff --format json``
scope      ``accessaudit scope --format json``
status     ``accessaudit review status --format json``
=========  =====================================================

Compatibility: within one major ``schema_version`` (the audit envelope carries it) fields
are only added, never renamed, removed or given another type; consumers should ignore fields
they do not know. The schemas ship inside the wheel (``accessaudit/schemas/*.json``).

>>> load_schema("audit")["title"]
'accessaudit audit envelope (accessaudit audit --format json)'
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from accessaudit.errors import ConfigError

__all__ = ["SCHEMA_NAMES", "load_schema"]

SCHEMA_NAMES: tuple[str, ...] = ("audit", "collect", "diff", "scope", "status")


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of document ``name`` (one of :data:`SCHEMA_NAMES`) as a dict."""
    if name not in SCHEMA_NAMES:
        raise ConfigError(f"no JSON Schema named {name!r} (one of {', '.join(SCHEMA_NAMES)})")
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
