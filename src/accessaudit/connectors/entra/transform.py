"""Raw Graph pages → the ``accounts``, ``groups`` and ``memberships`` tables and the report.

Pure: pages in, conformed tables and a JSON-able report out. Live collection and re-reading
saved pages both end here, which is what makes a re-read identical.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from accessaudit.connectors.entra.frames import frame, text
from accessaudit.connectors.entra.pages import RawPages
from accessaudit.connectors.entra.settings import GraphSettings
from accessaudit.connectors.entra.transform_accounts import (
    accounts_from_pages,
    credentials_report,
)
from accessaudit.connectors.entra.transform_groups import groups_from_pages
from accessaudit.model import TABLES

__all__ = ["tables_from_pages"]


def tables_from_pages(
    raw: RawPages, *, system: str, graph: GraphSettings, as_of: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Map Graph pages onto the ``accounts``, ``groups`` and ``memberships`` tables.

    Returns the conformed tables and the report (counts, sign-in and MFA knowledge,
    credentials, delegated grants, gaps).

    >>> from accessaudit.connectors.entra.pages import RawPages
    >>> tables, report = tables_from_pages(
    ...     RawPages(), system="entra", graph=GraphSettings(), as_of=pd.Timestamp("2026-11-21")
    ... )
    >>> len(tables["accounts"]), report["objects"]["users"]
    (0, 0)
    """
    read = accounts_from_pages(raw, system=system, graph=graph, as_of=as_of)
    accounts = TABLES["accounts"].conform(
        read.accounts, source=system, origin="object " + read.accounts["native_id"].astype(str)
    )
    grouped = groups_from_pages(raw, system=system, graph=graph, account_ids=accounts["native_id"])
    groups = TABLES["groups"].conform(
        grouped.groups, source=system, origin="object " + grouped.groups["native_id"].astype(str)
    )
    memberships = TABLES["memberships"].conform(grouped.memberships, source=system)

    guests = int(accounts["kind"].eq("guest").sum())
    grants = frame(raw, "oauth2_permission_grants")
    consent = text(grants, "consentType")
    scopes = text(grants, "scope").str.split().explode().dropna()
    report: dict[str, Any] = {
        "objects": {
            "users": read.users,
            "members": read.users - guests,
            "guests": guests,
            **grouped.counts,
            "service_principals": read.service_principals,
            "app_role_assignments": grouped.app_role_assignments,
            "applications": read.applications,
            "oauth2_permission_grants": len(grants),
        },
        "sign_in": read.sign_in,
        "mfa": read.mfa,
        "pim_eligibility_known": bool(raw.notes.get("eligibility_known", True)),
        "credentials": credentials_report(read.credentials, graph.long_lived_secret_days),
        "oauth2_permission_grants": {
            "total": len(grants),
            "admin_consent": int(consent.eq("AllPrincipals").sum()),
            "user_consent": int(consent.eq("Principal").sum()),
            "clients": int(text(grants, "clientId").nunique()),
            "top_scopes": {str(k): int(v) for k, v in scopes.value_counts().head(10).items()},
        },
        "unresolved_members": int(memberships["member_type"].eq("unresolved").sum()),
        "gaps": list(raw.notes.get("gaps", [])),
    }
    tables = {"accounts": accounts, "groups": groups, "memberships": memberships}
    return tables, report
