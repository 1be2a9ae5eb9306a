"""Review items for sharing links and invitations (Microsoft 365).

A grant to a link principal (``anyone``, ``organization``) or to an outside address
(``external``: an invitation, or a specific-people link to someone outside the directory) is
an item of its own: no account holds it, so nobody's manager can review it. It goes to the
owner of the site the data sits in — the site resource's owner as collected (the Microsoft 365
group's owner, or the owner the data inventory gives the site) — else the resource's own
owner, else the data owner of the inventory entry that covers its URL. The item says which
(``reviewer_basis``), and says so too when nobody is known: it is never dropped; the fallback
reviewer (or the unassigned workbook) takes it.

A specific-people link naming people of the directory gives each of them a grant on their own
account that keeps the link: each is a ``link`` item too (the person named in *How held*), so
revoking it deletes the link's permission.

What the reviewer sees in *How held*: who the link reaches (anyone, every member of the tenant
counted, the invited address, or the named person), the link type (view / edit / embed),
expiry or "no expiry", password, download, who created it and when, and the site.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
import pandas as pd

from accessaudit.analysis._links import link_reach
from accessaudit.classify import privileged_rights
from accessaudit.model import SENSITIVITIES
from accessaudit.resolve import normalise_paths
from accessaudit.snapshot import Snapshot

__all__ = [
    "LINK_ITEM_COLUMNS",
    "SHARING_RULES",
    "LinkFacts",
    "add_link_findings",
    "link_item_ids",
    "link_items",
]

#: The rules whose findings are about one link or invitation (matched by permission id).
SHARING_RULES = ("public-link", "org-wide-link", "link-no-expiry", "external-sharing")

#: Item columns only link items fill ('' on every other item), for remediation.
LINK_ITEM_COLUMNS = (
    "link_scope",
    "link_type",
    "link_expires",
    "link_created_by",
    "link_has_password",
    "link_prevents_download",
    "invited_email",
    "site",
    "reviewer_basis",
    "permission_id",
    "drive_id",
    "drive_item_id",
    "permission_inherited",
)

_WHO = {
    "anyone": "anyone with the link (no sign-in)",
    "organization": "everyone in the organisation",
}


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def _site_of(resources: pd.DataFrame) -> pd.Series:
    """For each resource, the resource_id of the site it sits in (itself for a site)."""
    parent = resources.set_index("resource_id")["parent_id"].astype(object)
    kind = resources.set_index("resource_id")["type"].astype(object)
    current = pd.Series(resources["resource_id"].to_numpy(), index=resources["resource_id"])
    site = current.where(current.map(kind).eq("site"))
    # file → folder(s) → library → site: a few steps, each one vectorised.
    for _ in range(16):
        current = current.map(parent)
        if current.isna().all():
            break
        site = site.where(site.notna(), current.where(current.map(kind).eq("site")))
    return site


def _inventory_owner(resources: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """For each resource named by a URL (by resource_id): the owner_id and name of the data
    inventory entry — another source's inventoried resource with an owner — whose URL is the
    longest whole-component prefix of its own."""
    ids = resources["resource_id"].to_numpy()
    owner = pd.Series(None, index=ids, dtype=object)
    name = pd.Series(None, index=ids, dtype=object)
    web = (
        resources["path"].astype("string").str.match(r"(?i)https?://").fillna(False).astype(bool)
    ).to_numpy()
    entries = resources[web & resources["inventoried"].astype(bool).to_numpy()]
    entries = entries[entries["owner_id"].notna()]
    if entries.empty:
        return owner, name
    own = pd.Series(normalise_paths(resources.loc[web, "path"]).to_numpy(), index=ids[web])
    system = pd.Series(resources.loc[web, "system"].astype(object).to_numpy(), index=ids[web])
    entry_paths = normalise_paths(entries["path"])
    # Shortest first, so a longer (closer) entry overwrites; one vectorised test per entry
    # (few inventory entries name web stores).
    for at in np.argsort(entry_paths.str.len().to_numpy(), kind="stable"):
        path = entry_paths.iloc[at]
        entry = entries.iloc[at]
        covers = (own.eq(path) | own.str.startswith(path + "\\")) & system.ne(entry["system"])
        owner[own.index[covers.to_numpy()]] = entry["owner_id"]
        name[own.index[covers.to_numpy()]] = entry["name"]
    return owner, name


def link_items(snapshot: Snapshot, resources: pd.DataFrame) -> pd.DataFrame:
    """One review item per sharing link or invitation (expired ones too: a dead permission
    is still worth removing), before findings, recommendation and reviewer are added.

    ``resources`` is the classified resources table (``sensitive`` column added). The items
    carry ``owner_id`` and ``manager_id`` (both: the reviewer, whether the campaign is by
    owner or by manager), ``owner_fallback`` (the reviewer is not the site's owner) and the
    :data:`LINK_ITEM_COLUMNS`.
    """
    reach = link_reach(snapshot, include_expired=True)
    if reach.empty:
        return pd.DataFrame()
    grants = reach.merge(
        resources[
            ["resource_id", "owner_id", "owner", "sensitive", "parent_id", "system", "inventoried"]
        ].rename(columns={"system": "resource_system"}),
        on="resource_id",
        how="left",
    )
    site_of = _site_of(resources)
    by_id = resources.set_index("resource_id")
    site_id = grants["resource_id"].map(site_of)
    site_owner = site_id.map(by_id["owner_id"]).astype(object)
    site_name = site_id.map(by_id["name"]).astype(object)
    own_owner = grants["owner_id"].astype(object)
    inventory_owner, inventory_entry = _inventory_owner(resources)
    entry_owner = grants["resource_id"].map(inventory_owner).astype(object)
    entry_name = grants["resource_id"].map(inventory_entry).astype(object)
    owner_words = by_id["owner"].astype(object)
    site_owner_text = site_id.map(owner_words).astype(object).fillna(site_owner)
    reviewer = site_owner.where(site_owner.notna(), own_owner)
    reviewer = reviewer.where(reviewer.notna(), entry_owner)
    kind = _text(grants["type"]).replace("", "resource")
    basis = np.select(
        [site_owner.notna().to_numpy(), own_owner.notna().to_numpy(), entry_owner.notna()],
        [
            ("site owner " + _text(site_owner_text)).to_numpy(),
            ("the " + kind + "'s owner (its site names no owner)").to_numpy(),
            ("data owner of inventory entry " + _text(entry_name) + " (no site or item owner)"),
        ],
        default="no owner known (site, item or inventory): sent to the fallback reviewer",
    )
    principal = _text(grants["principal_id"])
    external = grants["principal_type"].astype(object).eq("external")
    # A person of the directory named in a specific-people link: their account holds it.
    named = grants["principal_type"].astype(object).isin(["account", "group"])
    account = snapshot.accounts.set_index("account_id")
    of_named = principal.where(named)
    login = of_named.map(account["login"]).astype(object)
    login = login.where(named & login.notna(), principal)
    person_id = of_named.map(account["person_id"]).astype(object)
    people = grants["people"].astype("Int64")
    who = principal.map(_WHO).fillna(principal)
    # "bob@contoso.com (named in a specific-people link)" (the reach says it).
    who = who.where(~named, grants["reach"].astype(str))
    who = who.where(
        ~principal.eq("organization"),
        who + " (" + people.astype(str).replace("<NA>", "count unknown") + " accounts)",
    )
    expires = grants["link_expires"]
    expiry = expires.dt.strftime("%Y-%m-%d").fillna("")
    expired = (expires <= snapshot.as_of).fillna(False).astype(bool)
    expiry_text = np.where(
        expiry.eq("").to_numpy(),
        "no expiry",
        np.where(expired.to_numpy(), "expired on " + expiry, "expires " + expiry),
    )
    link_type = _text(grants["link_type"])
    scope = _text(grants["link_scope"])
    what = np.where(
        external.to_numpy() & scope.eq("").to_numpy(),
        "invitation",
        np.where(
            scope.eq("").to_numpy(),
            "Everyone except external users grant",
            scope.replace("users", "specific-people") + " " + link_type.replace("", "?") + " link",
        ),
    )
    created_by = _text(grants["link_created_by"])
    created = grants["link_created"].dt.strftime("%Y-%m-%d").fillna("")
    origin = np.where(
        (created_by.ne("") | created.ne("")).to_numpy(),
        "created"
        + np.where(created.ne(""), " " + created, "")
        + np.where(created_by.ne(""), " by " + created_by, ""),
        "creator not reported",
    )
    password = grants["link_has_password"].astype("boolean")
    download = grants["link_prevents_download"].astype("boolean")
    flags = (
        pd.Series(
            np.where(password.fillna(False).to_numpy(dtype=bool), "password", "no password"),
            index=grants.index,
        )
        + np.where(download.fillna(False).to_numpy(dtype=bool), ", view only (no download)", "")
    ).where(~external | scope.ne(""), "sign-in as the invited address")
    how_held = (
        who
        + "; "
        + what
        + "; "
        + expiry_text
        + "; "
        + flags
        + "; "
        + origin
        + "; site "
        + _text(site_name).replace("", "unknown")
        + "; reviewer: "
        + basis
    )
    return pd.DataFrame(
        {
            "account_id": principal,
            "entitlement_type": np.where(external & scope.eq(""), "invitation", "link"),
            "entitlement_id": _text(grants["resource_id"]),
            "entitlement": _text(grants["resource"]),
            "right": _text(grants["right"]),
            "how_held": how_held,
            "privileged": privileged_rights(grants["right"]).to_numpy(),
            "sensitivity": _text(grants["sensitivity"]),
            "data_categories": _text(grants["data_categories"]),
            "depth": pd.array([pd.NA] * len(grants), dtype="Int64"),
            "assignment": "active",
            "group_kind": "",
            "owner_id": reviewer.to_numpy(),
            "manager_id": reviewer.to_numpy(),
            "owner_fallback": site_owner.isna().to_numpy(),
            "via": "link",
            "sensitive": grants["sensitive"].astype("boolean").fillna(False).to_numpy(dtype=bool),
            "login": login,
            "system": _text(grants["system"]),
            "account_kind": np.where(external, "external", np.where(named, "people link", "link")),
            "enabled": True,
            "person_id": person_id.astype(object),
            "person": who,
            "department": "",
            "hr_status": np.where(
                external,
                "outsider (no HR record)",
                np.where(named, "named in a specific-people link", "not a person (link)"),
            ),
            "end_date": pd.Series(pd.NaT, index=grants.index, dtype="datetime64[ns, UTC]"),
            "created": pd.Series(pd.NaT, index=grants.index, dtype="datetime64[ns, UTC]"),
            "last_sign_in": pd.Series(pd.NaT, index=grants.index, dtype="datetime64[ns, UTC]"),
            # Not an account: the sign-in rows of the decision table must not judge it.
            "last_sign_in_known": False,
            "peer_fraction": np.nan,
            "peers": 0,
            "peer_holders": 0,
            "peer_share": "n/a (sharing link)",
            "link_scope": scope.where(scope.ne(""), np.where(external, "", "organization")),
            "link_type": link_type,
            "link_expires": expiry,
            "link_expired": expired.to_numpy(),
            "link_people": people.astype(str).replace("<NA>", "").to_numpy(),
            "link_created_by": created_by,
            "link_has_password": _text(password),
            "link_prevents_download": _text(download),
            "invited_email": principal.where(external, ""),
            "site": _text(site_name),
            "reviewer_basis": basis,
            "permission_id": _text(grants["permission_id"]),
            "drive_id": _text(grants["drive_id"]),
            "drive_item_id": _text(grants["item_id"]),
            # permission-delete.md: only a permission that is not inherited can be deleted.
            "permission_inherited": np.where(grants["inherited"].astype(bool), "yes", ""),
        }
    )


def link_item_ids(items: pd.DataFrame) -> pd.Series:
    """Stable ids of link items: principal, resource and permission id (two anonymous links on
    one file are two items)."""
    keys = (
        items["account_id"].astype(str)
        + "\x1f"
        + items["entitlement_type"].astype(str)
        + "\x1f"
        + items["entitlement_id"].astype(str)
        + "\x1f"
        + items["permission_id"].astype(str)
    )
    return keys.map(lambda key: hashlib.sha256(key.encode()).hexdigest()[:16])


def add_link_findings(items: pd.DataFrame, findings: pd.DataFrame | None) -> pd.DataFrame:
    """``items`` (link items) with ``findings``: the sharing rules that fired on each link
    (a finding names its link by the permission id in its evidence, else the principal)."""
    if findings is None or findings.empty:
        return items.assign(findings="")
    on_links = findings[findings["rule"].isin(SHARING_RULES)]
    evidence = on_links["evidence"].tolist()
    keys = pd.DataFrame(
        {
            "resource": on_links["subject_id"].astype(str).to_numpy(),
            "link": [
                str((e or {}).get("permission_id") or (e or {}).get("principal") or "")
                for e in evidence
            ],
            "rule": on_links["rule"].astype(str).to_numpy(),
        }
    ).drop_duplicates()
    own = (
        items["permission_id"]
        .astype(str)
        .where(items["permission_id"].astype(str).ne(""), items["account_id"].astype(str))
    )
    mine = pd.DataFrame({"resource": items["entitlement_id"].astype(str), "link": own}).reset_index(
        names="row"
    )
    matched = mine.merge(keys, on=["resource", "link"])
    rules = matched.sort_values("rule").groupby("row")["rule"].agg(", ".join)
    return items.assign(findings=rules.reindex(items.index).fillna("").to_numpy())


class LinkFacts(NamedTuple):
    """The conditions and reasons of the decision table's sharing rows (14-17, see
    :mod:`accessaudit.review.recommend`) and the summary a kept link shows."""

    is_link: pd.Series
    conditions: dict[int, pd.Series]
    reasons: dict[int, pd.Series]
    summary: pd.Series

    @classmethod
    def of(cls, items: pd.DataFrame) -> LinkFacts:
        index = items.index

        def column(name: str) -> pd.Series:
            values = items[name] if name in items else pd.Series("", index=index)
            return values.astype(object).where(values.notna(), "").astype(str)

        kind = column("entitlement_type")
        is_link = kind.isin(["link", "invitation"])
        level = pd.Series(
            pd.Categorical(
                column("sensitivity").replace("", None),
                categories=list(SENSITIVITIES),
                ordered=True,
            ),
            index=index,
        )
        confidential = (level >= "confidential").fillna(False).astype(bool)
        restricted = (level >= "restricted").fillna(False).astype(bool)
        principal = column("login")
        external = column("account_kind").eq("external")
        no_expiry = column("link_expires").eq("")
        expiry = pd.Series(
            np.where(no_expiry, "no expiry", "expires " + column("link_expires")), index=index
        ).astype(str)
        people = column("link_people").replace("", "count unknown")
        what = np.where(
            kind.eq("invitation"),
            "invitation",
            column("link_scope").replace("", "organization")
            + " "
            + column("link_type").replace("", "access")
            + " link",
        )
        sensitivity = column("sensitivity").replace("", "unclassified")
        conditions = {
            14: is_link & principal.eq("anyone") & confidential,
            15: is_link & principal.eq("organization") & restricted,
            16: is_link & external & confidential,
            17: is_link & (principal.eq("anyone") | external) & no_expiry,
        }
        reasons = {
            14: "anyone with the link can open " + sensitivity + " data, no sign-in needed",
            15: "everyone in the organisation (" + people + " accounts) can open restricted data",
            16: "outsider "
            + principal
            + " reaches "
            + sensitivity
            + " data ("
            + expiry
            + "): confirm the business need",
            17: pd.Series(
                np.where(external, "invitation", "anonymous link")
                + " without expiry: keep it only with an expiry date",
                index=index,
            ),
        }
        summary = pd.Series(what + " on " + sensitivity + " data, " + expiry, index=index)
        return cls(is_link, conditions, reasons, summary)
