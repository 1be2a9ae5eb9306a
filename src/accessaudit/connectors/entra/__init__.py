"""Microsoft Entra ID through Microsoft Graph: the ``graph`` protocol.

Two ways in, one way out. Live, the connector signs in with msal (client secret, certificate,
device code or interactive), reads Graph v1.0 page by page (``@odata.nextLink`` followed
exactly as returned, ``$batch`` for per-group and per-service-principal calls, 429/503
honoured with ``Retry-After``, one fresh token after a 401: the shared Graph plumbing of
:mod:`accessaudit.connectors._graph`) in the order :mod:`.gather` sets, and keeps every page
it read. With
``path`` set, it re-reads a folder of such pages instead (``--save-raw`` writes them:
``<save_raw>/<source>/index.json`` plus one JSON file per page). Both ways end in the same
pure :func:`~accessaudit.connectors.entra.transform.tables_from_pages`, so a re-read is exact.

The manifest (``connectors/entra-id.toml``) holds the endpoint paths, ``$select`` lists and
the privileged roles (:mod:`.settings` reads it), :mod:`.shapes` the documented types of what
the transforms read; this package holds only the protocol.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.entra.gather import collect_live
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.connectors.entra.shapes import PAGES
from accessaudit.connectors.entra.transform import tables_from_pages

__all__ = ["collect"]

log = logging.getLogger("accessaudit.graph")


def collect(settings: SourceSettings, manifest: Manifest, context: CollectContext) -> SourceResult:
    """Read one Entra ID tenant (live through Graph, or a folder of saved pages).

    ``settings.path`` set: re-read the pages a ``--save-raw`` run (or
    :func:`accessaudit.sample._entra.write_tenant`) wrote there. Otherwise sign in with msal and
    read Graph; with ``context.save_raw`` every page goes to ``<save_raw>/<source name>/``.
    Returns ``accounts``, ``groups`` and ``memberships`` and a report of counts, pages,
    batches, throttling retries and what the tenant's licence or permissions hid.

    Example config::

        [[sources]]
        name = "entra"
        connector = "entra-id"
        tenant_id = "contoso.onmicrosoft.com"
        client_id = "00000000-0000-0000-0000-000000000000"
        client_secret_env = "ENTRA_SECRET"
    """
    graph = EntraSettings.from_manifest(manifest, settings)
    if settings.path is not None:
        raw = RawPages.load(settings.path, PAGES, source=settings.name)
        stats: dict[str, Any] = {"mode": "saved pages", "pages": len(raw.pages)}
    else:
        raw, stats = collect_live(settings, graph, context)
        if context.save_raw is not None:
            raw.save(Path(context.save_raw) / settings.name)
            stats["saved_to"] = str(Path(context.save_raw) / settings.name)
    tables, report = tables_from_pages(raw, system=settings.name, graph=graph, as_of=context.as_of)
    report = {**stats, **report}
    log.info(
        "%s: %d accounts, %d groups, %d memberships from %d pages",
        settings.name,
        len(tables["accounts"]),
        len(tables["groups"]),
        len(tables["memberships"]),
        report["pages"],
    )
    return SourceResult(
        source=settings.name, connector=manifest.connector, tables=tables, report=report
    )
