"""Databases: sensitive tables open to every role, or to accounts that connect from anywhere.

The database connectors describe two kinds of reach that no group owner reviews, as
pseudo-groups of the server (see :mod:`accessaudit.connectors.databases.catalog`):

* ``PUBLIC`` (native id :data:`accessaudit.model.EVERY_ROLE_GROUP`) — PostgreSQL's keyword
  for every role, present and future; a privilege granted to it is held by every login role.
* ``any-host`` (native id :data:`accessaudit.model.ANY_HOST_GROUP`) — a MySQL/MariaDB
  account whose host part is ``%``: its password works from any network address.

Sensitivity is the resource's own (the inventory, or columns found by ``discover = true``),
decided by :mod:`accessaudit.classify`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.model import ANY_HOST_GROUP, EVERY_ROLE_GROUP
from accessaudit.policy import Policy
from accessaudit.rules._arrays import positions
from accessaudit.rules._context import RuleContext, sensitivity_text, text
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = ["PUBLIC_DATABASE_GRANT", "public_database_grant"]


def _pseudo_groups(ctx: RuleContext, native_id: str) -> pd.Index:
    groups = ctx.groups
    ids: pd.Index = pd.Index(
        groups.loc[groups["native_id"].astype(object) == native_id, "group_id"].astype(object)
    )
    return ids


def _members_of(ctx: RuleContext, group_ids: pd.Index) -> pd.Series:
    """The ``member_id`` of every direct membership in one of ``group_ids``."""
    m = ctx.memberships
    if not len(group_ids):
        # Most snapshots have no such pseudo-group: do not read millions of memberships.
        return m["member_id"].iloc[:0]
    values = m["group_id"]
    if not isinstance(values.dtype, pd.CategoricalDtype):
        # The same string type on both sides: Arrow strings are looked up in place.
        group_ids = group_ids.astype(values.dtype)
    inside = positions(values, group_ids) >= 0
    return m["member_id"][inside]


def _granted_to_public(ctx: RuleContext) -> pd.DataFrame:
    """One finding per grant to ``PUBLIC`` on a sensitive resource (subject: the resource)."""
    g = ctx.grants
    public = _pseudo_groups(ctx, EVERY_ROLE_GROUP)
    mask = (
        ~g["deny"].to_numpy(dtype=bool)
        & (g["principal_type"].astype(object) == "group").to_numpy(dtype=bool)
        & g["principal_id"].astype(object).isin(public).to_numpy(dtype=bool)
    )
    at = ctx.resource_index.get_indexer(pd.Index(g["resource_id"].astype(object)))
    mask &= at >= 0
    mask[mask] = ctx.resource_sensitive[at[mask]]
    g = g[mask].reset_index(drop=True)
    r = ctx.resources.iloc[at[mask]].reset_index(drop=True)
    right = text(g["right"])
    what = "PUBLIC: " + right
    message = (
        "every role on "
        + text(g["system"])
        + " can "
        + right
        + " "
        + text(r["name"])
        + " ("
        + sensitivity_text(r)
        + "): granted to PUBLIC"
    )
    evidence = pd.DataFrame(
        {
            "grantee": "PUBLIC",
            "principal_id": g["principal_id"].astype(object),
            "right": right,
            "resource_type": r["type"].astype(object),
            "sensitivity": r["sensitivity"].astype(object),
            "data_categories": r["data_categories"],
            "owner": r["owner"],
            "path": g["path"],
        }
    )
    return PUBLIC_DATABASE_GRANT.grant_findings(
        g,
        r,
        message=message,
        evidence=evidence,
        entitlement=what,
        entitlement_key=g["principal_id"].astype(object) + ":" + right,
    )


def _reached_from_any_host(ctx: RuleContext) -> pd.DataFrame:
    """One finding per enabled any-host account and sensitive resource it reaches."""
    anywhere = _members_of(ctx, _pseudo_groups(ctx, ANY_HOST_GROUP))
    chosen = np.zeros(len(ctx.accounts), dtype=bool)
    at = ctx.account_index.get_indexer(pd.Index(anywhere.astype(object)))
    chosen[at[at >= 0]] = True
    chosen &= ctx.accounts["enabled"].to_numpy(dtype=bool)
    hits = ctx.sensitive_access(chosen)
    a = ctx.account_rows(ctx.access_account[hits])
    r = ctx.resources.iloc[ctx.access_resource[hits]].reset_index(drop=True)
    grant = ctx.access.iloc[hits].reset_index(drop=True)
    message = (
        text(a["login"])
        + " signs in to "
        + text(a["system"])
        + " from any host ('%') and can "
        + text(grant["right"])
        + " "
        + text(r["name"])
        + " ("
        + sensitivity_text(r)
        + ")"
    )
    evidence = pd.DataFrame(
        {
            "host": "%",
            "resource": r["name"].astype(object),
            "right": text(grant["right"]),
            "via": text(grant["via"]),
            "path": text(grant["path"]),
            "sensitivity": r["sensitivity"].astype(object),
            "data_categories": r["data_categories"],
            "owner": r["owner"],
        }
    )
    return PUBLIC_DATABASE_GRANT.account_findings(
        a,
        message=message,
        evidence=evidence,
        entitlement=r["name"].astype(object),
        entitlement_key=r["resource_id"].astype(object),
    )


def public_database_grant(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """A sensitive table (confidential or above, or pii / phi / pci) granted to ``PUBLIC``, or
    reached by an enabled account that may sign in from any host (``'user'@'%'``).

    One finding per PUBLIC grant (subject: the resource), and one per any-host account and
    sensitive resource it reaches through any role (subject: the account).
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    found = [_granted_to_public(ctx), _reached_from_any_host(ctx)]
    return pd.concat([f for f in found if len(f)] or found[:1], ignore_index=True)


PUBLIC_DATABASE_GRANT = RuleSpec(
    id="public-database-grant",
    title="Sensitive table open to every role or from any host",
    severity="high",
    rationale="A privilege granted to PUBLIC is held by every role of the server, present and "
    "future, and an account whose host is '%' accepts its password from any network address: "
    "either puts sensitive rows beyond the people a data owner approved.",
    remediation="REVOKE the privilege FROM PUBLIC and grant it to a role whose members the owner "
    "reviews; restrict the account's host ('user'@'10.0.0.%') or drop the '%' account.",
    controls=(
        "ISO 27001:2022 A.5.15",
        "ISO 27001:2022 A.8.3",
        "SOC 2 CC6.1",
        "NIST SP 800-53 AC-6",
        "GDPR Art. 32",
        "PCI DSS 4.0 7.2.2",
    ),
    function=public_database_grant,
    needs=("databases", "resources", "grants"),
    false_positives=(
        "Reference tables classified too high (a country list marked confidential); a '%' account "
        "that the server's firewall or pg_hba/bind-address only lets in from one network."
    ),
)
