"""The m365 connector's calls grow with roots of unique permissions, not with files: a
generated tenant (tests/graph_server/generated.py, computed from a seed, never held whole)
collected live through the local HTTPS Graph with msal, the Graph client and the delta scan.

The benchmark (bench/m365_bench.py) runs the same tenant at 2,000 sites / 5 million items /
50,000 roots; here a small one proves the counts. Shapes: microsoftgraph/microsoft-graph-docs-
contrib api-reference/v1.0 api/driveitem-delta.md ("Scanning permissions hierarchies") and
api/driveitem-list-permissions.md.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.m365 import collect
from graph_server import CLIENT_SECRET, Faults, GraphServer, PkiFiles, make_pki, sign_in_options
from graph_server.generated import GeneratedSharePoint
from graph_server.server import Counters

AS_OF = pd.Timestamp("2026-11-21T12:00:00", tz="UTC")
SECRET_ENV = "ACCESSAUDIT_TEST_M365_SCALE_SECRET"
TENANT = {"tenant_id": "b6f0c1d2-7e3a-4c5b-9a8d-1e2f3a4b5c6d", "users": [], "groups": []}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


def _collect(
    pki: PkiFiles, tenant: GeneratedSharePoint, faults: Faults | None = None
) -> tuple[SourceResult, Counters]:
    """One live collection of ``tenant``; what the server counted beside it."""
    with GraphServer(TENANT, pki, faults=faults, routes=[tenant]) as server:
        result = collect(
            SourceSettings("m365", "m365", options=sign_in_options(server, pki, SECRET_ENV)),
            find_manifests()["m365"],
            CollectContext(as_of=AS_OF),
        )
        return result, server.counters


def test_generated_tenant_is_the_same_every_time() -> None:
    one = GeneratedSharePoint(sites=40, items=12_000, roots=400, seed=3)
    two = GeneratedSharePoint(sites=40, items=12_000, roots=400, seed=3)
    assert (one.items, one.roots) == (12_000, 400)
    assert one.sizes == two.sizes and one.extra_roots == two.extra_roots
    assert max(one.sizes) > 4 * min(one.sizes)  # libraries of very different sizes
    library = one.sizes.index(max(one.sizes))
    assert one.item(library, 77, True) == two.item(library, 77, True)
    assert one.permissions(library, 1) == two.permissions(library, 1)
    roots = sum(one.is_root(n, i) for n, size in enumerate(one.sizes) for i in range(size))
    assert roots == one.roots


def test_calls_follow_roots_not_items(pki: PkiFiles) -> None:
    small = GeneratedSharePoint(sites=30, items=6_000, roots=300)
    large = GeneratedSharePoint(sites=30, items=24_000, roots=300)
    results = [(tenant, _collect(pki, tenant)[0]) for tenant in (small, large)]
    for tenant, result in results:
        report = result.report
        assert report["delta_items_seen"] == tenant.items
        assert report["permission_roots"] == tenant.roots
        assert tenant.counters.permission_requests == tenant.roots
        assert report["permission_requests"] == tenant.roots
        assert tenant.counters.delta_requests == tenant.delta_pages
        # 20 permission look-ups to a $batch, one $batch call per library at least.
        assert report["batches"] >= math.ceil(tenant.roots / 20)
        # Every root but the library roots is a folder resource of its own.
        kinds = result.tables["resources"]["type"].value_counts()
        assert kinds["site"] == kinds["library"] == 30
        assert kinds["folder"] == tenant.roots - 30
        # Each link or invitation the generator drew is a grant; nothing else is.
        drawn = [
            p
            for n, size in enumerate(tenant.sizes)
            for i in range(size)
            if tenant.is_root(n, i)
            for p in tenant.permissions(n, i)
            if p["id"].startswith(("anon-", "org-", "invite-"))
        ]
        assert len(result.tables["grants"]) == len(drawn) > 0
    (_, small_result), (_, large_result) = results
    assert small_result.report["permission_requests"] == large_result.report["permission_requests"]
    assert small.counters.delta_requests < large.counters.delta_requests


def test_permission_lookups_of_many_libraries_fill_each_batch(pki: PkiFiles) -> None:
    """json-batching.md: up to 20 requests a $batch. 30 libraries of about 10 roots each
    share full batches instead of a half-empty one at the end of every library."""
    tenant = GeneratedSharePoint(sites=30, items=6_000, roots=300)
    result, served = _collect(pki, tenant)
    report = result.report
    assert report["permission_requests"] == tenant.counters.permission_requests == 300
    # 30 sites' libraries in 2 batches (20 + 10), then 300 look-ups in 15 full batches; the
    # per-library batching needed one at least per library (30 or more).
    assert served.batch_sizes == [20, 10] + [20] * 15
    assert report["batches"] == 17


def test_throttled_lookups_inside_a_batch_of_several_libraries_are_retried(
    pki: PkiFiles,
) -> None:
    """A 429 on one sub-request of a mixed batch (json-batching.md: each response has its
    own status, Retry-After in its headers) is retried after that wait; the other look-ups of
    the batch are kept, and the collection is the same as without throttling."""
    calm = GeneratedSharePoint(sites=30, items=6_000, roots=300)
    calm_result, _ = _collect(pki, calm)
    tenant = GeneratedSharePoint(sites=30, items=6_000, roots=300)
    result, served = _collect(pki, tenant, Faults(throttle_batch_every=3, retry_after="0.01"))
    assert served.throttled > 0
    assert result.report["throttling_retries"] == served.throttled
    # Each root asked of the tenant once: a throttled look-up never reached it.
    assert tenant.counters.permission_requests == result.report["permission_requests"] == 300
    assert result.report["permission_roots"] == 300
    key = ["permission_id", "resource_id", "principal_id"]
    got = result.tables["grants"].sort_values(key).reset_index(drop=True)
    want = calm_result.tables["grants"].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)
