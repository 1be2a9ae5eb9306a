"""How the m365 connector's calls grow: with permission roots, not with files.

Serves a generated SharePoint tenant through the local HTTPS Graph (tests/graph_server with
its SharePoint routes) and collects it live with msal, the Graph client and the delta scan, for
several shapes of tenant: the same unique-permission roots with more and more files, then more
roots with the same files. For each: requests by kind (delta pages, permission look-ups asked,
``$batch`` calls, all Graph requests), wall time and the peak memory of this process (server
included, so an upper bound).

    python bench/m365_bench.py                 # 200 sites, up to 400,000 files, 5,000 roots
    python bench/m365_bench.py --sites 20 --files 100 --roots 500   # a quick run

The issue's full shape (2,000 sites / 5 million items / 50,000 roots) does not fit a
generated in-memory test server on a 2-core VM; the default is scaled down 10× in sites and
roots and 12× in items, and the ratios it prints are what carries over.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
SECRET = "bench~secret-value"
SECRET_ENV = "ACCESSAUDIT_BENCH_M365_SECRET"


def run(pki: Any, sites: int, files: int, roots: int) -> dict[str, Any]:
    """One live collection of a generated tenant; what it cost."""
    import pandas as pd

    from accessaudit.connectors import CollectContext, SourceSettings, find_manifests
    from accessaudit.connectors.m365 import collect
    from accessaudit.sample._m365 import build_sharepoint
    from graph_server import GraphServer
    from graph_server.sharepoint import SharePoint

    data = build_sharepoint(sites=sites, files_per_library=files, extra_roots=roots)
    tenant = {"tenant_id": "b6f0c1d2-7e3a-4c5b-9a8d-1e2f3a4b5c6d", "groups": []}
    sharepoint = SharePoint(data)
    with GraphServer(
        tenant, pki, client_id=CLIENT_ID, client_secret=SECRET, routes=[sharepoint]
    ) as server:
        settings = SourceSettings(
            "m365",
            "m365",
            options={
                "tenant_id": server.tenant_id,
                "client_id": CLIENT_ID,
                "client_secret_env": SECRET_ENV,
                "authority_url": server.base_url,
                "graph_url": server.base_url,
                "ca_bundle": str(pki.ca_file),
            },
        )
        started = time.perf_counter()
        result = collect(
            settings,
            find_manifests()["m365"],
            CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC")),
        )
        seconds = time.perf_counter() - started
    items = sum(len(v) for v in data["items"].values())
    return {
        "sites": sites,
        "items": items,
        "roots": result.report["permission_roots"],
        "delta pages": sharepoint.counters.delta_requests,
        "permissions asked": sharepoint.counters.permission_requests,
        "batches": result.report["batches"],
        "requests": result.report["requests"],
        "seconds": round(seconds, 1),
        "peak MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main() -> None:
    """Run the shapes and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000, help="files per library, largest")
    parser.add_argument("--roots", type=int, default=5000, help="unique-permission roots")
    args = parser.parse_args()
    from tabulate import tabulate

    from graph_server import make_pki

    os.environ[SECRET_ENV] = SECRET
    shapes = [
        (args.sites, args.files // 4, args.roots),
        (args.sites, args.files // 2, args.roots),
        (args.sites, args.files, args.roots),
        (args.sites, args.files // 4, args.roots * 2),
    ]
    with tempfile.TemporaryDirectory() as folder:
        pki = make_pki(Path(folder))
        rows = [run(pki, *shape) for shape in shapes]
    print(tabulate(rows, headers="keys"))


if __name__ == "__main__":
    main()
