"""Who a sharing link reaches: the reach of each link and invitation in a snapshot.

A grant to the ``anyone`` link principal (an anonymous link) reaches whoever holds its URL:
nobody can count them, so the reach is *unbounded* and said so, never zero people. A grant to
``organization`` (an organisation link, or SharePoint's "Everyone except external users")
reaches every enabled member account of the tenant (guests excluded: "people in your
organisation" links do not open for them), counted from the directory the Microsoft 365
source resolves its users against. An ``external`` grant (an invitation, or a specific-people
link to an outside address) reaches that address. A specific-people link that names people
of the directory is, for each of them, a grant to their account (or group) that keeps the
link's columns: it reaches that person. A link whose expiry has passed reaches nobody and is
left out.

>>> link_reach(snapshot)[["resource", "reach", "people"]]  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from accessaudit.model import LINK_COLUMNS

if TYPE_CHECKING:
    from accessaudit.snapshot import Snapshot

__all__ = ["LINK_REACH_COLUMNS", "link_reach", "named_in_link", "reach_summary", "tenant_members"]

#: One row per link or invitation that reaches someone on the snapshot's date.
LINK_REACH_COLUMNS = (
    "resource_id",
    "resource",
    "type",
    "sensitivity",
    "data_categories",
    "principal_id",
    "principal_type",
    "reach",
    "people",
    "unbounded",
    "system",
    "tenant",
    "right",
    *LINK_COLUMNS,
    "inherited",
)

ANYONE = "anyone with the link (no sign-in; unbounded: whoever has the URL)"


def named_in_link(grants: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Grants to an account or group of the directory that a sharing link gives (a
    specific-people link naming them): they carry the link's scope."""
    return grants["principal_type"].isin(["account", "group"]).to_numpy(dtype=bool) & grants[
        "link_scope"
    ].notna().to_numpy(dtype=bool)


def tenant_members(snapshot: Snapshot) -> pd.Series:
    """Per account system: how many enabled member (non-guest) accounts it holds."""
    accounts = snapshot.accounts
    members = accounts[accounts["enabled"].astype(bool) & accounts["kind"].ne("guest")]
    return members.groupby(members["system"].astype(str)).size()


def _tenant_of_sources(snapshot: Snapshot) -> dict[str, str]:
    """Each source that holds link grants → the directory its users resolve to: the system of
    most accounts and groups it grants to, else the only entra-id source, if one."""
    grants = snapshot.grants
    named = grants[grants["principal_type"].isin(["account", "group"])]
    owners = pd.concat(
        [
            snapshot.accounts[["account_id", "system"]].set_axis(
                ["principal_id", "tenant"], axis=1
            ),
            snapshot.groups[["group_id", "system"]].set_axis(["principal_id", "tenant"], axis=1),
        ]
    ).astype(str)
    resolved = named[["system", "principal_id"]].astype(str).merge(owners, on="principal_id")
    resolved = resolved[resolved["tenant"] != resolved["system"]]
    found: dict[str, str] = {}
    if len(resolved):
        counts = resolved.groupby(["system", "tenant"]).size().reset_index(name="n")
        best = counts.sort_values(["system", "n"], ascending=[True, False])
        found = dict(best.drop_duplicates("system")[["system", "tenant"]].to_numpy().tolist())
    entra = [str(s.get("source")) for s in snapshot.sources if s.get("connector") == "entra-id"]
    linking = set(grants.loc[grants["principal_type"].isin(["link", "external"]), "system"])
    for system in linking:
        if str(system) not in found and len(entra) == 1:
            found[str(system)] = entra[0]
    return found


