"""Who is in which group through any depth of nesting, and who can reach which resource.

Both tables are derived from the stored ones and never written by hand. The work is done on
integer codes: the group hierarchy (tens of thousands of groups) is walked breadth-first from
every group that has account members, tolerating cycles, then joined once to the direct account
memberships (millions of rows). Paths are categoricals because millions of rows share a few
thousand distinct paths; a path string is built only for the walk steps the result uses, so a
very deep chain costs memory in proportion to the result, not to the cube of its depth.
(Longer than most modules, ~530 lines: the two tables share the integer-code helpers, and
splitting them would only move those into a third module.)

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

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from accessaudit.model import RIGHTS, TABLES

__all__ = ["effective_access", "effective_memberships", "group_closure"]

_SEPARATOR = " > "


@dataclass(frozen=True)
class _Walk:
    """Breadth-first walks up the group hierarchy, one per start group, as flat arrays.

    Row ``i`` says: from ``start[i]`` the group ``node[i]`` is reached in ``depth[i]`` steps,
    the step before being row ``previous[i]`` (-1 for depth 0). Rows of one start group are
    contiguous (``first[g]`` to ``first[g + 1]``), by depth, and within a depth in the order
    the walk found them: the first path found to a group is the one kept.
    """

    start: np.ndarray
    node: np.ndarray
    depth: np.ndarray
    previous: np.ndarray
    first: np.ndarray

    def paths(self, rows: np.ndarray, names: np.ndarray) -> np.ndarray:
        """The path text (group names joined by " > ") of each walk row in ``rows``; only
        those rows and the steps leading to them are built."""
        needed = np.zeros(len(self.node), dtype=bool)
        needed[rows] = True
        # The steps before a needed row are needed: mark from the deepest level upwards.
        by_depth = np.argsort(self.depth, kind="stable")
        bounds = np.searchsorted(self.depth[by_depth], np.arange(int(self.depth.max()) + 2))
        for level in range(len(bounds) - 2, 0, -1):
            at = by_depth[bounds[level] : bounds[level + 1]]
            at = at[needed[at]]
            needed[self.previous[at]] = True
        text = np.empty(len(self.node), dtype=object)
        for level in range(len(bounds) - 1):
            at = by_depth[bounds[level] : bounds[level + 1]]
            at = at[needed[at]]
            if level == 0:
                text[at] = names[self.node[at]]
            else:
                text[at] = text[self.previous[at]] + _SEPARATOR + names[self.node[at]]
        out: np.ndarray = text[rows]
        return out


def _walk(starts: np.ndarray, child: np.ndarray, parent: np.ndarray, count: int) -> _Walk:
    """Walk from each group in ``starts`` (sorted, unique codes) up the ``child`` → ``parent``
    edges (codes below ``count``), keeping the first, shortest path to each group reached."""
    # Duplicate edges would only repeat a step; the first occurrence keeps its place.
    pair = child.astype(np.int64) * count + parent
    _, first_edge = np.unique(pair, return_index=True)
    first_edge.sort()
    child, parent = child[first_edge], parent[first_edge]
    by_child = np.argsort(child, kind="stable")
    up = parent[by_child]
    up_first = np.searchsorted(child[by_child], np.arange(count + 1))

    start = starts.astype(np.int64)
    node = start.copy()
    row = np.arange(len(start), dtype=np.int64)
    levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [(start, node, np.full_like(row, -1))]
    seen = start * count + node
    total = len(start)
    while len(node):
        # Each frontier row in order, then each of its parents in edge order: the same order
        # a merge of the frontier with the edges gives, so ties resolve as they always have.
        fan = up_first[node + 1] - up_first[node]
        base = np.repeat(up_first[node] - (np.cumsum(fan) - fan), fan)
        step = up[base + np.arange(len(base))]
        from_row = np.repeat(row, fan)
        from_start = np.repeat(start, fan)
        key = from_start * count + step
        fresh = ~np.isin(key, seen)
        _, first = np.unique(key[fresh], return_index=True)
        keep = np.flatnonzero(fresh)[np.sort(first)]
        start, node, previous = from_start[keep], step[keep], from_row[keep]
        seen = np.concatenate([seen, key[keep]])
        row = np.arange(total, total + len(node), dtype=np.int64)
        total += len(node)
        levels.append((start, node, previous))
    all_start = np.concatenate([lv[0] for lv in levels])
    all_node = np.concatenate([lv[1] for lv in levels])
    all_previous = np.concatenate([lv[2] for lv in levels])
    all_depth = np.concatenate(
        [np.full(len(lv[0]), depth, dtype=np.int64) for depth, lv in enumerate(levels)]
    )
    # Rows by start group (stable: depth order and discovery order stay), previous renumbered.
    order = np.argsort(all_start, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    previous = all_previous[order]
    previous = np.where(previous >= 0, position[np.maximum(previous, 0)], -1)
    ordered_start = all_start[order]
    # Narrow types: these are gathered tens of millions of times.
    return _Walk(
        start=ordered_start.astype(np.int32),
        node=all_node[order].astype(np.int32),
        depth=all_depth[order].astype(np.int32),
        previous=previous,
        first=np.searchsorted(ordered_start, np.arange(count + 1)).astype(np.int32),
    )


def _encode(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (int32, -1 for missing) and the distinct values they index.

    A categorical column already is that; an Arrow-backed string column is dictionary-encoded
    by Arrow (hashing millions of ids without making Python strings); anything else goes
    through ``pd.factorize``. The codes are int32, as Arrow makes them: an int64 copy of
    millions of codes costs more in fresh memory than the gathers it would save.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int32)
        return codes, pd.Index(np.asarray(values.cat.categories, dtype=object), dtype="str")
    if getattr(values.dtype, "storage", None) == "pyarrow":
        arrow = pa.array(values.array)
        if isinstance(arrow, pa.Array):
            arrow = pa.chunked_array([arrow])
        if arrow.num_chunks == 0:
            return np.empty(0, dtype=np.int32), pd.Index([], dtype="str")
        encoded = pc.dictionary_encode(arrow)
        if encoded.num_chunks == 0:
            return np.empty(0, dtype=np.int32), pd.Index([], dtype="str")
        dictionary = encoded.chunk(encoded.num_chunks - 1).dictionary
        # Arrow encodes all chunks with one table and so one dictionary; unifying (a second
        # hash pass) is needed only if that ever stops being so.
        if not all(c.dictionary.equals(dictionary) for c in encoded.chunks):
            encoded = encoded.unify_dictionaries()
            dictionary = encoded.chunk(0).dictionary
        indices = [pc.fill_null(c.indices, -1).to_numpy() for c in encoded.chunks]
        # One chunk (a table read from Parquet): Arrow's buffer itself, read-only, no copy.
        codes = indices[0] if len(indices) == 1 else np.concatenate(indices, dtype=np.int32)
        return codes, pd.Index(pd.array(dictionary, dtype="str"))
    factorized, uniques = pd.factorize(values)
    return factorized.astype(np.int32), pd.Index(np.asarray(uniques, dtype=object), dtype="str")


def _lookup(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position (int32) of each value in ``index`` (-1 where absent or missing): encode once,
    then look up the distinct values only."""
    codes, uniques = _encode(values)
    found = np.append(index.get_indexer(uniques), -1).astype(np.int32)
    out: np.ndarray = found[codes]
    return out


