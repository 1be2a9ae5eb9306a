"""Work shared by the rules of one audit run: integer-coded keys and derived masks.

Big tables (effective memberships, access) are joined to accounts, groups and resources by
integer positions (see :mod:`accessaudit.rules._arrays`) rather than by string merges; each
code array is computed once per run and shared by every rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, partial
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.classify import privileged_groups, sensitive_resources
from accessaudit.policy import Policy
from accessaudit.rules._arrays import category_codes, category_values, gather, positions, take_rows
from accessaudit.rules._spec import SnapshotView

__all__ = [
    "SUBJECT_COLUMNS",
    "RuleContext",
    "choose",
    "sensitivity_text",
    "text",
]

HUMAN_KINDS = ("user", "admin")
#: The account columns a finding about an account names it by (``RuleSpec.account_findings``).
SUBJECT_COLUMNS = ["account_id", "login", "system", "person_id"]


def text(values: pd.Series) -> pd.Series:
    """Any column (categorical, string, number) as plain strings, for building messages."""
    out: pd.Series = values.astype(object).astype(str)
    return out


def sensitivity_text(resources: pd.DataFrame) -> pd.Series:
    """'restricted; pii;pci' — what makes each resource sensitive, as a person reads it."""
    level = resources["sensitivity"].astype(object).fillna("unclassified").astype(str)
    categories = resources["data_categories"].fillna("").astype(str)
    out: pd.Series = level + choose(categories != "", "; " + categories, "", level.index)
    return out


def choose(condition: Any, yes: Any, no: Any, index: pd.Index) -> pd.Series:
    """``np.where`` as an object Series on ``index`` (for building messages)."""
    values = np.where(condition, yes, no).astype(object)
    return pd.Series(values, index=index)


class RuleContext:
    """A snapshot seen through one policy on one date, with the per-run derived arrays.

    It is itself a :class:`SnapshotView`, so ``run_audit`` hands it to every rule; a rule
    called on a plain snapshot builds its own with :meth:`of`. ``previous`` (optional) is an
    earlier snapshot, and ``previous_as_of`` its date: the mover rule finds moves HR does not
    record by comparing the two.
    """

    def __init__(
        self,
        snapshot: SnapshotView,
        policy: Policy,
        as_of: pd.Timestamp,
        *,
        previous: SnapshotView | None = None,
        previous_as_of: pd.Timestamp | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.policy = policy
        self.as_of = as_of
        self.previous = previous
        self.previous_as_of = previous_as_of
        self._shared: dict[str, Any] = {}

    def shared(self, name: str, build: Callable[[], Any]) -> Any:
        """What ``build`` returns, built once per context and shared by every rule that asks
        by ``name`` (e.g. the privileged-membership rows three rules read). Callers must not
        change it in place."""
        if name not in self._shared:
            self._shared[name] = build()
        return self._shared[name]

    @classmethod
    def of(cls, snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> RuleContext:
        """Reuse ``snapshot`` when it already is a context for this policy and date."""
        if isinstance(snapshot, RuleContext):
            if snapshot.policy is policy and snapshot.as_of == as_of:
                return snapshot
            return cls(
                snapshot.snapshot,
                policy,
                as_of,
                previous=snapshot.previous,
                previous_as_of=snapshot.previous_as_of,
            )
        return cls(snapshot, policy, as_of)

    # The SnapshotView tables, each with a fresh RangeIndex so positions are row numbers.
    @cached_property
    def people(self) -> pd.DataFrame:
        return self.snapshot.people.reset_index(drop=True)

    @cached_property
    def accounts(self) -> pd.DataFrame:
        return self.snapshot.accounts.reset_index(drop=True)

    @cached_property
    def groups(self) -> pd.DataFrame:
        return self.snapshot.groups.reset_index(drop=True)

    @cached_property
    def memberships(self) -> pd.DataFrame:
        return self.snapshot.memberships.reset_index(drop=True)

    @cached_property
    def resources(self) -> pd.DataFrame:
        return self.snapshot.resources.reset_index(drop=True)

    @cached_property
    def grants(self) -> pd.DataFrame:
        return self.snapshot.grants.reset_index(drop=True)

    @cached_property
    def effective_memberships(self) -> pd.DataFrame:
        return self.snapshot.effective_memberships.reset_index(drop=True)

    @cached_property
    def access(self) -> pd.DataFrame:
        return self.snapshot.access.reset_index(drop=True)

    # Integer codes.
    @cached_property
    def account_index(self) -> pd.Index:
        index: pd.Index = pd.Index(self.accounts["account_id"])
        return index

    @cached_property
    def group_index(self) -> pd.Index:
        index: pd.Index = pd.Index(self.groups["group_id"])
        return index

    @cached_property
    def resource_index(self) -> pd.Index:
        index: pd.Index = pd.Index(self.resources["resource_id"])
        return index

    @cached_property
    def person_index(self) -> pd.Index:
        index: pd.Index = pd.Index(self.people["person_id"])
        return index

    @cached_property
    def account_person(self) -> np.ndarray:
        """For each account, the row of its HR person, -1 when uncorrelated."""
        return positions(self.accounts["person_id"], self.person_index)

    def account_people(self, columns: list[str]) -> pd.DataFrame:
        """The HR person ``columns`` of each account (row for row), empty where uncorrelated;
        each column built once per run. Rules judge on a few typed columns (status, dates)
        for every account, then read names and ids for the accounts they flag only
        (:meth:`person_rows`): text columns are the costly ones to gather."""
        built = [
            self.shared(f"account people {c}", partial(self._account_person_column, c))
            for c in columns
        ]
        return pd.concat(built, axis=1) if built else pd.DataFrame(index=self.accounts.index)

    @cached_property
    def em_account_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """The effective memberships' accounts as ``(codes, at)``: per row an integer code
        (-1 for none), and per code the account row (-1 where absent), with one more -1 at
        the end where code -1 reads. ``at[codes]`` is the account row of each membership.

        The codes are the table's own categorical codes (int32, no copy): rules compose
        per-account arrays through ``at`` (tens of thousands of codes) and gather once,
        instead of writing a row position for each of millions of memberships first.
        """
        return category_codes(self.effective_memberships["account_id"], self.account_index)

    @cached_property
    def em_account(self) -> np.ndarray:
        """Account row of each effective membership (-1 where unknown). The rules read
        :meth:`em_accounts_where` and :meth:`em_account_at` instead, which write no array of
        millions of positions."""
        codes, at = self.em_account_codes
        return gather(at, codes)

    def em_accounts_where(self, per_account: np.ndarray) -> np.ndarray:
        """``per_account`` (one value per account row and one more, read where the account
        is unknown) looked up for each effective membership: one gather of the codes."""
        codes, at = self.em_account_codes
        return gather(per_account[at], codes)

    def em_account_at(self, rows: np.ndarray) -> np.ndarray:
        """Account row (-1 where unknown) of the effective memberships at ``rows``."""
        codes, at = self.em_account_codes
        out: np.ndarray = at[codes[rows]]
        return out

    @cached_property
    def em_group(self) -> np.ndarray:
        """Group row of each effective membership (-1 where unknown). Where the table's group
        categories are the groups in table order (as :mod:`accessaudit.entitlements` builds
        it) these are its own categorical codes, no copy: any integer width (int16 for
        fewer than 32,768 groups), so widen before multiplying."""
        codes, at = category_codes(self.effective_memberships["group_id"], self.group_index)
        if len(at) == len(self.groups) + 1 and np.array_equal(at[:-1], np.arange(len(self.groups))):
            return codes
        return gather(at, codes)

    @cached_property
    def access_account(self) -> np.ndarray:
        return positions(self.access["account_id"], self.account_index)

    @cached_property
    def access_resource(self) -> np.ndarray:
        return positions(self.access["resource_id"], self.resource_index)

    # Derived masks.
    @cached_property
    def group_privileged(self) -> np.ndarray:
        """Privileged groups as :mod:`accessaudit.classify` decides (connector flag + policy)."""
        return privileged_groups(self.groups, self.policy).to_numpy(dtype=bool)

    @cached_property
    def privileged_memberships(self) -> pd.DataFrame:
        """Effective memberships in privileged groups: ``acc``/``grp`` row positions + columns.

        Columns: acc, grp, depth, path, assignment (RangeIndex).
        """
        em = self.effective_memberships
        grp = self.em_group
        # One gather over the memberships (an unknown group, -1, reads the appended False),
        # then the accounts of the few rows kept.
        rows = np.flatnonzero(gather(np.append(self.group_privileged, False), grp))
        acc = self.em_account_at(rows)
        rows, acc = rows[acc >= 0], acc[acc >= 0]
        picked: pd.DataFrame = em[["depth", "path", "assignment"]].take(rows)
        picked = picked.reset_index(drop=True)
        picked.insert(0, "grp", grp[rows].astype(np.int64))
        picked.insert(0, "acc", acc.astype(np.int64))
        return picked

    @cached_property
    def account_rank(self) -> np.ndarray:
        """Which of a person's accounts names them in a person-level finding: lowest first.

        Their everyday user account (matched by employee id) before admin, shared, guest and
        service accounts, so a person reads as the login colleagues know.
        """
        accounts = self.accounts
        order = {"user": 0, "admin": 1, "shared": 2, "guest": 3, "service": 4}
        kind = category_values(accounts["kind"], order, missing=5)
        by_id = category_values(accounts["correlated_by"], {"employee-id": 0}, missing=1)
        rank: np.ndarray = kind * 2 + by_id
        return rank

    def account_order(self, at: np.ndarray) -> np.ndarray:
        """Sort key for the accounts at row positions ``at``: :attr:`account_rank`, then
        login, then id — values only, so the choice never depends on row order. Keys compare
        within one call only (they rank the logins and ids of ``at`` alone: a few thousand
        accounts, not every account of the snapshot)."""
        # factorize codes follow the sorted values; empty values (-1) come first.
        named = self.account_rows(at, ["login", "account_id"])
        login, _ = pd.factorize(named["login"], sort=True)
        ident, _ = pd.factorize(named["account_id"], sort=True)
        n = len(at) + 1
        order: np.ndarray = (self.account_rank[at] * n + login + 1) * n + ident + 1
        return order

    @cached_property
    def account_privileged(self) -> np.ndarray:
        """For each account, whether it holds any privileged membership."""
        mask = np.zeros(len(self.accounts), dtype=bool)
        mask[self.privileged_memberships["acc"].to_numpy()] = True
        return mask

    @cached_property
    def resource_sensitive(self) -> np.ndarray:
        """Sensitive resources as :mod:`accessaudit.classify` decides."""
        return sensitive_resources(self.resources).to_numpy(dtype=bool)

    def sensitive_access(self, accounts: np.ndarray) -> np.ndarray:
        """Row positions of the access table where an account selected by ``accounts`` (a
        mask over the accounts) reaches a sensitive resource."""
        acc, res = self.access_account, self.access_resource
        reach = (acc >= 0) & (res >= 0)
        reach[reach] = accounts[acc[reach]] & self.resource_sensitive[res[reach]]
        return np.flatnonzero(reach)

    def days_since(self, times: pd.Series) -> pd.Series:
        """Whole days from ``times`` to the audit date (Int64, NA where no time)."""
        days: pd.Series = (self.as_of - times).dt.days.astype("Int64")
        return days

    def idle(self, rows: pd.DataFrame, idle_days: int) -> np.ndarray:
        """Which of ``rows`` (account columns) are enabled and unused: no sign-in for
        ``idle_days``, or never signed in and older than the new-account grace period (or of
        unknown age). Accounts whose source cannot report sign-ins are never idle."""
        last, created = rows["last_sign_in"], rows["created"]
        idle_before = self.as_of - pd.Timedelta(days=idle_days)
        grace_before = self.as_of - pd.Timedelta(days=self.policy.new_account_grace_days)
        old = (last < idle_before).to_numpy(dtype=bool, na_value=False)
        never = last.isna().to_numpy() & (created.isna() | (created < grace_before)).to_numpy(
            dtype=bool, na_value=False
        )
        idle: np.ndarray = (
            rows["enabled"].to_numpy(dtype=bool)
            & rows["last_sign_in_known"].to_numpy(dtype=bool)
            & (old | never)
        )
        return idle

    def account_rows(self, at: np.ndarray, columns: list[str] | None = None) -> pd.DataFrame:
        """Account ``columns`` (default: all) gathered at row positions ``at`` (RangeIndex).

        Naming the columns a rule reads matters: the accounts table is wide, most of it text,
        and every column gathered is a copy."""
        accounts = self.accounts if columns is None else self.accounts[columns]
        if len(at) and at.min() < 0:
            # -1 counts from the end, as in iloc (callers pass known rows only).
            at = np.where(at < 0, at + len(accounts), at)
        return take_rows(accounts, at)

    def _account_person_column(self, column: str) -> pd.Series:
        values: pd.Series = self.person_rows(self.account_person, [column])[column]
        return values

    def person_rows(self, at: np.ndarray, columns: list[str] | None = None) -> pd.DataFrame:
        """People columns (default: all) at positions ``at``; rows with -1 are all empty."""
        people = self.people if columns is None else self.people[columns]
        if len(people) == 0:
            return pd.DataFrame(index=pd.RangeIndex(len(at)), columns=people.columns).astype(
                people.dtypes.to_dict()
            )
        return take_rows(people, at)
