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

from accessaudit.rules._context import RuleContext
from accessaudit.rules._spec import RuleSpec

__all__ = ["Holdings", "day_text", "person_findings"]


@dataclass
class Holdings:
    """Person × entitlement pairs of one audit run, and department counts on demand."""

    ctx: RuleContext

    @cached_property
    def counted(self) -> np.ndarray:
        """People rows that count as peers: not terminated, with a department."""
        people = self.ctx.people
        return (
            people["department"].notna() & (people["status"].astype(object) != "terminated")
        ).to_numpy(dtype=bool)

    @cached_property
    def departments(self) -> pd.Index:
        """The departments of counted people (codes index this)."""
        _, uniques = pd.factorize(self.ctx.people["department"].where(self.counted))
        index: pd.Index = pd.Index(uniques)
        return index

    @cached_property
    def department_code(self) -> np.ndarray:
        """Per person row: code of their (current) department, -1 when not counted."""
        code = self.departments.get_indexer(pd.Index(self.ctx.people["department"]))
        return np.where(self.counted, code, -1).astype(np.int64)

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

    @cached_property
    def pairs(self) -> pd.DataFrame:
        """Every (person, entitlement) hold through an enabled account: columns person,
        entitlement, source (0 membership, 1 access), row (in that table), account."""
        ctx = self.ctx
        enabled = ctx.accounts["enabled"].to_numpy(dtype=bool)
        holder = np.where(enabled & (ctx.account_person >= 0), ctx.account_person, -1)
        holder = np.append(holder, -1)  # position -1 (unknown account) → no person
        parts = []
        for source, (acc, ent, offset) in enumerate(
            (
                (ctx.em_account, ctx.em_group, 0),
                (ctx.access_account, ctx.access_resource, self.n_groups),
            )
        ):
            person = holder[acc]
            ok = (person >= 0) & (ent >= 0)
            rows = np.flatnonzero(ok)
            parts.append(
                pd.DataFrame(
                    {
                        "person": person[rows],
                        "entitlement": ent[rows].astype(np.int64) + offset,
                        "source": source,
                        "row": rows,
                        "account": acc[rows],
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)

    def held_by(self, people: np.ndarray) -> pd.DataFrame:
        """The pairs of the given person rows (one row per account and way of holding)."""
        pairs = self.pairs
        return pairs[np.isin(pairs["person"].to_numpy(), people)]

    def holders(self, entitlements: np.ndarray) -> pd.Series:
        """Counted people holding each of ``entitlements`` per department: a Series indexed
        by (department code, entitlement)."""
        pairs = self.pairs
        wanted = pairs[np.isin(pairs["entitlement"].to_numpy(), entitlements)]
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

    def holding_login(self, held: pd.DataFrame) -> pd.Series:
        """For each (person, entitlement) in ``held``: the login of the first account (by
        ``RuleContext.account_order``) that holds it — the name the finding goes by, as in
        ``peer-outlier``."""
        ctx = self.ctx
        if held.empty:
            return pd.Series([], dtype=object)
        account = held["account"].to_numpy()
        frame = held[["person", "entitlement"]].assign(
            order=ctx.account_order[account],
            login=ctx.accounts["login"].astype(object).to_numpy()[account],
        )
        first = frame.sort_values("order", kind="stable").drop_duplicates(["person", "entitlement"])
        out: pd.Series = first.set_index(["person", "entitlement"])["login"]
        return out

    def held_through(self, held: pd.DataFrame) -> pd.Series:
        """For each (person, entitlement) in ``held`` (pairs rows): the list of
        ``login via path`` it is held through, indexed by (person, entitlement)."""
        ctx = self.ctx
        if held.empty:
            return pd.Series([], dtype=object)
        em_path = ctx.effective_memberships["path"].astype(object).to_numpy()
        access_path = ctx.access["path"].astype(object).to_numpy()
        rows = held["row"].to_numpy()
        path = np.where(
            held["source"].to_numpy() == 0,
            em_path[np.where(held["source"].to_numpy() == 0, rows, 0)] if len(em_path) else "",
            access_path[np.where(held["source"].to_numpy() == 1, rows, 0)]
            if len(access_path)
            else "",
        )
        login = ctx.accounts["login"].astype(object).to_numpy()[held["account"].to_numpy()]
        how = pd.Series(login + " via " + path.astype(str), index=held.index)
        frame = held[["person", "entitlement"]].assign(how=how)
        out: pd.Series = frame.groupby(["person", "entitlement"])["how"].agg(
            lambda s: sorted(set(s))
        )
        return out


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
    ids = pd.Series(ctx.people["person_id"].astype(object).to_numpy()[person], dtype=object)
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
