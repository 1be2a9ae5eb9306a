"""How the m365 connector's calls, time and memory grow: with permission roots, not with items.

Serves a generated SharePoint tenant (tests/graph_server/generated.py: sites, libraries, delta
pages and permissions computed from a seed and an index, never the whole tenant in memory)
through the local HTTPS Graph in a process of its own, and collects it live in another
process with msal, the Graph client and the delta scan. Each shape runs in fresh processes, so
the peak resident memory of the collector and of the server are each their own.

Shapes, in one run (``--scale`` multiplies sites, items and roots of all of them):

* the issue's full size: 2,000 sites, 5,000,000 items, 50,000 roots of unique permissions;
  once with today's connector and once with the previous reader, which read every delta page
  of a library into one list before looking at any (``previous``);
* the full items with a tenth of the roots (5,000): what grows with items alone;
* a tenth of it: 200 sites, 500,000 items, 5,000 roots;
* a tenth with twice the roots: 200 sites, 500,000 items, 10,000 roots;
* one library of a million items with 100 roots, with today's reader and the previous one:
  what one large library costs.

For each: requests by kind (delta pages, permission look-ups asked, ``$batch`` calls, all Graph
requests), wall and CPU seconds of the collection, the collector's peak RSS (its baseline
before collecting, imports included, beside it) and the server's CPU seconds and peak RSS.

    flock /tmp/accessaudit-bench.lock python bench/m365_bench.py            # ~8 minutes
    flock /tmp/accessaudit-bench.lock python bench/m365_bench.py --scale 0.01   # quick
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SECRET_ENV = "ACCESSAUDIT_BENCH_M365_SECRET"
TENANT = {"tenant_id": "b6f0c1d2-7e3a-4c5b-9a8d-1e2f3a4b5c6d", "users": [], "groups": []}
#: (label, sites, items, roots, reader) at scale 1.
SHAPES = [
    ("full", 2_000, 5_000_000, 50_000, "current"),
    ("full", 2_000, 5_000_000, 50_000, "previous"),
    ("full items, 1/10 roots", 2_000, 5_000_000, 5_000, "current"),
    ("1/10", 200, 500_000, 5_000, "current"),
    ("1/10, 2x roots", 200, 500_000, 10_000, "current"),
    ("one library", 1, 1_000_000, 100, "current"),
    ("one library", 1, 1_000_000, 100, "previous"),
]


def _usage() -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS in MB of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def serve(connection: Connection, folder: str, sites: int, items: int, roots: int) -> None:
    """The server process: the generated tenant behind the local Graph until told to stop.
    It sends the collector the source options and the secret that sign in to it as the test
    app (the collector imports nothing of the test server, so its baseline stays its own)."""
    from graph_server import CLIENT_SECRET, GraphServer, make_pki, sign_in_options
    from graph_server.generated import GeneratedSharePoint

    pki = make_pki(Path(folder))
    tenant = GeneratedSharePoint(sites=sites, items=items, roots=roots)
    with GraphServer(TENANT, pki, routes=[tenant]) as server:
        connection.send((sign_in_options(server, pki, SECRET_ENV), CLIENT_SECRET))
        connection.recv()
    cpu, peak = _usage()
    connection.send(
        {
            **asdict(tenant.counters),
            "items": tenant.items,
            "roots": tenant.roots,
            "largest library": max(tenant.sizes),
            "cpu": cpu,
            "peak": peak,
        }
    )


def _previous_reader() -> None:
    """The reader as it was before 2026-12-03: each library's delta pages read into one list
    (``GraphClient.pages_of``) before any of them was looked at."""
    from accessaudit.connectors.m365 import gather

    current = gather._Reader._delta_pages

    def held(self: Any, drive_id: str, url: str) -> Any:
        return list(current(self, drive_id, url))

    gather._Reader._delta_pages = held  # type: ignore[method-assign]


def collector(connection: Connection, options: dict[str, Any], secret: str, reader: str) -> None:
    """The collecting process: one live collection with the server's sign-in ``options`` and
    ``secret``; what it cost."""
    import pandas as pd

    from accessaudit.connectors import CollectContext, SourceSettings, find_manifests
    from accessaudit.connectors.m365 import collect

    if reader == "previous":
        _previous_reader()
    os.environ[SECRET_ENV] = secret
    settings = SourceSettings("m365", "m365", options=options)
    manifest = find_manifests()["m365"]
    cpu_before, baseline = _usage()
    started = time.perf_counter()
    result = collect(settings, manifest, CollectContext(as_of=pd.Timestamp("2026-11-21", tz="UTC")))
    wall = time.perf_counter() - started
    cpu, peak = _usage()
    report = result.report
    connection.send(
        {
            "wall": wall,
            "cpu": cpu - cpu_before,
            "baseline": baseline,
            "peak": peak,
            "items seen": report["delta_items_seen"],
            "roots": report["permission_roots"],
            "batches": report["batches"],
            "requests": report["requests"],
            "throttling retries": report["throttling_retries"],
            "resources": len(result.tables["resources"]),
            "grants": len(result.tables["grants"]),
        }
    )


def run(label: str, sites: int, items: int, roots: int, reader: str) -> dict[str, Any]:
    """One shape: server and collector in processes of their own."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        server_end, server_here = context.Pipe()
        server = context.Process(target=serve, args=(server_end, folder, sites, items, roots))
        server.start()
        options, secret = server_here.recv()
        collector_end, collector_here = context.Pipe()
        client = context.Process(target=collector, args=(collector_end, options, secret, reader))
        client.start()
        collected = collector_here.recv()
        client.join()
        server_here.send("stop")
        served = server_here.recv()
        server.join()
    return {
        "shape": label,
        "reader": reader,
        "sites": sites,
        "items": served["items"],
        "largest library": served["largest library"],
        "roots": served["roots"],
        "delta pages": served["delta_requests"],
        "permissions asked": served["permission_requests"],
        "$batch calls": collected["batches"],
        "requests": collected["requests"],
        "wall s": round(collected["wall"], 1),
        "CPU s": round(collected["cpu"], 1),
        "collector MB (baseline)": f"{collected['peak']:.0f} ({collected['baseline']:.0f})",
        "server CPU s": round(served["cpu"], 1),
        "server MB": round(served["peak"]),
        "resources": collected["resources"],
        "grants": collected["grants"],
    }


def main() -> None:
    """Run the shapes and print one Markdown table, with the date and the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every shape")
    parser.add_argument(
        "--only", choices=sorted({s[0] for s in SHAPES}), help="run one shape (each reader it has)"
    )
    parser.add_argument(
        "--reader", choices=("current", "previous"), help="run only the shapes of this reader"
    )
    args = parser.parse_args()
    from tabulate import tabulate

    rows = []
    for label, sites, items, roots, reader in SHAPES:
        if (args.only and label != args.only) or (args.reader and reader != args.reader):
            continue
        shape = [max(1, round(n * args.scale)) for n in (sites, items, roots)]
        rows.append(run(label, *shape, reader))
        print(rows[-1], file=sys.stderr, flush=True)
    command = " ".join(sys.argv)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, python {command}, {os.cpu_count()} cores")
    print(tabulate(rows, headers="keys", tablefmt="github", intfmt=","))


if __name__ == "__main__":
    main()
