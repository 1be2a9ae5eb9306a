"""Raw Graph pages → the ``accounts``, ``groups`` and ``memberships`` tables and the report.

Pure: pages in, conformed tables and a JSON-able report out. Live collection and re-reading
saved pages both end here, which is what makes a re-read identical.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.entra.frames import frame, text
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.connectors.entra.transform_accounts import (
    accounts_from_pages,
    credentials_report,
)
from accessaudit.connectors.entra.transform_groups import groups_from_pages
from accessaudit.model import TABLES

__all__ = ["tables_from_pages"]


def tables_from_pages(
    raw: RawPages, *, system: str, graph: EntraSettings, as_of: pd.Timestamp
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Map Graph pages onto the ``accounts``, ``groups`` and ``memberships`` tables.

    Returns the conformed tables and the report (counts, sign-in and MFA knowledge,
    credentials, delegated grants, gaps).

    >>> from accessaudit.connectors._graph.pages import RawPages
    >>> tables, report = tables_from_pages(
    ...     RawPages(), system="entra", graph=EntraSettings(), as_of=pd.Timestamp("2026-11-21")
    ... )
    >>> len(tables["accounts"]), report["objects"]["users"]
    (0, 0)
    """
    read = accounts_from_pages(raw, system=system, graph=graph, as_of=as_of)
    accounts = TABLES["accounts"].conform(
        read.accounts, source=system, origin=_origins(read.accounts)
    )
    grouped = groups_from_pages(
        raw, system=system, graph=graph, account_ids=accounts["native_id"], as_of=as_of
    )
    groups = TABLES["groups"].conform(
        grouped.groups, source=system, origin=_origins(grouped.groups)
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
        "coverage": read.coverage,
        "gaps": list(raw.notes.get("gaps", [])),
    }
    report["sponsors_known"] = bool(raw.notes.get("sponsors_known", False))
    if not report["sponsors_known"] and raw.notes.get("sponsors_reason"):
        report["sponsors_reason"] = str(raw.notes["sponsors_reason"])
    report["pim_groups_known"] = bool(raw.notes.get("group_pim_known", False))
    if not report["pim_groups_known"] and raw.notes.get("group_pim_reason"):
        report["pim_groups_reason"] = str(raw.notes["group_pim_reason"])
    users = accounts["kind"].ne("service") & accounts["enabled"]
    report["mfa"]["unknown_enabled"] = int((users & accounts["mfa"].isna()).sum())
    report["warnings"] = [*report["gaps"], *_warnings(report)]
    tables = {"accounts": accounts, "groups": groups, "memberships": memberships}
    return tables, report


def _origins(rows: pd.DataFrame) -> pd.Series:
    """Where each row came from (``<file or URL> object <id>``), for conform's messages."""
    if "_origin" in rows.columns:
        return rows["_origin"].fillna("object " + rows["native_id"].astype(str)).astype(str)
    return "object " + rows["native_id"].astype(str)


def _warnings(report: dict[str, Any]) -> list[str]:
    """Sentences for what the collection could not know, so no reader mistakes it for clean."""
    coverage, sign_in, mfa = report["coverage"], report["sign_in"], report["mfa"]
    said = []
    if coverage["enabled_unknown"]:
        said.append(
            f"{coverage['enabled_unknown']} accounts without accountEnabled: enabled state "
            "unknown, kept as enabled so every rule checks them (never read as disabled)"
        )
    if coverage["user_type_unknown"]:
        said.append(
            f"{coverage['user_type_unknown']} users without userType: guests told apart by "
            "their #EXT# user principal name only"
        )
    if coverage["password_policy_unknown"]:
        said.append(
            f"{coverage['password_policy_unknown']} cloud users without passwordPolicies: "
            "whether their password expires is unknown (password-never-expires cannot flag them)"
        )
    if sign_in["known"] and sign_in["unknown"]:
        said.append(
            f"{sign_in['unknown']} users without signInActivity: last sign-in unknown "
            "(last_sign_in_known false), not 'never signed in'"
        )
    if sign_in["known"] and not sign_in["successful_reported"] and sign_in["decided_by"]:
        said.append(
            "the tenant does not report lastSuccessfulSignInDateTime: last_sign_in is the "
            f"latest sign-in attempt ({sign_in['decided_by']}), successful or not"
        )
    if mfa["known"] and mfa["unknown_enabled"]:
        said.append(
            f"{mfa['unknown_enabled']} enabled users not in the MFA registration report: MFA "
            "capability unknown, so mfa-missing cannot flag them"
        )
    if not report["sponsors_known"] and report["objects"]["guests"]:
        reason = report.get("sponsors_reason") or "not in the collected pages"
        said.append(
            f"guest sponsors not read ({reason}): guest-without-sponsor judges "
            f"{report['objects']['guests']} guests on HR sponsors and managers only"
        )
    if not report["pim_groups_known"]:
        reason = report.get("pim_groups_reason") or "not in the collected pages"
        said.append(
            f"PIM for Groups not read ({reason}): eligible group members and owners are "
            "missing from the memberships"
        )
    return said
