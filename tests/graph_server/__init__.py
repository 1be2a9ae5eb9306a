"""A local Microsoft identity platform + Microsoft Graph over HTTPS, for the entra-id tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .certs import PkiFiles, make_pki
from .people import make_people
from .server import CLIENT_ID, CLIENT_SECRET, Faults, GraphServer

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "Faults",
    "GraphServer",
    "PkiFiles",
    "documented_tenant",
    "make_people",
    "make_pki",
    "sign_in_options",
]

FIXTURES = Path(__file__).parent / "fixtures"


def sign_in_options(server: GraphServer, pki: PkiFiles, secret_env: str) -> dict[str, Any]:
    """Source options that sign in to ``server`` as the test app (its client secret read from
    ``secret_env``) and trust only the test CA; callers add their own (page size, back-off)."""
    return {
        "tenant_id": server.tenant_id,
        "client_id": CLIENT_ID,
        "client_secret_env": secret_env,
        "authority_url": server.base_url,
        "graph_url": server.base_url,
        "ca_bundle": str(pki.ca_file),
    }


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
