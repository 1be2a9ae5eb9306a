"""Integer positions, gathers and row selections over the snapshot's columns.

The rules join big tables (effective memberships, access) to accounts, groups and resources
by integer positions, never by string merges: Arrow-backed text columns are looked up with
Arrow, categorical columns through their categories, and gathers over millions of rows run
block by block. Row selections of wide tables take Arrow text columns chunk by chunk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "GATHER_BLOCK",
    "arrow_text",
    "category_codes",
    "category_values",
    "gather",
    "lookup",
    "positions",
    "take_rows",
]


def positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (unique), -1 where absent, as an int64 array.

    For a categorical column the lookup runs on the categories only, then a gather.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        category_positions = lookup(values.cat.categories, index)
        codes = values.cat.codes.to_numpy()
        found = np.append(category_positions, -1)
        # intp is int64 on 64-bit platforms: no second copy of a million-row array there.
        return found[codes].astype(np.int64, copy=False)
    return lookup(values, index)


def lookup(values: pd.Series | pd.Index, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (unique), -1 where absent (int64)."""
    if arrow_text(values) and arrow_text(index):
        # pandas looks Arrow strings up through a Python object copy of both sides; Arrow
        # hashes them in place (2-4x faster on 200,000 ids). A null finds a null, as in
        # pandas.
        wanted = pa.array(values.array)
        known = pa.array(index.array).cast(wanted.type)
        if 8 * len(wanted) < len(known):
            # A few values in a big index: hash the few, read the index once.
            distinct = pc.unique(wanted)
            hit = np.asarray(pc.fill_null(pc.index_in(known, value_set=distinct), -1))
            rows = np.flatnonzero(hit >= 0)
            first = np.full(len(distinct), -1, dtype=np.int64)
            first[hit[rows]] = rows
            at: np.ndarray = first[np.asarray(pc.index_in(wanted, value_set=distinct))]
            return at
        found = pc.index_in(wanted, value_set=known)
        return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int64)
    return np.asarray(index.get_indexer(pd.Index(values)), dtype=np.int64)


# Rows gathered per block by ``gather``: numpy turns an index array into a 64-bit copy
# before gathering, which for millions of int16/int32 codes is a fresh array 2-4x their size
# (and fresh memory costs about as much as the gather on a VM); per block it stays in cache.
GATHER_BLOCK = 1 << 16


def gather(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table[codes]`` for codes in ``-1 .. len(table) - 1`` (-1 reads the last entry),
    block by block, so that the only large array written is the result (of ``table``'s
    dtype: a boolean mask over millions of rows is one byte a row)."""
    out = np.empty(len(codes), dtype=table.dtype)
    for start in range(0, len(codes), GATHER_BLOCK):
        end = start + GATHER_BLOCK
        np.take(table, codes[start:end], out=out[start:end], mode="wrap")
    return out


def category_codes(values: pd.Series, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as (codes, position in ``index`` per code, with a last -1 for code -1).

    A categorical column gives its own codes and looks up its categories only; any other
    column is looked up row by row (its codes are then the positions themselves).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        at = lookup(values.cat.categories, index)
        # The Categorical's own codes (read-only, no copy; ``.cat.codes`` copies them).
        return values.array.codes, np.append(at, -1)
    return lookup(values, index), np.append(np.arange(len(index), dtype=np.int64), -1)


def take_rows(frame: pd.DataFrame, at: np.ndarray) -> pd.DataFrame:
    """The rows of ``frame`` (RangeIndex) at positions ``at``, empty where -1 (as
    ``frame.reindex(at)``), with a fresh RangeIndex.

    A table read from Parquet can hold a text column in several Arrow chunks, and Arrow's
    take on a chunked column joins the chunks first, on every call: 0.3-0.5 ms a column of
    200,000 ids however few rows are taken (ten rows of the 24-column accounts table: 10 ms,
    and rules select rows dozens of times a run). Those columns are taken chunk by chunk."""
    columns = {}
    for column in frame.columns:
        values = frame[column]
        arrow = pa.array(values.array) if arrow_text(values) else None
        if isinstance(arrow, pa.ChunkedArray) and arrow.num_chunks > 1:
            columns[column] = pd.Series(
                pd.array(_take_chunks(arrow, at), dtype=values.dtype), name=column
            )
        else:
            columns[column] = values.reindex(at).reset_index(drop=True)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(at)), columns=frame.columns)


def _take_chunks(arrow: pa.ChunkedArray, at: np.ndarray) -> pa.Array:
    """``arrow`` at positions ``at`` (null where -1): each chunk takes the positions inside it
    (the others read as null), and the takes are merged with coalesce."""
    taken = []
    start = 0
    for chunk in arrow.chunks:
        outside = (at < start) | (at >= start + len(chunk))
        taken.append(chunk.take(pa.array(at - start, mask=outside)))
        start += len(chunk)
    merged: pa.Array = pc.coalesce(*taken)
    return merged


def category_values(values: pd.Series, table: dict[str, int], missing: int) -> np.ndarray:
    """A categorical (or any) column mapped through ``table``, ``missing`` where absent: per
    category, then one gather of the codes."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("category")
    per_category = [table.get(str(c), missing) for c in values.cat.categories]
    return np.append(np.asarray(per_category, dtype=np.int64), missing)[values.cat.codes]


def arrow_text(values: pd.Series | pd.Index) -> bool:
    """Whether ``values`` are text stored by Arrow (what Arrow's compute functions read)."""
    dtype = values.dtype
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
