"""Breach scope: after an account or a data store is compromised, what was reachable, by whom.

Legal needs two answers fast: *whose data* could the attacker reach (resources, their
sensitivity and data categories) and *which clocks are running* (GDPR Art. 33: 72 hours to the
supervisory authority for personal data, HIPAA: 60 days for protected health information, …).
The clocks are data, not code: :func:`notification_rules` returns the default table, which a
user edits or replaces and passes back in.

>>> result = breach_scope(snapshot, account="alice")            # doctest: +SKIP
>>> result.resources[["resource", "right", "sensitivity", "data_categories"]]  # doctest: +SKIP
>>> result.notifications                                         # doctest: +SKIP

Sharing links count as reach (see :mod:`accessaudit.analysis._links`): an anonymous link is
"anyone with the link", unbounded and said so, never zero people; an organisation link is
every enabled member account of the tenant, counted; a specific-people link or an invitation
is the addresses it names. Expired links reach nobody and are left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from accessaudit.analysis._links import LINK_REACH_COLUMNS, link_reach, reach_summary
from accessaudit.classify import privileged_groups, sensitive_resources
from accessaudit.errors import SnapshotError
from accessaudit.policy import Policy

if TYPE_CHECKING:
    from accessaudit.snapshot import Snapshot

__all__ = [
    "LINK_REACH_COLUMNS",
    "NOTIFICATION_COLUMNS",
    "ScopeResult",
    "breach_scope",
    "link_reach",
    "notification_rules",
]

logger = logging.getLogger("accessaudit.scope")

#: Columns of a notification-rules table.
NOTIFICATION_COLUMNS = ("data_category", "regime", "notify", "deadline_hours", "reference")

# A tuple of tuples, not a DataFrame: module-level data must not be mutable. Each call of
# notification_rules() builds a fresh table the caller may edit.
_DEFAULT_NOTIFICATION_RULES: tuple[tuple[str, str, str, int | None, str], ...] = (
    (
        "pii",
        "GDPR",
        "supervisory authority (and data subjects when the risk is high)",
        72,
        "GDPR Art. 33 / Art. 34",
    ),
    (
        "phi",
        "HIPAA",
        "affected individuals and HHS (media too above 500 residents of a state)",
        60 * 24,
        "HIPAA Breach Notification Rule, 45 CFR §164.404–408",
    ),
    (
        "pci",
        "PCI DSS",
        "acquiring bank and card brands, per the incident response plan",
        None,
        "PCI DSS v4.0 Req. 12.10.1 (brand rules set the clock, often 24–72 hours)",
    ),
)


def notification_rules() -> pd.DataFrame:
    """The default notification clocks, one row per data category and regime.

    Columns: ``data_category``, ``regime``, ``notify`` (who must be told), ``deadline_hours``
    (empty where the regime sets no fixed clock) and ``reference``. Edit the returned table
    (add a state law, drop a regime that does not apply) and pass it to :func:`breach_scope`.

    >>> notification_rules().loc[0, "deadline_hours"]
    72
    """
    table = pd.DataFrame(list(_DEFAULT_NOTIFICATION_RULES), columns=list(NOTIFICATION_COLUMNS))
    table["deadline_hours"] = table["deadline_hours"].astype("Int64")
    return table


@dataclass(frozen=True)
class ScopeResult:
    """The reach of a compromised account or the exposure of a compromised resource.

    ``accounts``: the accounts in scope (the compromised one(s), or everyone who reaches the
    resource). ``resources``: one row per (account, resource) with ``right``, ``path``,
    ``sensitivity`` and ``data_categories``. ``groups``: the groups the compromised account is
    in (empty for a resource). ``data_categories``: every category involved.
    ``notifications``: the rows of the notification table for those categories.
    ``links``: the sharing links and invitations that reach the subject, one row each
    (:data:`LINK_REACH_COLUMNS`): on the resource or anything inside it, or — for an account —
    organisation links it can open as a member of the tenant, invitations of its address and
    specific-people links that name it (or a group it is in).
    ``link_reach`` sums them up (:func:`~accessaudit.analysis._links.reach_summary`).
    """

    subject_type: str
    subject: str
    as_of: pd.Timestamp
    accounts: pd.DataFrame
    resources: pd.DataFrame
    groups: pd.DataFrame
    data_categories: tuple[str, ...]
    notifications: pd.DataFrame
    links: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(LINK_REACH_COLUMNS))
    )

    @property
    def link_reach(self) -> dict[str, Any]:
        """Who the links reach, summed up: anyone (unbounded), organisation accounts
        (counted), named outsiders, and one sentence saying so."""
        return reach_summary(self.links)

    def _repr_html_(self) -> str:
        categories = ", ".join(self.data_categories) or "none"
        return (
            f"<p><b>Breach scope</b> of {self.subject_type} <code>{self.subject}</code> as of "
            f"{self.as_of.date()}: {len(self.accounts)} account(s), "
            f"{self.resources['resource_id'].nunique()} resource(s), "
            f"{int(self.resources['sensitive'].sum())} reachable row(s) on sensitive data; "
            f"data categories: {categories}; {len(self.notifications)} notification clock(s). "
            f"Sharing links: {self.link_reach['statement']}</p>"
        )


def breach_scope(
    snapshot: Snapshot,
    *,
    account: str | None = None,
    resource: str | None = None,
    rules: pd.DataFrame | None = None,
    policy: Policy | None = None,
) -> ScopeResult:
    """What a compromised ``account`` reaches, or who reaches a compromised ``resource``.

    ``account`` matches an account's login, account_id, email or UPN (case-insensitive; the
    same login in two systems gives both accounts). ``resource`` matches a resource's name,
    resource_id or path. Exactly one of them. ``rules`` is a notification table as
    :func:`notification_rules` returns it (the default when omitted). ``policy`` adds its
    privileged groups to the connectors' flags (:mod:`accessaudit.classify`).

    Raises :class:`SnapshotError` when nothing in the snapshot matches.

    >>> breach_scope(snapshot, resource="HR-Share").accounts.login.tolist()  # doctest: +SKIP
    ['alice', 'bob']
    """
    if (account is None) == (resource is None):
        raise SnapshotError("breach scope needs exactly one of an account or a resource")
    rules = notification_rules() if rules is None else rules
    missing = set(NOTIFICATION_COLUMNS[:2]) - set(rules.columns)
    if missing:
        raise SnapshotError(f"notification rules lack column(s) {', '.join(sorted(missing))}")
    accounts = snapshot.accounts
    access = _access_with_resources(snapshot)
    links = link_reach(snapshot)
    if account is not None:
        wanted = account.strip().casefold()
        match = pd.Series(False, index=accounts.index)
        for column in ("login", "account_id", "email", "upn"):
            match |= accounts[column].astype("string").str.casefold().eq(wanted).fillna(False)
        in_scope = accounts[match]
        if in_scope.empty:
            raise SnapshotError(
                f"snapshot of {snapshot.as_of.date()} has no account with login, id or "
                f"email {account!r}"
            )
        reach = access[access["account_id"].isin(in_scope["account_id"])]
        classified = snapshot.groups.assign(privileged=privileged_groups(snapshot.groups, policy))
        groups = snapshot.effective_memberships.merge(
            classified[["group_id", "name", "system", "kind", "privileged"]],
            on="group_id",
            how="left",
        )
        groups = groups[groups["account_id"].isin(in_scope["account_id"])]
        groups = groups[
            ["account_id", "group_id", "name", "system", "kind", "privileged", "depth", "path"]
        ].sort_values(["privileged", "name"], ascending=[False, True])
        subject_type, subject = "account", account
        links = _links_of_accounts(links, in_scope, set(groups["group_id"].astype(str)))
    else:
        assert resource is not None
        wanted = resource.strip().casefold()
        resources = snapshot.resources
        match = pd.Series(False, index=resources.index)
        for column in ("name", "resource_id", "path"):
            match |= resources[column].astype("string").str.casefold().eq(wanted).fillna(False)
        if not match.any():
            raise SnapshotError(
                f"snapshot of {snapshot.as_of.date()} has no resource named {resource!r}"
            )
        reach = access[access["resource_id"].isin(resources.loc[match, "resource_id"])]
        in_scope = accounts[accounts["account_id"].isin(reach["account_id"])]
        groups = pd.DataFrame(
            columns=["account_id", "group_id", "name", "system", "kind", "privileged"]
        )
        subject_type, subject = "resource", resource
        inside = _within(resources, resources.loc[match, "resource_id"])
        links = links[links["resource_id"].isin(inside)]

    reach = reach.merge(
        accounts[["account_id", "login", "system", "kind", "enabled", "person_id"]].rename(
            columns={"system": "account_system"}
        ),
        on="account_id",
        how="left",
    ).sort_values(["sensitivity", "resource", "login"], ascending=[False, True, True])
    reach = reach.reset_index(drop=True)
    links = links.reset_index(drop=True)
    categories = _categories(pd.concat([reach["data_categories"], links["data_categories"]]))
    notifications = rules[rules["data_category"].isin(categories)].reset_index(drop=True)
    account_columns = [
        "account_id",
        "system",
        "login",
        "display_name",
        "kind",
        "enabled",
        "person_id",
        "last_sign_in",
    ]
    return ScopeResult(
        subject_type=subject_type,
        subject=subject,
        as_of=snapshot.as_of,
        accounts=in_scope[account_columns].reset_index(drop=True),
        resources=reach,
        groups=groups.reset_index(drop=True),
        data_categories=categories,
        notifications=notifications,
        links=links,
    )


def _within(resources: pd.DataFrame, chosen: pd.Series) -> set[str]:
    """``chosen`` resource ids and every resource inside them (through ``parent_id``): a link
    on a file of a breached site reaches the site's data."""
    parents = resources[["resource_id", "parent_id"]].astype(object)
    parents = parents[parents["parent_id"].notna()]
    inside = set(chosen.astype(str))
    frontier = inside
    while frontier:
        children = set(parents.loc[parents["parent_id"].isin(frontier), "resource_id"])
        frontier = children - inside
        inside |= frontier
    return inside