def link_reach(snapshot: Snapshot, *, include_expired: bool = False) -> pd.DataFrame:
    """Every sharing link and invitation with whom it reaches (:data:`LINK_REACH_COLUMNS`).

    ``reach`` says it in words; ``people`` counts them (empty where nobody can: an anonymous
    link, or an organisation whose directory was not collected); ``unbounded`` marks the
    anonymous links. Deny entries and, unless ``include_expired``, links whose expiry is on
    or before the snapshot's date are left out.
    """
    grants = snapshot.grants
    links = grants[
        (
            grants["principal_type"].isin(["link", "external"]).to_numpy(dtype=bool)
            | named_in_link(grants)
        )
        & ~grants["deny"].to_numpy(dtype=bool)
    ]
    if not include_expired:
        expired = (links["link_expires"] <= snapshot.as_of).fillna(False).astype(bool)
        links = links[~expired.to_numpy(dtype=bool)]
    if links.empty:
        # Most snapshots hold no link: no merge over every grant to find a tenant.
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LINK_REACH_COLUMNS})
    resources = snapshot.resources[
        ["resource_id", "name", "type", "sensitivity", "data_categories"]
    ].rename(columns={"name": "resource"})
    out = links.merge(resources, on="resource_id", how="left").reset_index(drop=True)
    tenant = out["system"].astype(str).map(_tenant_of_sources(snapshot))
    members = tenant_members(snapshot)
    principal = out["principal_id"].astype(str)
    anyone = principal.eq("anyone").to_numpy()
    organisation = principal.eq("organization").to_numpy()
    kind = out["principal_type"].astype(object)
    inside = kind.isin(["account", "group"]).to_numpy()
    named = principal.where(pd.Series(inside, index=out.index))
    login = named.map(snapshot.accounts.set_index("account_id")["login"]).astype(object)
    group = named.map(snapshot.groups.set_index("group_id")["name"]).astype(object)
    inside_text = np.where(
        kind.eq("group").to_numpy(),
        "members of group " + group.where(group.notna(), principal).astype(str),
        login.where(login.notna(), principal).astype(str),
    )
    counted = tenant.map(members).astype("Int64")
    # Anyone: no count (unbounded, never 0); organisation: the tenant's count; outsider: 1.
    people = counted.where(pd.Series(organisation, index=out.index))
    people = people.mask(pd.Series(~organisation & ~anyone, index=out.index), 1)
    # A group named in a people link: as many as its members; not counted here.
    people = people.mask(kind.eq("group"), pd.NA)
    org_text = (
        "every enabled member account of the tenant "
        + tenant.astype(object).fillna("?").astype(str)
        + " ("
        + counted.astype(str).replace("<NA>", "count unknown: directory not collected")
        + ")"
    )
    reach = np.where(
        anyone,
        ANYONE,
        np.where(
            organisation,
            org_text,
            np.where(
                inside,
                inside_text + " (named in a specific-people link)",
                principal + " (outside the directory)",
            ),
        ),
    )
    out = out.assign(
        reach=reach,
        people=people,
        unbounded=anyone,
        tenant=tenant.astype(object),
    )
    result: pd.DataFrame = out.reindex(columns=list(LINK_REACH_COLUMNS))
    return result


def reach_summary(links: pd.DataFrame) -> dict[str, Any]:
    """What ``links`` (rows of :func:`link_reach`) add up to: ``anyone_with_the_link`` (and
    ``unbounded``: then no count is the whole reach), ``organization_accounts`` (the largest
    tenant count, or None when none or unknown), ``named`` (outside addresses),
    ``named_people`` (people of the directory a specific-people link names), and a
    ``statement`` a reader can quote."""
    principal = links["principal_id"].astype(str)
    anyone = bool(principal.eq("anyone").any())
    org = links[principal.eq("organization")]
    org_count = org["people"].dropna()
    organization_accounts = int(org_count.max()) if len(org_count) else None
    named = sorted(set(links.loc[links["principal_type"].eq("external"), "principal_id"]))
    inside = links["principal_type"].isin(["account", "group"])
    named_people = sorted(set(links.loc[inside, "reach"].astype(str).str.split(" \\(").str[0]))
    parts = []
    if anyone:
        parts.append("anyone with the link: unbounded, no sign-in needed")
    if len(org):
        parts.append(
            f"every enabled member account of the tenant ({organization_accounts})"
            if organization_accounts is not None
            else "every account of the tenant (count unknown: directory not collected)"
        )
    if named:
        parts.append(f"{len(named)} outside address(es): {', '.join(named)}")
    if named_people:
        parts.append(
            f"{len(named_people)} named in specific-people links: {', '.join(named_people)}"
        )
    return {
        "links": len(links),
        "anyone_with_the_link": anyone,
        "unbounded": anyone,
        "organization_accounts": organization_accounts,
        "named": named,
        "named_people": named_people,
        "statement": "; ".join(parts) if parts else "no sharing link reaches it",
    }
