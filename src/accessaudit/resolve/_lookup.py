"""Matching written names against lookup tables, once per distinct value: principals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["EXAMPLES", "candidates", "distinct_rows", "match", "resolve_principals"]

#: How many examples a report or message names.
EXAMPLES = 5


def distinct_rows(
    frame: pd.DataFrame, columns: list[str]
) -> tuple[pd.DataFrame, npt.NDArray[np.intp]]:
    """The distinct combinations of ``columns`` (first-seen order) and each row's number."""
    groups = frame.groupby(columns, observed=True, dropna=False, sort=False)
    number = groups.ngroup().to_numpy().astype(np.intp)
    _, first = np.unique(number, return_index=True)
    distinct = frame.iloc[first][columns].reset_index(drop=True)
    for column in columns:
        distinct[column] = distinct[column].astype(object).where(distinct[column].notna(), None)
    return distinct, number


def match(queries: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    """For each query key (index kept), the best-ranked candidates: id, type, how many
    distinct ids tie at that rank, and their list (for the message when several do)."""
    wanted = pd.DataFrame({"query": queries.index, "key": queries.to_numpy()}).dropna()
    merged = wanted.merge(table, on="key", how="inner")
    best = merged.groupby("query")["rank"].transform("min")
    merged = merged[merged["rank"] == best].drop_duplicates(["query", "id"])
    matched = merged.groupby("query").agg(
        id=("id", "first"),
        type=("type", "first"),
        matches=("id", "size"),
        all_ids=("id", lambda ids: ", ".join(sorted(ids.astype(str))[:EXAMPLES])),
    )
    return matched.reindex(queries.index)


def candidates(rows: Iterable[tuple[pd.Series, pd.Series, str, int]]) -> pd.DataFrame:
    frames = [
        pd.DataFrame({"key": key.to_numpy(), "id": ids.to_numpy(), "type": kind, "rank": rank})
        for key, ids, kind, rank in rows
    ]
    table = pd.concat(frames, ignore_index=True)
    return table[table["key"].notna()]


def _principal_candidates(
    accounts: pd.DataFrame, groups: pd.DataFrame
) -> Mapping[str, pd.DataFrame]:
    """Lookup tables per form. Windows: an account beats a group of the same name."""
    login = "name:" + accounts["login"].str.lower()
    group_name = "name:" + groups["name"].str.lower()
    return {
        "windows": candidates(
            [
                (login, accounts["account_id"], "account", 0),
                ("sid:" + accounts["sid"].str.upper(), accounts["account_id"], "account", 0),
                (group_name, groups["group_id"], "group", 1),
                ("sid:" + groups["sid"].str.upper(), groups["group_id"], "group", 1),
            ]
        ),
        "name": candidates(
            [
                (
                    "name:" + accounts["account_id"].str.lower(),
                    accounts["account_id"],
                    "account",
                    0,
                ),
                ("name:" + groups["group_id"].str.lower(), groups["group_id"], "group", 0),
                (login, accounts["account_id"], "account", 1),
                (group_name, groups["group_id"], "group", 1),
            ]
        ),
    }


def _principal_keys(distinct: pd.DataFrame) -> pd.Series:
    """The lookup key of each distinct principal: ``name:login`` for DOMAIN\\login in the
    source's domain, ``sid:S-1-...`` for a SID, ``name:value`` for the name form."""
    principal = distinct["principal"].astype("str")
    split = principal.str.extract(r"^([^\\]+)\\(.+)$")
    domain = distinct["domain"].astype("str").str.lower()
    in_domain = (split[0].str.lower() == domain).fillna(False).astype(bool)
    is_sid = principal.str.match(r"(?i)^S-1-\d").fillna(False).astype(bool)
    windows = pd.Series(pd.NA, index=distinct.index, dtype="str")
    windows = windows.mask(in_domain, "name:" + split[1].str.lower())
    windows = windows.mask(is_sid & ~in_domain, "sid:" + principal.str.upper())
    return windows.where(distinct["principal_form"] == "windows", "name:" + principal.str.lower())


def resolve_principals(
    refs: pd.DataFrame, accounts: pd.DataFrame, groups: pd.DataFrame
) -> tuple[pd.DataFrame, npt.NDArray[np.intp]]:
    """Distinct principals with ``principal_id``, ``principal_type``, ``matches``,
    ``all_ids``; and each reference row's position among them."""
    distinct, number = distinct_rows(refs, ["principal", "principal_form", "domain", "directory"])
    keys = _principal_keys(distinct)
    found = pd.DataFrame(index=distinct.index, columns=["id", "type", "matches", "all_ids"])
    for directory in distinct["directory"].drop_duplicates():
        if directory is None:
            scope = distinct["directory"].isna()
            lookups = _principal_candidates(accounts, groups)
        else:
            scope = distinct["directory"] == directory
            lookups = _principal_candidates(
                accounts[accounts["system"] == directory], groups[groups["system"] == directory]
            )
        for form, table in lookups.items():
            part = scope & (distinct["principal_form"] == form)
            if part.any():
                found.loc[part] = match(keys[part], table).to_numpy()
    distinct["principal_id"] = found["id"].fillna(distinct["principal"]).astype("str")
    distinct["principal_type"] = found["type"].fillna("unresolved").astype("str")
    distinct["matches"] = pd.to_numeric(found["matches"]).fillna(0).astype(int)
    distinct["all_ids"] = found["all_ids"]
    return distinct, number
