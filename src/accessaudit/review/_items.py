"""The review items of a campaign: who holds what, and what we recommend (who reviews each
item and which items a campaign holds: :mod:`._assign`).

One item is one entitlement of one account: an (account → group) effective membership or
an (account → resource) access row — or one sharing link or invitation on a Microsoft 365
resource, which no account holds and the site's owner reviews (:mod:`._links`). Everything
here is vectorised: a campaign over a large organisation is a handful of merges, not a loop
over people.
"""

from __future__ import annotations

import hashlib
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from accessaudit.classify import privileged_rights, with_classification
from accessaudit.policy import Policy
from accessaudit.review._held import access_beside_people_links
from accessaudit.review._links import (
    LINK_ITEM_COLUMNS,
    add_link_findings,
    link_item_ids,
    link_items,
)
from accessaudit.review.recommend import recommend
from accessaudit.snapshot import Snapshot

__all__ = [
    "ITEM_COLUMNS",
    "FindingsSource",
    "ReviewBy",
    "build_items",
    "cell_text",
]

ReviewBy = Literal["manager", "owner"]

#: Columns of the items table, in order. The first block is what reviewers see.
ITEM_COLUMNS = (
    "item_id",
    "reviewer_id",
    "reviewer",
    "reviewer_email",
    "reviewer_is_fallback",
    "person_id",
    "person",
    "department",
    "hr_status",
    "account_id",
    "login",
    "system",
    "account_kind",
    "entitlement_type",
    "entitlement_id",
    "entitlement",
    "right",
    "how_held",
    "privileged",
    "sensitivity",
    "data_categories",
    "last_sign_in",
    "peer_share",
    "findings",
    "recommendation",
    "reason",
    # Used by remediation and verification, never shown.
    "depth",
    "assignment",
    "account_dn",
    "account_native_id",
    "group_kind",
    "direct_group_id",
    "direct_group_name",
    "direct_group_dn",
    "direct_group_native_id",
    "connector",
    # The connector of the resource's source (m365: a site membership through a group is
    # removed from the Microsoft 365 group by Graph).
    "resource_connector",
    # Sharing links and invitations only ('' on other items): what the reviewer saw in
    # How held, as data, and where the permission sits for the Graph call that removes it.
    *LINK_ITEM_COLUMNS,
)


class FindingsSource(Protocol):
    """Anything with a findings table (an ``AuditResult``)."""

    @property
    def findings(self) -> pd.DataFrame: ...


def cell_text(series: pd.Series) -> pd.Series:
    """Object column of plain str, '' for empty: what goes into a workbook cell and the hash."""
    return series.astype(object).where(series.notna(), "").astype(str)