def group_closure(groups: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    """Every (group, ancestor) pair: the group itself at depth 0 and each group it is nested
    in at the shortest depth, with the path of group names. Cycles end the walk, they do not
    loop it. Columns: ``group_code``, ``ancestor_code``, ``depth``, ``path`` plus the
    ``group_ids`` index used for the codes (in ``.attrs``).

    Every pair carries its whole path, so a chain ``n`` groups deep holds ``n²/2`` paths of up
    to ``n`` names: :func:`effective_memberships` builds only the paths it uses.
    """
    group_ids = pd.Index(groups["group_id"].astype(str))
    names = groups["name"].astype(str).to_numpy(dtype=object)
    child, parent = _nesting_edges(memberships, group_ids)
    walk = _walk(np.arange(len(group_ids)), child, parent, len(group_ids))
    closure = pd.DataFrame(
        {
            "group_code": walk.start,
            "ancestor_code": walk.node,
            "depth": walk.depth,
            "path": walk.paths(np.arange(len(walk.node)), names),
        }
    )
    closure.attrs["group_ids"] = group_ids
    return closure


def _nesting_edges(memberships: pd.DataFrame, group_ids: pd.Index) -> tuple[np.ndarray, ...]:
    """Group-in-group edges as (child, parent) codes, in table order, unknown groups dropped."""
    member_code, member_ids = _encode(memberships["member_id"])
    return _nested(
        memberships, member_code, member_ids, _lookup(memberships["group_id"], group_ids), group_ids
    )


def _nested(
    memberships: pd.DataFrame,
    member_code: np.ndarray,
    member_ids: pd.Index,
    group_code: np.ndarray,
    group_ids: pd.Index,
) -> tuple[np.ndarray, np.ndarray]:
    """The (child, parent) group codes of the group-in-group rows, from encoded columns."""
    nested = (memberships["member_type"] == "group").to_numpy(dtype=bool)
    child = np.append(group_ids.get_indexer(member_ids), -1)[member_code[nested]]
    parent = group_code[nested]
    known = (child >= 0) & (parent >= 0)
    return child[known], parent[known]


def effective_memberships(groups: pd.DataFrame, memberships: pd.DataFrame) -> pd.DataFrame:
    """Each account in each group it belongs to at any depth (the ``effective_memberships``
    table): shortest path, ``depth`` 1 for a direct member, ``assignment`` active where any path
    is active and eligible only where every path is eligible (PIM).

    ``memberships`` is a conformed table (one row per group, member and assignment). Ties
    between equally short paths go to the direct membership listed first, then to the nesting
    edge listed first.
    """
    # Three steps, each a function so that its temporaries (arrays of millions of rows) are
    # freed when it returns, before the next step's are made: the peak is the result plus
    # one step's working set, not the sum of all of them.
    schema = TABLES["effective_memberships"]
    group_ids = pd.Index(groups["group_id"].astype(str))
    direct = _direct_memberships(memberships, group_ids)
    if direct is None:
        return schema.empty()
    holding = np.zeros(len(group_ids), dtype=bool)
    holding[direct.group] = True
    walk = _walk(np.flatnonzero(holding), direct.child, direct.parent, len(group_ids))
    member, walk_row, eligible = _shortest_per_pair(direct, walk, len(group_ids))
    accounts = direct.accounts
    del direct
    # Few distinct walk rows are used by many memberships: build those paths, not millions.
    used = np.zeros(len(walk.node), dtype=bool)
    used[walk_row] = True
    used_rows = np.flatnonzero(used)
    names = groups["name"].astype(str).to_numpy(dtype=object)
    path_code_of_used, path_values = pd.factorize(walk.paths(used_rows, names))
    path_code = np.full(len(walk.node), -1, dtype=np.int32)
    path_code[used_rows] = path_code_of_used
    # Ids are dictionary-encoded: tens of millions of rows share 10^5 accounts and 10^4 groups.
    account_id = pd.Categorical.from_codes(member, categories=accounts)
    del member
    return pd.DataFrame(
        {
            "account_id": account_id,
            "group_id": pd.Categorical.from_codes(walk.node[walk_row], categories=group_ids),
            "depth": pd.arrays.IntegerArray(
                (walk.depth + 1).astype(np.int64)[walk_row], np.zeros(len(walk_row), dtype=bool)
            ),
            "path": pd.Categorical.from_codes(
                path_code[walk_row],
                categories=pd.Index(np.asarray(path_values, dtype=object), dtype="str"),
            ),
            "assignment": pd.Categorical.from_codes(
                eligible.astype(np.int8)
                if eligible is not None
                else np.zeros(len(walk_row), dtype=np.int8),
                dtype=schema.column_index["assignment"].dtype(),
            ),
        },
        copy=False,
    )


@dataclass(frozen=True)
class _Direct:
    """The direct account memberships as codes: ``group`` (into the groups table),
    ``account`` (into ``accounts``, the account ids that occur, sorted), ``eligible``
    (None when none is), and the group-in-group edges ``child`` → ``parent``."""

    group: np.ndarray
    account: np.ndarray
    accounts: pd.Index
    eligible: np.ndarray | None
    child: np.ndarray
    parent: np.ndarray


def _direct_memberships(memberships: pd.DataFrame, group_ids: pd.Index) -> _Direct | None:
    """The direct account memberships of groups in ``group_ids``; None when there is none."""
    is_account = (memberships["member_type"] == "account").to_numpy(dtype=bool)
    group_code = _lookup(memberships["group_id"], group_ids)
    member_code, member_ids = _encode(memberships["member_id"])
    direct = is_account & (group_code >= 0) & (member_code >= 0)
    if not direct.any():
        return None
    child, parent = _nested(memberships, member_code, member_ids, group_code, group_ids)
    eligible = (memberships["assignment"] == "eligible").to_numpy(dtype=bool)[direct]
    account, accounts = _accounts(member_code[direct], member_ids)
    return _Direct(
        group=group_code[direct],
        account=account,
        accounts=accounts,
        eligible=eligible if eligible.any() else None,
        child=child,
        parent=parent,
    )


def _shortest_per_pair(
    direct: _Direct, walk: _Walk, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each direct membership fanned out to its group's walk rows (every group has at least
    its own row), one row kept per (account, group): the shortest, active before eligible,
    then the first. Returns the account code, walk row and eligibility of the kept rows."""
    # Arrays of this size are tens of millions of elements: each is made once, in the
    # narrowest type, because on a VM touching fresh memory costs more than computing.
    fan = np.diff(walk.first)[direct.group]
    walk_row = _consecutive_runs(walk.first[direct.group], fan)
    member = np.repeat(direct.account.astype(np.int32, copy=False), fan)
    eligible = np.repeat(direct.eligible, fan) if direct.eligible is not None else None

    # (account, group) can repeat only where the group is reached from two groups with
    # members, or from one group that an account may hold twice (active and eligible).
    eligible_start = np.zeros(count, dtype=bool)
    if direct.eligible is not None:
        eligible_start[direct.group[direct.eligible]] = True
    del fan
    repeatable = (np.bincount(walk.node, minlength=count)[walk.node] >= 2) | eligible_start[
        walk.start
    ]
    keep = repeatable[walk_row]
    maybe = np.flatnonzero(keep)
    np.logical_not(keep, out=keep)
    maybe_row = walk_row[maybe]
    pair = member[maybe].astype(np.int64)
    pair *= count
    pair += walk.node[maybe_row]
    best = _best_per_pair(
        pair,
        walk.depth[maybe_row]
        + (eligible[maybe] * (int(walk.depth.max()) + 1) if eligible is not None else 0),
        len(direct.accounts) * count,
    )
    keep[maybe[best]] = True
    del maybe, maybe_row, pair, best
    kept = member[keep]
    del member
    return kept, walk_row[keep], eligible[keep] if eligible is not None else None


def _consecutive_runs(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``starts[i], starts[i] + 1, …`` for ``lengths[i]`` values each (lengths ≥ 1), as one
    int32 array: a cumulative sum of steps, one allocation of the output's size."""
    starts = starts.astype(np.int32, copy=False)
    lengths = lengths.astype(np.int32, copy=False)
    steps = np.ones(int(lengths.sum(dtype=np.int64)), dtype=np.int32)
    at = np.cumsum(lengths, dtype=np.int64)
    at -= lengths
    steps[at[0]] = starts[0]
    # Each run starts where the previous one ended plus the jump to its own start.
    jump = np.subtract(starts[1:], starts[:-1])
    jump -= lengths[:-1]
    jump += 1
    steps[at[1:]] = jump
    np.cumsum(steps, dtype=np.int32, out=steps)
    return steps


def _accounts(codes: np.ndarray, ids: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Renumber member codes to the accounts that occur, in sorted id order."""
    used = np.zeros(len(ids), dtype=bool)
    used[codes] = True
    present = np.flatnonzero(used)
    # Ids are unique, so any sort gives the one order; the Index sorts Arrow strings natively.
    order = ids[present].argsort()
    renumber = np.full(len(ids), -1, dtype=np.int32)
    renumber[present[order]] = np.arange(len(present))
    return renumber[codes], pd.Index(ids[present[order]], dtype="str")


def _best_per_pair(pair: np.ndarray, priority: np.ndarray, pairs: int) -> np.ndarray:
    """Positions of the best row of each ``pair`` value: lowest ``priority`` (eligibility,
    then depth), then first.

    Pair, priority and position are packed into one int64 and sorted once: cheaper than a
    hash table of every pair.
    """
    rows = len(pair)
    if rows == 0:
        return np.empty(0, dtype=np.int64)
    position_bits = max(rows - 1, 1).bit_length()
    priority_bits = max(int(priority.max()), 1).bit_length()
    if max(pairs - 1, 1).bit_length() + priority_bits + position_bits <= 63:
        # In place where possible: every temporary here is tens of megabytes.
        packed = np.left_shift(pair, priority_bits + position_bits, dtype=np.int64)
        low = np.left_shift(priority, position_bits, dtype=np.int64)
        packed |= low
        low[:] = 0
        low += np.arange(rows, dtype=np.int64)
        packed |= low
        packed.sort()
        np.right_shift(packed, priority_bits + position_bits, out=low)
        first = np.empty(rows, dtype=bool)
        first[0] = True
        np.not_equal(low[1:], low[:-1], out=first[1:])
        best: np.ndarray = packed[first]
        best &= (1 << position_bits) - 1
        return best
    order = np.lexsort((np.arange(rows), priority, pair))
    ordered = pair[order]
    first = np.empty(rows, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    chosen: np.ndarray = order[first]
    return chosen


def effective_access(
    grants: pd.DataFrame,
    effective: pd.DataFrame,
    groups: pd.DataFrame,
) -> pd.DataFrame:
    """Each account's highest right on each resource (the ``access`` table).

    A grant to a group reaches every account in it at any depth; a grant to an account is
    ``direct``. A deny entry removes the right it names and every higher one for the accounts
    it reaches, so a Deny-Write leaves read access standing. Unresolved principals reach no
    account. Ties between equal rights prefer a direct grant, then the shortest path, then the
    grant listed first. Rows are sorted by account and resource.
    """
    schema = TABLES["access"]
    grants = grants[(grants["principal_type"] != "unresolved").to_numpy(dtype=bool)]
    right_code = grants["right"].cat.codes.to_numpy().astype(np.int64)
    deny = grants["deny"].to_numpy(dtype=bool)
    is_direct = (grants["principal_type"] == "account").to_numpy(dtype=bool)
    is_group = (grants["principal_type"] == "group").to_numpy(dtype=bool)
    principal = grants["principal_id"].astype(str).to_numpy(dtype=object)
    resource_code, resource_ids = pd.factorize(grants["resource_id"].astype(str), sort=True)

    # Memberships by integer codes: categorical columns (as effective_memberships gives them)
    # are used as they are, without a string per row.
    em_account, em_account_ids = _encode(effective["account_id"])
    em_group, em_group_ids = _encode(effective["group_id"])
    em_path, em_path_values = _encode(effective["path"])
    em_depth = effective["depth"].to_numpy(dtype=np.int64, na_value=0)
    names = pd.Series(groups["name"].astype(str).to_numpy(), index=groups["group_id"].astype(str))
    via_of_group = names.reindex(em_group_ids).to_numpy(dtype=object)

    # Each group grant reaches the membership rows of its group, in membership order.
    granted = np.flatnonzero(is_group)
    grant_group = em_group_ids.get_indexer(pd.Index(principal[granted], dtype="str"))
    wanted = np.zeros(len(em_group_ids) + 1, dtype=bool)
    wanted[grant_group[grant_group >= 0]] = True
    rows_in = np.flatnonzero(wanted[em_group])
    rows_in = rows_in[np.argsort(em_group[rows_in], kind="stable")]
    first = np.searchsorted(em_group[rows_in], np.arange(len(em_group_ids) + 1))
    reach = grant_group >= 0
    granted, grant_group = granted[reach], grant_group[reach]
    fan = (first[grant_group + 1] - first[grant_group]).astype(np.int64)
    granted, grant_group, fan = granted[fan > 0], grant_group[fan > 0], fan[fan > 0]
    em_row = rows_in[_consecutive_runs(first[grant_group], fan)] if len(fan) else rows_in[:0]
    from_grant = np.repeat(granted, fan)

    direct = np.flatnonzero(is_direct)
    accounts = pd.Index(em_account_ids).union(pd.Index(principal[direct], dtype="str").unique())
    account = np.concatenate(
        [
            accounts.get_indexer(pd.Index(principal[direct], dtype="str")),
            np.append(accounts.get_indexer(em_account_ids), -1)[em_account[em_row]],
        ]
    )
    grant = np.concatenate([direct, from_grant])
    if not len(grant):
        return schema.empty()
    depth = np.concatenate([np.zeros(len(direct), dtype=np.int64), em_depth[em_row]])
    pair = account * max(len(resource_ids), 1) + resource_code[grant]
    right, denied = right_code[grant], deny[grant]

    # A deny removes the right it names and every higher one, for the accounts it reaches.
    if denied.any():
        floor = pd.Series(right[denied]).groupby(pair[denied]).min()
        at = floor.index.get_indexer(pair)
        limit = np.where(at >= 0, floor.to_numpy()[at], np.iinfo(np.int64).max)
        allowed = ~denied & (right < limit)
    else:
        allowed = np.ones(len(grant), dtype=bool)
    keep = np.flatnonzero(allowed)
    # Highest right, then shortest path, then first listed (lexsort is stable).
    order = keep[np.lexsort((depth[keep], -right[keep], pair[keep]))]
    ordered = pair[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    best = order[first]
    if not len(best):
        return schema.empty()

    from_group = best >= len(direct)
    via = np.full(len(best), "direct", dtype=object)
    path = np.full(len(best), "direct", dtype=object)
    member_row = em_row[best[from_group] - len(direct)]
    via[from_group] = via_of_group[em_group[member_row]]
    path[from_group] = np.asarray(em_path_values, dtype=object)[em_path[member_row]]
    return pd.DataFrame(
        {
            "account_id": pd.array(
                accounts.to_numpy(dtype=object)[account[best]],
                dtype=schema.column_index["account_id"].dtype(),
            ),
            "resource_id": pd.array(
                np.asarray(resource_ids, dtype=object)[resource_code[grant[best]]],
                dtype=schema.column_index["resource_id"].dtype(),
            ),
            "right": pd.Categorical.from_codes(
                right[best], dtype=pd.CategoricalDtype(list(RIGHTS), ordered=True)
            ),
            "via": pd.Series(via, dtype="str").astype("category"),
            "path": pd.Series(path, dtype="str").astype("category"),
        }
    )