def _links_of_accounts(
    links: pd.DataFrame, accounts: pd.DataFrame, groups: set[str]
) -> pd.DataFrame:
    """The links a compromised account opens: organisation links of a tenant it is an
    enabled member account of, invitations of its address, and specific-people links that
    name it — the account itself, or a group it is in at any depth (``groups``). The same
    rows, with the same columns, that the scope of the linked resource lists: an account's
    scope and a resource's scope agree on which links connect them. (An anonymous link opens
    for anyone who has its URL; the account does not make it more or less reachable.)"""
    member = accounts[accounts["enabled"].astype(bool) & accounts["kind"].ne("guest")]
    tenants = set(member["system"].astype(str))
    org = links["principal_id"].eq("organization") & links["tenant"].isin(tenants)
    addresses = set(
        pd.concat([accounts["email"], accounts["upn"], accounts["login"]])
        .dropna()
        .astype(str)
        .str.casefold()
    )
    principal = links["principal_id"].astype(str)
    kind = links["principal_type"].astype(object)
    invited = kind.eq("external") & principal.str.casefold().isin(addresses)
    # A people link keeps the account (or group) it names as the grant's principal.
    named = (kind.eq("account") & principal.isin(set(accounts["account_id"].astype(str)))) | (
        kind.eq("group") & principal.isin(groups)
    )
    return links[org | invited | named]


def _access_with_resources(snapshot: Snapshot) -> pd.DataFrame:
    resources = snapshot.resources[
        ["resource_id", "name", "type", "system", "sensitivity", "data_categories", "owner"]
    ].rename(columns={"name": "resource", "system": "resource_system"})
    resources = resources.assign(sensitive=sensitive_resources(snapshot.resources))
    return snapshot.access.merge(resources, on="resource_id", how="left")[
        [
            "account_id",
            "resource_id",
            "resource",
            "type",
            "resource_system",
            "right",
            "via",
            "path",
            "sensitivity",
            "sensitive",
            "data_categories",
            "owner",
        ]
    ]


def _categories(column: pd.Series) -> tuple[str, ...]:
    words = column.dropna().astype(str).str.split(";").explode().str.strip()
    return tuple(sorted(w for w in words.unique() if w))
