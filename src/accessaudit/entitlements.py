"""Who is in which group through any depth of nesting, and who can reach which resource.

Both tables are derived from the stored ones and never written by hand. The work is done on
integer codes: the group hierarchy (tens of thousands of groups) is closed first with a
breadth-first expansion that tolerates cycles, then joined once to the direct account
memberships (millions of rows). Paths are categoricals because millions of rows share a few
thousand distinct paths.

>>> import pandas as pd
>>> from accessaudit.model import TABLES
>>> groups = TABLES["groups"].conform(pd.DataFrame({
...     "group_id": ["g:1", "g:2"], "system": "g", "native_id": ["1", "2"],
...     "name": ["Finance", "FS-Finance-RW"], "kind": "group"}))
>>> edges = TABLES["memberships"].conform(pd.DataFrame({
...     "group_id": ["g:1", "g:2"], "member_id": ["g:alice", "g:1"],
...     "member_type": ["account", "group"], "assignment": "active"}))
>>> effective_memberships(groups, edges)[["account_id", "group_id", "depth", "path"]]
  account_id group_id  depth                     path
0    g:alice      g:1      1                  Finance
1    g:alice      g:2      2  Finance > FS-Finance-RW
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.model import RIGHTS, TABLES

__all__ = ["effective_access", "effective_memberships", "group_closure"]

_SEPARATOR = " > "


def group_closure(groups: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    """Every (group, ancestor) pair: the group itself at depth 0 and each group it is nested
    in at the shortest depth, with the path of group names. Cycles end the walk, they do not
    loop it. Columns: ``group_code``, ``ancestor_code``, ``depth``, ``path`` plus the
    ``group_ids`` index used for the codes (in ``.attrs``)."""
    group_ids = pd.Index(groups["group_id"].astype(str))
    names = groups["name"].astype(str).to_numpy()
    count = len(group_ids)
    nested = memberships[memberships["member_type"] == "group"]
    child = group_ids.get_indexer(pd.Index(nested["member_id"].astype(str)))
    parent = group_ids.get_indexer(pd.Index(nested["group_id"].astype(str)))
    known = (child >= 0) & (parent >= 0)
    edges = pd.DataFrame({"node": child[known], "parent": parent[known]}).drop_duplicates()

    start = np.arange(count, dtype=np.int64)
    frontier = pd.DataFrame({"group_code": start, "node": start, "path": names.astype(object)})
    seen = start * count + start
    levels = [frontier.assign(depth=0)]
    depth = 0
    while len(frontier):
        depth += 1
        step = frontier.merge(edges, on="node")
        key = step["group_code"].to_numpy() * count + step["parent"].to_numpy()
        fresh = ~np.isin(key, seen)
        step = step[fresh]
        key = key[fresh]
        first = ~pd.Series(key).duplicated().to_numpy()
        step = step[first]
        seen = np.concatenate([seen, key[first]])
        frontier = pd.DataFrame(
            {
                "group_code": step["group_code"].to_numpy(),
                "node": step["parent"].to_numpy(),
                "path": step["path"].to_numpy() + _SEPARATOR + names[step["parent"].to_numpy()],
            }
        )
        levels.append(frontier.assign(depth=depth))
    closure = pd.concat(levels, ignore_index=True).rename(columns={"node": "ancestor_code"})
    closure.attrs["group_ids"] = group_ids
    return closure[["group_code", "ancestor_code", "depth", "path"]]


def effective_memberships(groups: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    """Each account in each group it belongs to at any depth (the ``effective_memberships``
    table): shortest path, ``depth`` 1 for a direct member, ``assignment`` active where any path
    is active and eligible only where every path is eligible (PIM)."""
    schema = TABLES["effective_memberships"]
    closure = group_closure(groups, memberships)
    group_ids: pd.Index = closure.attrs["group_ids"]
    direct = memberships[memberships["member_type"] == "account"]
    group_code = _codes_in(direct["group_id"], group_ids)
    direct = direct[group_code >= 0]
    group_code = group_code[group_code >= 0]
    if not len(direct):
        return schema.empty()
    account_code, accounts = pd.factorize(direct["member_id"], sort=True)
    eligible_edge = (direct["assignment"] == "eligible").to_numpy(dtype=bool)

    # Closure rows per group are contiguous once sorted, so the join is a repeat + gather.
    closure = closure.sort_values("group_code", kind="stable")
    closure_group = closure["group_code"].to_numpy()
    starts = np.searchsorted(closure_group, np.arange(len(group_ids)))
    ends = np.searchsorted(closure_group, np.arange(len(group_ids)), side="right")
    per_edge = (ends - starts)[group_code]
    edge_index = np.repeat(np.arange(len(group_code)), per_edge)
    offsets = np.arange(len(edge_index)) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    closure_index = starts[group_code][edge_index] + offsets

    ancestor = closure["ancestor_code"].to_numpy()[closure_index]
    depth = closure["depth"].to_numpy()[closure_index] + 1
    eligible = eligible_edge[edge_index]
    member = account_code[edge_index]
    # Best path first (active before eligible, then shallowest): a stable sort on a small
    # integer priority, then the first row of each (account, group) by hashing, not sorting.
    priority = eligible.astype(np.int64) * (int(depth.max()) + 1) + depth
    order = np.argsort(priority, kind="stable")
    key = member.astype(np.int64) * len(group_ids) + ancestor
    keep = np.sort(order[~pd.Series(key[order]).duplicated().to_numpy()])

    # Few distinct closure rows are used by many memberships: factorize those, not the
    # millions of path strings.
    closure_code, used = pd.factorize(closure_index[keep])
    path_code_of_used, path_values = pd.factorize(closure["path"].to_numpy()[used])
    path_codes = path_code_of_used[closure_code]
    # Ids are dictionary-encoded: tens of millions of rows share 10^5 accounts and 10^4 groups.
    return pd.DataFrame(
        {
            "account_id": pd.Categorical.from_codes(
                member[keep].astype(np.int32),
                # A categorical column factorizes to a CategoricalIndex, whose own category
                # list (every stored id, in stored order) from_codes would take: use its values.
                categories=pd.Index(np.asarray(accounts, dtype=object)),
            ),
            "group_id": pd.Categorical.from_codes(
                ancestor[keep].astype(np.int32), categories=group_ids
            ),
            "depth": pd.array(depth[keep], dtype="Int64"),
            "path": pd.Categorical.from_codes(
                path_codes, categories=pd.Index(np.asarray(path_values, dtype=object))
            ),
            "assignment": pd.Categorical.from_codes(
                eligible[keep].astype(np.int8),
                dtype=schema.column_index["assignment"].dtype(),
            ),
        }
    )


def _codes_in(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 where absent); for a categorical column the
    lookup runs once per category."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = np.append(index.get_indexer(values.cat.categories), -1)
        return np.asarray(found[values.cat.codes.to_numpy()], dtype=np.int64)
    return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)


def effective_access(
    grants: pd.DataFrame,
    effective: pd.DataFrame,
    groups: pd.DataFrame,
) -> pd.DataFrame:
    """Each account's highest right on each resource (the ``access`` table).

    A grant to a group reaches every account in it at any depth; a grant to an account is
    ``direct``. A deny entry removes the right it names and every higher one for the accounts
    it reaches, so a Deny-Write leaves read access standing. Unresolved principals reach no
    account. Ties between equal rights prefer a direct grant, then the shortest path.
    """
    schema = TABLES["access"]
    right_codes = grants["right"].cat.codes.to_numpy()
    allowed = grants.assign(right_code=right_codes)
    allowed = allowed[allowed["principal_type"] != "unresolved"]

    direct = allowed[allowed["principal_type"] == "account"]
    direct_rows = pd.DataFrame(
        {
            "account_id": direct["principal_id"].to_numpy(),
            "resource_id": direct["resource_id"].to_numpy(),
            "right_code": direct["right_code"].to_numpy(),
            "deny": direct["deny"].to_numpy(),
            "via": "direct",
            "path": "direct",
            "depth": 0,
        }
    )
    via_group = allowed[allowed["principal_type"] == "group"]
    group_names = pd.Series(
        groups["name"].astype(str).to_numpy(), index=groups["group_id"].astype(str)
    )
    # Only memberships of groups that hold a grant matter; filtering the (categorical, large)
    # membership table first keeps the join small.
    holding = effective[effective["group_id"].isin(via_group["principal_id"].unique())]
    joined = via_group[["principal_id", "resource_id", "right_code", "deny"]].merge(
        holding[["account_id", "group_id", "depth", "path"]].astype(
            {"account_id": str, "group_id": str, "path": str}
        ),
        left_on="principal_id",
        right_on="group_id",
    )
    group_rows = pd.DataFrame(
        {
            "account_id": joined["account_id"].to_numpy(),
            "resource_id": joined["resource_id"].to_numpy(),
            "right_code": joined["right_code"].to_numpy(),
            "deny": joined["deny"].to_numpy(),
            "via": group_names.reindex(joined["group_id"].astype(str)).to_numpy(),
            "path": joined["path"].astype(str).to_numpy(),
            "depth": joined["depth"].to_numpy(dtype=np.int64),
        }
    )
    rows = pd.concat([direct_rows, group_rows], ignore_index=True)
    if not len(rows):
        return schema.empty()
    denied = (
        rows[rows["deny"]]
        .groupby(["account_id", "resource_id"], sort=False)["right_code"]
        .min()
        .rename("denied_from")
    )
    rows = rows[~rows["deny"]]
    if len(denied):
        rows = rows.join(denied, on=["account_id", "resource_id"])
        rows = rows[rows["denied_from"].isna() | (rows["right_code"] < rows["denied_from"])]
    rows = rows.sort_values(
        ["account_id", "resource_id", "right_code", "depth"],
        ascending=[True, True, False, True],
        kind="stable",
    ).drop_duplicates(["account_id", "resource_id"], keep="first")
    return pd.DataFrame(
        {
            "account_id": rows["account_id"].astype(schema.column_index["account_id"].dtype()),
            "resource_id": rows["resource_id"].astype(schema.column_index["resource_id"].dtype()),
            "right": pd.Categorical.from_codes(
                rows["right_code"].to_numpy(), dtype=pd.CategoricalDtype(list(RIGHTS), ordered=True)
            ),
            "via": rows["via"].astype("category"),
            "path": rows["path"].astype("category"),
        }
    ).reset_index(drop=True)
