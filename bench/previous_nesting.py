"""The nesting code as it was before issue 13 (2026-11), kept as the oracle the benchmark
checks the current ``entitlements.effective_memberships`` against (``--check``): same rows in
the same order, same depth, assignment and path. Not used by the package.

Only the one fix made before the rewrite is applied: categorical member ids (commit
"effective_memberships: categorical member ids name the accounts of their rows").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.model import TABLES

_SEPARATOR = " > "


def previous_group_closure(groups: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
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


def previous_effective_memberships(groups: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    """Each account in each group it belongs to at any depth (the ``effective_memberships``
    table): shortest path, ``depth`` 1 for a direct member, ``assignment`` active where any path
    is active and eligible only where every path is eligible (PIM)."""
    schema = TABLES["effective_memberships"]
    closure = previous_group_closure(groups, memberships)
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
