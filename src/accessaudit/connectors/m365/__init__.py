"""Microsoft 365 data stores through Microsoft Graph: the ``m365`` protocol.

SharePoint sites (Teams sites among them, mapped to their Microsoft 365 group), document
libraries, OneDrive (``onedrive = "all"``, ``"none"`` or a list of user principal names), and
the folders and files that root their own permissions, found with the delta API and
``Prefer: hierarchicalsharing`` rather than one call per file (:mod:`.gather`). Sign-in,
paging, ``$batch``, throttling and saved pages are the shared Graph plumbing of
:mod:`accessaudit.connectors._graph`, as for the entra-id connector. Pages become tables in
:mod:`.transform`.

With ``path`` set, a folder of saved pages (``--save-raw``) is re-read instead.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.m365.gather import collect_live
from accessaudit.connectors.m365.settings import M365Settings
from accessaudit.connectors.m365.shapes import PAGES
from accessaudit.connectors.m365.transform import tables_from_pages

__all__ = ["collect"]

log = logging.getLogger("accessaudit.m365")


def collect(settings: SourceSettings, manifest: Manifest, context: CollectContext) -> SourceResult:
    """Read one tenant's SharePoint and OneDrive (live, or a folder of saved pages).

    Returns ``resources`` (sites, libraries, folders and files with their own permissions),
    ``grants`` to sharing-link principals and outside addresses, references for the users and
    groups Graph names (resolved against ``directory``), and a report of counts, calls,
    throttling, delta resyncs and what the app's permissions hid.

    Example config::

        [[sources]]
        name = "m365"
        connector = "m365"
        tenant_id = "contoso.onmicrosoft.com"
        client_id = "00000000-0000-0000-0000-000000000000"
        client_secret_env = "M365_SECRET"
        directory = "entra"              # the entra-id source the object ids belong to
        onedrive = "all"                 # or "none", or ["ann@contoso.com"]
        delta_state = "state/m365.json"  # keep delta tokens: the next run reads changes only
    """
    m365 = M365Settings.read(manifest, settings)
    if settings.path is not None:
        raw = RawPages.load(settings.path, PAGES, source=settings.name)
        stats: dict[str, Any] = {"mode": "saved pages", "pages": len(raw.pages)}
    else:
        raw, stats = collect_live(settings, m365, context)
        if context.save_raw is not None:
            raw.save(Path(context.save_raw) / settings.name)
            stats["saved_to"] = str(Path(context.save_raw) / settings.name)
    tables, references, report = tables_from_pages(raw, system=settings.name, m365=m365)
    report = {**stats, **report, "warnings": list(report["gaps"])}
    log.info(
        "%s: %d resources, %d link and outsider grants, %d references",
        settings.name,
        len(tables["resources"]),
        len(tables["grants"]),
        len(references),
    )
    return SourceResult(
        source=settings.name,
        connector=manifest.connector,
        tables=tables,
        report=report,
        references=references,
    )