def build_items(
    snapshot: Snapshot,
    policy: Policy,
    findings: pd.DataFrame | None,
    *,
    by: ReviewBy,
) -> pd.DataFrame:
    """Every reviewable entitlement with its person, evidence and recommendation.

    ``by="manager"`` gives group memberships and resource access of accounts that belong to a
    person; ``by="owner"`` gives every access row on a resource (people or not). Either way,
    every sharing link and invitation is an item for its site's owner
    (:func:`accessaudit.review._links.link_items`). Reviewers are not assigned here (see
    :func:`assign_reviewers`).
    """
    as_of = snapshot.as_of
    accounts = snapshot.accounts
    # Privileged and sensitive as the rules see them: connector flags plus the policy.
    groups, resources = with_classification(snapshot.groups, snapshot.resources, policy)

    memberships = snapshot.effective_memberships.merge(
        groups[["group_id", "name", "privileged", "kind", "system"]].rename(
            columns={"kind": "group_kind", "system": "group_system"}
        ),
        on="group_id",
        how="left",
    )
    group_items = pd.DataFrame(
        {
            "account_id": memberships["account_id"].astype(str),
            "entitlement_type": "group",
            "entitlement_id": memberships["group_id"].astype(str),
            "entitlement": cell_text(memberships["name"]),
            "right": "member" if len(memberships) else pd.Series(dtype=object),
            "how_held": cell_text(memberships["path"]),
            "privileged": memberships["privileged"].fillna(False).astype(bool),
            "sensitivity": "",
            "data_categories": "",
            "depth": memberships["depth"].astype("Int64"),
            "assignment": cell_text(memberships["assignment"]),
            "group_kind": cell_text(memberships["group_kind"]),
            "owner_id": pd.Series(np.nan, index=memberships.index, dtype=object),
        }
    )
    # One item per thing to decide: access that only a specific-people link gives is that
    # link's item (revoked by deleting its permission), not a second, ordinary resource item
    # whose revoke could only go to manual.csv while the link kept the access (._held).
    access = access_beside_people_links(snapshot).merge(
        resources[
            ["resource_id", "name", "sensitivity", "sensitive", "data_categories", "owner_id"]
        ],
        on="resource_id",
        how="left",
    )
    resource_items = pd.DataFrame(
        {
            "account_id": access["account_id"].astype(str),
            "entitlement_type": "resource",
            "entitlement_id": access["resource_id"].astype(str),
            "entitlement": cell_text(access["name"]),
            "right": cell_text(access["right"]),
            "how_held": cell_text(access["path"]),
            "privileged": privileged_rights(access["right"]),
            "sensitivity": cell_text(access["sensitivity"]),
            "data_categories": cell_text(access["data_categories"]),
            "depth": pd.Series(pd.NA, index=access.index, dtype="Int64"),
            "assignment": "active" if len(access) else pd.Series(dtype=object),
            "group_kind": "",
            "owner_id": access["owner_id"].astype(object),
            "via": cell_text(access["via"]),
        }
    )
    resource_items["sensitive"] = access["sensitive"].astype("boolean").fillna(False).astype(bool)
    group_items["via"] = ""
    # A group is sensitive when it opens a sensitive resource someone reaches (through a
    # people link too: the group named in one opens it to its members).
    reached = resources["resource_id"].isin(snapshot.access["resource_id"])
    sensitive_groups = set(
        snapshot.grants.loc[
            snapshot.grants["resource_id"].isin(
                resources.loc[reached & resources["sensitive"].astype(bool), "resource_id"]
            ),
            "principal_id",
        ].astype(str)
    )
    group_items["sensitive"] = group_items["entitlement_id"].isin(sensitive_groups)

    items = pd.concat([group_items, resource_items], ignore_index=True)
    people = snapshot.people
    account_info = accounts[
        [
            "account_id",
            "login",
            "system",
            "kind",
            "enabled",
            "person_id",
            "dn",
            "native_id",
            "created",
            "last_sign_in",
            "last_sign_in_known",
        ]
    ].rename(columns={"kind": "account_kind", "dn": "account_dn", "native_id": "account_native_id"})
    items = items.merge(account_info, on="account_id", how="left")
    person_info = people[["person_id", "name", "department", "status", "end_date", "manager_id"]]
    items = items.merge(
        person_info.rename(columns={"name": "person", "status": "hr_status"}),
        on="person_id",
        how="left",
    )
    if by == "manager":
        items = items[items["person_id"].notna() & items["person"].notna()]
    else:
        items = items[items["entitlement_type"] == "resource"]
    items = items.reset_index(drop=True)

    items = _add_direct_group(items, groups)
    items = _add_peer_share(items, people)
    items = _add_findings(items, findings, policy)
    links = link_items(snapshot, resources)
    if len(links):
        items = pd.concat([items, add_link_findings(links, findings)], ignore_index=True)
    connectors = {str(s.get("source")): str(s.get("connector", "")) for s in snapshot.sources}
    items["connector"] = items["system"].map(connectors).astype(object).fillna("")
    resource_system = items["entitlement_id"].astype(str).str.split(":", n=1).str[0]
    items["resource_connector"] = (
        resource_system.map(connectors)
        .astype(object)
        .where(items["entitlement_type"].ne("group"), "")
        .fillna("")
    )
    # The one decision table (review/recommend.py) shared by workbooks, notebooks and the API.
    items = recommend(items, policy, as_of)
    items["item_id"] = _item_ids(items)
    is_link = items["entitlement_type"].isin(["link", "invitation"])
    if is_link.any():
        items.loc[is_link, "item_id"] = link_item_ids(items[is_link])
        # A link has no sign-in; the recommendation's sign-in text would read as an account's.
        items.loc[is_link, "last_sign_in"] = "n/a (sharing link)"
    items["hr_status"] = cell_text(items["hr_status"]).replace("", "no HR record")
    for column in ("person_id", "person", "department", "login", "system", "account_kind"):
        items[column] = cell_text(items[column])
    for column in ("account_dn", "account_native_id"):
        items[column] = cell_text(items[column])
    return items


