"""A local Microsoft identity platform + Microsoft Graph over HTTPS, for the entra-id tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .certs import PkiFiles, make_pki
from .people import make_people
from .server import Faults, GraphServer

__all__ = ["Faults", "GraphServer", "PkiFiles", "documented_tenant", "make_people", "make_pki"]

FIXTURES = Path(__file__).parent / "fixtures"


def documented_tenant(tenant: dict[str, Any], fixture: str = "documented.json") -> dict[str, Any]:
    """``tenant`` plus the objects of ``fixture``, modelled on the Graph documentation's
    examples (``_comment`` in each file names the pages followed)."""
    extra = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))
    merged = copy.deepcopy(tenant)
    for key, value in extra.items():
        if key.startswith("_"):
            continue
        if isinstance(value, list):
            merged[key] = [*merged.get(key, []), *value]
        else:
            merged[key] = {**merged.get(key, {}), **value}
    return merged
