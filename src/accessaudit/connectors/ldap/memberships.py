"""Membership edges: gathered while entries stream by, resolved into the ``memberships``
table once every account and group is known.

A directory states membership in several ways, and all of them count: a group's ``member``
(and ``uniqueMember``) DNs, an object's ``memberOf`` back-links, a posixGroup's ``memberUid``
logins, and a primary group that is listed on the account only (AD's ``primaryGroupID``, a
posixAccount's ``gidNumber``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.ldap._report import sample
from accessaudit.connectors.ldap.syntax import DOMAIN_SID, normalise_dn

__all__ = ["MembershipEdges", "dn_index", "membership_table"]


@dataclass
class MembershipEdges:
    """Edges by direction, as plain lists while streaming: (group DN, member DN), (member DN,
    group DN) and (group DN, member uid)."""

    member: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    member_of: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))
    member_uid: tuple[list[str], list[str]] = field(default_factory=lambda: ([], []))

    def add_members(self, group_dn: str, members: list[str]) -> None:
        """A group's member DNs."""
        self.member[0].extend([group_dn] * len(members))
        self.member[1].extend(members)

    def add_member_of(self, member_dn: str, groups: list[str]) -> None:
        """An object's memberOf group DNs."""
        self.member_of[0].extend([member_dn] * len(groups))
        self.member_of[1].extend(groups)

    def add_member_uids(self, group_dn: str, uids: list[str]) -> None:
        """A posixGroup's memberUid logins."""
        self.member_uid[0].extend([group_dn] * len(uids))
        self.member_uid[1].extend(uids)


def membership_table(
    edges: MembershipEdges,
    accounts: pd.DataFrame,
    groups: pd.DataFrame,
    source: str,
    report: dict[str, Any],
) -> pd.DataFrame:
    """The ``memberships`` rows (before conforming) from the edges gathered while streaming.

    ``accounts`` and ``groups`` are the frames built from the same entries (with their ``key``
    column: the normalised DN). Edges to DNs outside the export are kept as ``unresolved``
    members or, for groups outside the export, counted in ``report`` and dropped; the report
    says how many of each and shows the first few.
    """
    index = dn_index(accounts, groups)
    group_ids = groups.set_index("key")["group_id"]
    group_ids = group_ids[~group_ids.index.duplicated()]
    by_dn = pd.concat(
        [
            pd.DataFrame({"group": edges.member[0], "member": edges.member[1]}),
            pd.DataFrame({"group": edges.member_of[1], "member": edges.member_of[0]}),
        ],
        ignore_index=True,
    ).astype(pd.StringDtype(na_value=np.nan))
    by_dn["group_id"] = normalise_dn(by_dn["group"]).map(group_ids)
    outside = by_dn["group_id"].isna()
    # memberOf can name groups of other domains or outside the exported base: no group
    # row to hang the edge on, so they are counted and shown, not kept.
    report["groups_outside_export"] = sample(by_dn.loc[outside, "group"])
    by_dn = by_dn[~outside]
    member_key = normalise_dn(by_dn["member"])
    resolved = member_key.map(index["id"])
    by_dn_edges = pd.DataFrame(
        {
            "group_id": by_dn["group_id"],
            "member_id": resolved.fillna(by_dn["member"]),
            "member_type": member_key.map(index["type"]).fillna("unresolved"),
            "match": resolved.fillna(member_key),
        }
    )
    frames = [by_dn_edges]
    if edges.member_uid[0]:
        frames.append(_uid_edges(edges, accounts, group_ids))
    if "primary_group" in accounts:
        frames.append(_primary_group_edges(accounts, groups, source, report))
    if "gid_number" in accounts and "gid_number" in groups:
        frames.append(_primary_gid_edges(accounts, groups, report))
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates(["group_id", "match"])
    table = table.sort_values(["group_id", "member_id"], kind="stable", ignore_index=True)
    table["assignment"] = "active"
    unresolved = table["member_type"] == "unresolved"
    report["memberships"] = len(table)
    report["memberships_by_type"] = {
        str(k): int(v) for k, v in table["member_type"].value_counts().sort_index().items()
    }
    report["unresolved_members"] = sample(table.loc[unresolved, "member_id"])
    report["foreign_security_principals"] = int(
        table.loc[unresolved, "member_id"]
        .str.contains(",CN=ForeignSecurityPrincipals,", case=False, regex=False)
        .sum()
    )
    return table[["group_id", "member_id", "member_type", "assignment"]]