def _add_direct_group(items: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """The group an account is a direct member of on the path to the item's group (or to the
    group that grants the resource): the one a remediation removes it from (removing it from
    a parent group would not end the nesting)."""
    first = items["how_held"].str.split(" > ", n=1).str[0]
    through_group = items["entitlement_type"].eq("group") | (
        items["entitlement_type"].eq("resource") & items["via"].ne("direct")
    )
    lookup = groups[["group_id", "system", "name", "dn", "native_id"]].rename(
        columns={
            "group_id": "direct_group_id",
            "name": "direct_group_name",
            "dn": "direct_group_dn",
            "native_id": "direct_group_native_id",
        }
    )
    lookup = lookup.assign(direct_group_name=lookup["direct_group_name"].astype(str))
    lookup = lookup.drop_duplicates(["system", "direct_group_name"])
    keyed = items.assign(direct_group_name=first.where(through_group, ""))
    merged = keyed.merge(lookup, on=["system", "direct_group_name"], how="left")
    for column in (
        "direct_group_id",
        "direct_group_name",
        "direct_group_dn",
        "direct_group_native_id",
    ):
        merged[column] = cell_text(merged[column])
    return merged


def _add_peer_share(items: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """Share of the person's department peers (other current staff) holding the same
    entitlement, computed on every item before any scope is applied."""
    current = people[people["status"] != "terminated"]
    department_size = current.groupby("department").size()
    held = items.loc[items["person_id"].notna(), ["person_id", "entitlement_id"]].drop_duplicates()
    held = held.merge(current[["person_id", "department"]], on="person_id")
    holders = held.groupby(["department", "entitlement_id"]).size().rename("holders")
    out = items.join(holders, on=["department", "entitlement_id"])
    is_current = out["person_id"].isin(current["person_id"]).astype(int)
    peers = out["department"].map(department_size).fillna(0).astype(int) - is_current
    holding = out["holders"].fillna(0).astype(int) - is_current
    out["peers"] = peers.clip(lower=0)
    out["peer_holders"] = holding.clip(lower=0)
    known = out["department"].notna() & (out["peers"] > 0)
    share = (out["peer_holders"] / out["peers"].where(out["peers"] > 0)).fillna(0)
    out["peer_fraction"] = share.where(known)
    text = (
        out["peer_holders"].astype(str)
        + " of "
        + out["peers"].astype(str)
        + " peers ("
        + (share * 100).round().astype(int).astype(str)
        + "%)"
    )
    out["peer_share"] = text.where(known, "no peers")
    return out.drop(columns=["holders"])


def _add_findings(
    items: pd.DataFrame, findings: pd.DataFrame | None, policy: Policy
) -> pd.DataFrame:
    """The rule ids of findings on each item: on the account itself (entitlement empty), on
    the account's hold of this entitlement, or on the person for this entitlement (a
    sod-conflict finding names its SoD rule: it is on each entitlement of that rule)."""
    if findings is None or findings.empty:
        return items.assign(findings="")
    f = findings[["rule", "subject_type", "subject_id", "person_id", "entitlement"]].astype(object)
    f = f.where(f.notna(), "")
    sod = {rule.name: list(rule.entitlements) for rule in policy.sod}
    conflicts = f["rule"].eq("sod-conflict") & f["entitlement"].isin(sod)
    if conflicts.any():
        spread = f[conflicts].assign(entitlement=f.loc[conflicts, "entitlement"].map(sod))
        f = pd.concat([f[~conflicts], spread.explode("entitlement")], ignore_index=True)
    on_account = f[f["subject_type"] != "person"]
    on_person = f[f["subject_type"] == "person"]
    keys = items[["account_id", "person_id", "entitlement_id", "entitlement"]].astype(object)
    keys = keys.where(keys.notna(), "").reset_index(names="row")
    hits = [
        keys.merge(on_account, left_on="account_id", right_on="subject_id"),
        keys.merge(on_person, left_on="person_id", right_on="subject_id"),
    ]
    matched = pd.concat(hits, ignore_index=True)
    matched = matched[
        (matched["entitlement_y"] == "")
        | (matched["entitlement_y"] == matched["entitlement_x"])
        | (matched["entitlement_y"] == matched["entitlement_id"])
    ]
    rules = (
        matched.drop_duplicates(["row", "rule"])
        .sort_values("rule")
        .groupby("row")["rule"]
        .agg(", ".join)
    )
    return items.assign(findings=rules.reindex(items.index).fillna("").to_numpy())


def _item_ids(items: pd.DataFrame) -> pd.Series:
    """Stable id of an entitlement: the same account holding the same thing has the same id
    in every campaign, so decisions can be compared quarter to quarter."""
    keys = (
        items["account_id"] + "\x1f" + items["entitlement_type"] + "\x1f" + items["entitlement_id"]
    )
    return keys.map(lambda key: hashlib.sha256(key.encode()).hexdigest()[:16])
