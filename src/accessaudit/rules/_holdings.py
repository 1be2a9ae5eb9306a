"""Who holds what, per person, and how many of a department's people hold it.

The lifecycle rules (movers, joiners) compare one person's entitlements with their old and
new department's peers. An *entitlement* is a group (at any depth of nesting) or a resource
(effective access); both share one integer code space: groups ``0 .. G-1``, resources
``G .. G+R-1``. A person holds an entitlement when any of their enabled accounts does.
Peers are the people HR does not mark terminated, with a department.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from accessaudit.rules._arrays import gather
from accessaudit.rules._context import RuleContext
from accessaudit.rules._spec import RuleSpec

__all__ = ["Holdings", "day_text", "person_findings"]


@dataclass
class Holdings:
    """Person × entitlement pairs of one audit run, and department counts on demand."""

    ctx: RuleContext

    @classmethod
    def of(cls, ctx: RuleContext) -> Holdings:
        """The holdings of ``ctx``, built once per audit run and shared by the rules (and the
        audit notes) that ask."""
        holdings: Holdings = ctx.shared("holdings", lambda: cls(ctx))
        return holdings

    @cached_property
    def counted(self) -> np.ndarray:
        """People rows that count as peers: not terminated, with a department."""
        people = self.ctx.people
        return (people["department"].notna() & (people["status"] != "terminated")).to_numpy(
            dtype=bool
        )

    @cached_property
    def _factorized(self) -> tuple[np.ndarray, pd.Index]:
        codes, uniques = pd.factorize(self.ctx.people["department"].where(self.counted))
        return codes.astype(np.int64), pd.Index(uniques)

    @property
    def departments(self) -> pd.Index:
        """The departments of counted people (codes index this), in order of appearance."""
        return self._factorized[1]

    @property
    def department_code(self) -> np.ndarray:
        """Per person row: code of their (current) department, -1 when not counted."""
        return self._factorized[0]

    @cached_property
    def sizes(self) -> np.ndarray:
        """People per department code."""
        codes = self.department_code
        return np.bincount(codes[codes >= 0], minlength=len(self.departments))

    def department_of(self, names: pd.Series) -> np.ndarray:
        """Codes of department names (e.g. previous departments), -1 when none counts."""
        return np.asarray(self.departments.get_indexer(pd.Index(names)), dtype=np.int64)

    @property
    def n_groups(self) -> int:
        return len(self.ctx.groups)

    @property
    def n_codes(self) -> int:
        return len(self.ctx.groups) + len(self.ctx.resources)

    @cached_property
    def holder(self) -> np.ndarray:
        """Per account row, the person row it holds for (an enabled account of an HR person),
        else -1; one more -1 at the end, where an unknown account (position -1) reads."""
        ctx = self.ctx
        enabled = ctx.accounts["enabled"].to_numpy(dtype=bool)
        holder = np.where(enabled & (ctx.account_person >= 0), ctx.account_person, -1)
        return np.append(holder, -1)

    @cached_property
    def special(self) -> np.ndarray:
        """Per entitlement code: a privileged group or a sensitive resource."""
        return np.concatenate([self.ctx.group_privileged, self.ctx.resource_sensitive])

    def _holds(self, accounts: np.ndarray, entitlements: np.ndarray | None) -> pd.DataFrame:
        """The (person, entitlement) holds of the accounts ``accounts`` selects (a mask over
        :attr:`holder`) on the entitlements ``entitlements`` selects (a mask over codes; None:
        every known one): columns person, entitlement, source (0 membership, 1 access), row
        (in that table), account; memberships first, each table in its own order.

        Selecting before building keeps the table to the few rows a rule asks about: the
        effective memberships run to millions.
        """
        ctx = self.ctx
        parts = []
        access_account = ctx.access_account
        for source, (acc_where, acc_at, ent, offset, end) in enumerate(
            (
                (ctx.em_accounts_where, ctx.em_account_at, ctx.em_group, 0, self.n_groups),
                (
                    lambda per_account: per_account[access_account],
                    lambda rows: access_account[rows],
                    ctx.access_resource,
                    self.n_groups,
                    self.n_codes,
                ),
            )
        ):
            # One pass over the table with the mask that keeps fewer rows, then the other
            # mask on what is left. Memberships read their accounts through the stored codes
            # (RuleContext.em_accounts_where): no row position per membership is written.
            if entitlements is None:
                rows = np.flatnonzero(acc_where(accounts))
                rows = rows[ent[rows] >= 0]
                account = acc_at(rows)
            else:
                # An unknown entitlement (-1) reads the appended False.
                rows = np.flatnonzero(gather(np.append(entitlements[offset:end], False), ent))
                account = acc_at(rows)
                keep = accounts[account]
                rows, account = rows[keep], account[keep]
            parts.append(
                pd.DataFrame(
                    {
                        "person": self.holder[account],
                        "entitlement": ent[rows].astype(np.int64) + offset,
                        "source": source,
                        "row": rows,
                        "account": account,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def held_by(self, people: np.ndarray, entitlements: np.ndarray | None = None) -> pd.DataFrame:
        """The holds of the given person rows (one row per account and way of holding), of
        the entitlements ``entitlements`` selects (a mask over codes; default: all)."""
        chosen = np.zeros(len(self.ctx.people) + 1, dtype=bool)
        chosen[people] = True
        return self._holds(chosen[self.holder], entitlements)

    def holders(self, entitlements: np.ndarray) -> pd.Series:
        """Counted people holding each of ``entitlements`` per department: a Series indexed
        by (department code, entitlement)."""
        chosen = np.zeros(self.n_codes, dtype=bool)
        chosen[entitlements] = True
        wanted = self._holds(self.holder >= 0, chosen)
        unique = wanted[["person", "entitlement"]].drop_duplicates()
        department = self.department_code[unique["person"].to_numpy()]
        counted = unique[department >= 0].assign(department=department[department >= 0])
        counts: pd.Series = counted.groupby(["department", "entitlement"]).size()
        return counts

    def count(
        self, holders: pd.Series, department: np.ndarray, entitlement: np.ndarray
    ) -> np.ndarray:
        """``holders`` looked up at (department, entitlement) pairs; 0 where none."""
        if len(department) == 0:
            return np.zeros(0, dtype=np.int64)
        keys = pd.MultiIndex.from_arrays([department, entitlement])
        return holders.reindex(keys, fill_value=0).to_numpy(dtype=np.int64)

    def describe(self, entitlement: np.ndarray) -> pd.DataFrame:
        """Name, id, system, type, privileged and sensitive flags of entitlement codes."""
        ctx = self.ctx
        is_group = entitlement < self.n_groups
        g = np.where(is_group, entitlement, 0)
        r = np.where(is_group, 0, entitlement - self.n_groups)
        groups, resources = ctx.groups, ctx.resources

        def pick(group_values: np.ndarray, resource_values: np.ndarray) -> np.ndarray:
            if len(entitlement) == 0:
                return np.array([], dtype=object)
            left = group_values[g] if len(group_values) else np.full(len(g), None, dtype=object)
            right = (
                resource_values[r] if len(resource_values) else np.full(len(r), None, dtype=object)
            )
            return np.where(is_group, left, right)

        return pd.DataFrame(
            {
                "entitlement_id": pick(
                    groups["group_id"].astype(object).to_numpy(),
                    resources["resource_id"].astype(object).to_numpy(),
                ),
                "name": pick(
                    groups["name"].astype(object).to_numpy(),
                    resources["name"].astype(object).to_numpy(),
                ),
                "system": pick(
                    groups["system"].astype(object).to_numpy(),
                    resources["system"].astype(object).to_numpy(),
                ),
                "type": np.where(is_group, "group", "resource"),
                "privileged": pick(
                    ctx.group_privileged, np.zeros(len(resources), dtype=bool)
                ).astype(bool),
                "sensitive": pick(np.zeros(len(groups), dtype=bool), ctx.resource_sensitive).astype(
                    bool
                ),
            }
        )

    def _of_pairs(
        self, held: pd.DataFrame, person: np.ndarray, entitlement: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The rows of ``held`` (holds) about the (person, entitlement) pairs given (unique),
        each row's pair as one integer, and the given pairs as integers."""
        width = max(self.n_codes, 1)
        wanted = person.astype(np.int64) * width + entitlement
        key = held["person"].to_numpy() * width + held["entitlement"].to_numpy()
        mine = np.isin(key, wanted)
        return held[mine], key[mine], wanted

    def holding_login(
        self, held: pd.DataFrame, person: np.ndarray, entitlement: np.ndarray
    ) -> pd.Series:
        """For each (person, entitlement) given (pairs of ``held``, the holds): the login of
        the first account (by ``RuleContext.account_order``) that holds it — the name the
        finding goes by, as in ``peer-outlier``."""
        ctx = self.ctx
        held, key, wanted = self._of_pairs(held, person, entitlement)
        account = held["account"].to_numpy()
        first = (
            pd.DataFrame(
                {
                    "key": key,
                    "order": ctx.account_order(account),
                    "login": ctx.account_rows(account, ["login"])["login"]
                    .astype(object)
                    .to_numpy(),
                }
            )
            .sort_values("order", kind="stable")
            .drop_duplicates("key")
            .set_index("key")["login"]
        )
        return pd.Series(first.reindex(wanted).to_numpy(), dtype=object)

    def held_through(
        self, held: pd.DataFrame, person: np.ndarray, entitlement: np.ndarray
    ) -> list[list[str]]:
        """For each (person, entitlement) given (pairs of ``held``, the holds): the sorted
        ``login via path`` texts of every account and way that holds it."""
        ctx = self.ctx
        held, key, wanted = self._of_pairs(held, person, entitlement)
        rows, source = held["row"].to_numpy(), held["source"].to_numpy()
        path = np.empty(len(held), dtype=object)
        for number, table in enumerate((ctx.effective_memberships, ctx.access)):
            here = source == number
            path[here] = table["path"].iloc[rows[here]].astype(object).to_numpy()
        login = (
            ctx.account_rows(held["account"].to_numpy(), ["login"])["login"]
            .astype(object)
            .to_numpy()
        )
        ways = (
            pd.DataFrame({"key": key, "how": login + " via " + path.astype(str)})
            .drop_duplicates()
            .sort_values(["key", "how"])
        )
        key, how = ways["key"].to_numpy(), ways["how"].tolist()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
        ends = np.r_[starts[1:], len(key)].astype(np.int64) if len(key) else key
        lists = [how[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
        at = np.searchsorted(key[starts], wanted) if len(key) else wanted
        return [lists[i] for i in at.tolist()]


def day_text(times: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD, ``unknown`` where empty."""
    out: pd.Series = times.dt.strftime("%Y-%m-%d").fillna("unknown")
    return out


def person_findings(
    spec: RuleSpec,
    ctx: RuleContext,
    *,
    person: np.ndarray,
    login: pd.Series,
    described: pd.DataFrame,
    message: pd.Series,
    evidence: pd.DataFrame,
) -> pd.DataFrame:
    """Person-level findings of ``spec``: one per (person row, entitlement), named by the
    login that holds it."""
    ids = pd.Series(
        ctx.person_rows(person, ["person_id"])["person_id"].astype(object).to_numpy(), dtype=object
    )
    return spec.findings(
        subject_type="person",
        subject_id=ids,
        subject_name=pd.Series(login.to_numpy(), dtype=object),
        system=described["system"],
        person_id=ids,
        message=message,
        evidence=evidence,
        entitlement=described["name"],
        entitlement_key=described["entitlement_id"],
    )