def _uid_edges(
    edges: MembershipEdges, accounts: pd.DataFrame, group_ids: pd.Series
) -> pd.DataFrame:
    """posixGroup memberUid → the account with that login (ambiguous logins unresolved)."""
    uids = pd.DataFrame({"group": edges.member_uid[0], "uid": edges.member_uid[1]}).astype(
        pd.StringDtype(na_value=np.nan)
    )
    logins = accounts.drop_duplicates("login", keep=False).set_index("login")["account_id"]
    group_id = normalise_dn(uids["group"]).map(group_ids)
    resolved = uids["uid"].map(logins)
    return pd.DataFrame(
        {
            "group_id": group_id,
            "member_id": resolved.fillna("uid=" + uids["uid"]),
            "member_type": np.where(resolved.notna(), "account", "unresolved"),
            "match": resolved.fillna("uid=" + uids["uid"]),
        }
    )


def _primary_group_edges(
    accounts: pd.DataFrame, groups: pd.DataFrame, source: str, report: dict[str, Any]
) -> pd.DataFrame:
    """primaryGroupID is a RID in the account's own domain; AD lists it nowhere else."""
    rid = accounts["primary_group"]
    domain = accounts["native_id"].str.upper().str.extract(DOMAIN_SID)["domain"]
    group_id = source + ":" + domain + "-" + rid.astype("string")
    has_rid = group_id.notna()
    known = group_id.isin(groups["group_id"]).fillna(False).astype(bool)
    report["primary_groups_outside_export"] = sample(group_id[has_rid & ~known])
    keep = has_rid & known
    return _account_edges(group_id[keep], accounts.loc[keep, "account_id"])


def dn_index(accounts: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """Normalised DN → (id, type) for every account and group in the export."""
    index = pd.concat(
        [
            pd.DataFrame({"key": accounts["key"], "id": accounts["account_id"], "type": "account"}),
            pd.DataFrame({"key": groups["key"], "id": groups["group_id"], "type": "group"}),
        ],
        ignore_index=True,
    )
    return index.drop_duplicates("key").set_index("key")


def _primary_gid_edges(
    accounts: pd.DataFrame, groups: pd.DataFrame, report: dict[str, Any]
) -> pd.DataFrame:
    """A posixAccount's ``gidNumber`` makes it a member of the posixGroup with that
    ``gidNumber`` (its primary group, listed nowhere else: RFC 2307 §2.2 and §2.3), as
    ``primaryGroupID`` does in AD. A gid shared by several groups cannot say which one is
    meant: those accounts are counted, not guessed."""
    group_gid = groups["gid_number"].astype(pd.StringDtype(na_value=np.nan)).str.strip()
    by_gid = pd.DataFrame({"gid": group_gid, "group_id": groups["group_id"]}).dropna()
    shared = by_gid["gid"].duplicated(keep=False)
    report["gid_numbers_shared_by_groups"] = sample(by_gid.loc[shared, "gid"])
    group_of_gid = by_gid[~shared].set_index("gid")["group_id"]
    gid = accounts["gid_number"].astype(pd.StringDtype(na_value=np.nan)).str.strip()
    group_id = gid.map(group_of_gid)
    report["primary_gids_outside_export"] = sample(gid[gid.notna() & group_id.isna()])
    keep = group_id.notna()
    return _account_edges(group_id[keep], accounts.loc[keep, "account_id"])


def _account_edges(group_id: pd.Series, account_id: pd.Series) -> pd.DataFrame:
    """Edges from groups to accounts, aligned on the accounts' index."""
    return pd.DataFrame(
        {
            "group_id": group_id,
            "member_id": account_id,
            "member_type": "account",
            "match": account_id,
        }
    )
