"""Peer comparison: entitlements that almost nobody else in the holder's department has."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from accessaudit.findings import empty_findings
from accessaudit.policy import Policy
from accessaudit.rules._arrays import gather
from accessaudit.rules._context import RuleContext
from accessaudit.rules._holdings import Holdings
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = ["PEER_OUTLIER", "peer_outlier"]

# Rows of the effective memberships read per block: the block's temporaries stay in cache
# and are reused, where whole-table temporaries (tens of MB each) would be fresh memory.
BLOCK = 1 << 18


def peer_outlier(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Group memberships that fewer than ``peer_max_share`` of a person's peers also hold.

    One finding per person and group; the subject is the person, named by their everyday
    login (see ``RuleContext.account_order``), the person's name is in the message.

    Peers are the *other* people (leave-one-out) in the same HR department, counting people who
    are not terminated; only departments of at least ``peer_min_size`` people are judged.
    A person holds a group when any of their enabled accounts is in it at any depth.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    people = ctx.people
    if people.empty or ctx.accounts.empty:
        # Without HR there are no departments, so no peers: nothing to judge (run_audit says
        # "not checked: no HR source").
        return empty_findings()
    # Peers as the lifecycle rules count them (Holdings, shared by the run).
    holdings = Holdings.of(ctx)
    counted, sizes = holdings.counted, holdings.sizes
    department_code, departments = holdings.department_code, holdings.departments

    # Per account: the person it counts for (enabled account of a counted person), else -1.
    enabled = ctx.accounts["enabled"].to_numpy(dtype=bool)
    account_person = ctx.account_person
    judged = enabled & (account_person >= 0)
    judged[judged] = counted[account_person[judged]]
    holder = np.where(judged, account_person, -1)
    holder_department = np.where(judged, department_code[np.maximum(account_person, 0)], -1)

    # Holders are counted per (department, group) cell: departments × groups is small (tens
    # of departments × tens of thousands of groups) while the effective memberships run to
    # millions, so a bincount over the cells replaces sorting the memberships. Each
    # department's row of cells starts with one for memberships of an unknown group (-1),
    # which is never judged, so a membership's cell is one gather and one add:
    # ``first[account] + group``. Accounts that count for no one start past the last cell.
    n_groups = max(len(ctx.groups), 1)
    width = n_groups + 1
    n_cells = len(departments) * width
    first = np.full(len(holder) + 1, n_cells + 1, dtype=np.int64)  # last: unknown account
    first[:-1][judged] = holder_department[judged].astype(np.int64) * width + 1
    # A person holds a group once however many of their accounts are in it: only people with
    # more than one counted account (admins, a handful) have their (person, group) pairs
    # counted more than once; those few rows are taken out again below.
    accounts_per_person = np.bincount(holder[holder >= 0], minlength=len(people))
    several = (holder >= 0) & (accounts_per_person[np.maximum(holder, 0)] > 1)
    cells = _Cells(ctx, first, np.append(several, False), n_cells + width)
    holders = cells.counts[:n_cells]
    rows = cells.several_rows
    if len(rows):
        row_holder = holder[ctx.em_account_at(rows)].astype(np.int64)
        row_group = ctx.em_group[rows].astype(np.int64)
        pairs = np.unique(row_holder * width + row_group + 1)
        pair_cell = department_code[pairs // width].astype(np.int64) * width + pairs % width
        row_cell = department_code[row_holder].astype(np.int64) * width + row_group + 1
        holders -= np.bincount(row_cell, minlength=n_cells)
        holders += np.bincount(pair_cell, minlength=n_cells)

    cell_size = np.repeat(sizes, width)
    cell_peers = cell_size - 1
    cell_holding = holders - 1
    cell_share = np.divide(
        cell_holding,
        cell_peers,
        out=np.zeros(n_cells, dtype=float),
        where=cell_peers > 0,
    )
    cell_flag = (holders > 0) & (cell_size >= policy.peer_min_size)
    cell_flag &= cell_share < policy.peer_max_share
    cell_flag[::width] = False  # unknown groups

    # The flagged memberships (few), then their (person, group) pairs in key order.
    rows = cells.rows_in(np.concatenate([cell_flag, np.zeros(width, dtype=bool)]))
    held_acc = ctx.em_account_at(rows)
    held_pair = holder[held_acc].astype(np.int64) * n_groups + ctx.em_group[rows]
    flagged = np.unique(held_pair)
    fp, fg = flagged // n_groups, flagged % n_groups
    flagged_cell = department_code[fp].astype(np.int64) * width + fg + 1
    peers = cell_peers[flagged_cell]
    peers_holding = cell_holding[flagged_cell]
    share = cell_share[flagged_cell]
    who = ctx.person_rows(fp, ["person_id", "name"])
    group = ctx.groups[["group_id", "name", "system"]].iloc[fg].reset_index(drop=True)
    n_peers = pd.Series(peers)
    n_holding = pd.Series(peers_holding)
    pct = pd.Series(np.round(share * 100, 1))
    department = pd.Series(pd.Categorical.from_codes(department_code[fp], departments))

    # How each flagged (person, group) is held: which accounts, through which path. Most
    # people hold a group through one account; everything stays columnar until the end.
    at = np.searchsorted(flagged, held_pair)
    order = np.lexsort((ctx.account_order(held_acc), at))
    rows, at, held_acc = rows[order], at[order], held_acc[order]
    logins = ctx.account_rows(held_acc, ["login"])["login"]
    how = (
        logins + " via " + ctx.effective_memberships["path"].iloc[rows].astype(str).to_numpy()
    ).tolist()
    starts = np.flatnonzero(np.r_[True, at[1:] != at[:-1]]) if len(at) else at
    ends = np.r_[starts[1:], len(at)].astype(np.int64) if len(at) else at
    held_through = [how[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    login = logins.iloc[starts].reset_index(drop=True)  # the person's everyday account first

    message = (
        who["name"]
        + " ("
        + department.astype(str)
        + ") holds "
        + group["name"]
        + "; "
        + n_holding.astype(str)
        + " of "
        + n_peers.astype(str)
        + " peers do ("
        + pct.astype(str)
        + "%)"
    )
    # Evidence kept lean: at benchmark scale this rule yields millions of findings.
    evidence = pd.DataFrame(
        {
            "department": department,
            "peers": n_peers,
            "peers_holding": n_holding,
            "peer_share": np.round(share, 4),
            "group_privileged": ctx.group_privileged[fg],
            "held_through": held_through,
        }
    )
    return PEER_OUTLIER.findings(
        subject_type="person",
        subject_id=who["person_id"],
        subject_name=login,
        system=group["system"],
        person_id=who["person_id"],
        message=message,
        evidence=evidence,
        entitlement=group["name"],
        entitlement_key=group["group_id"],
    )


class _Cells:
    """The (department, group) cell of every effective membership, read block by block:
    ``first[account] + group`` composed through the stored account codes, never written
    out for the whole table. ``first`` and ``several`` are per account row, with one more
    entry where an unknown account reads."""

    def __init__(
        self, ctx: RuleContext, first: np.ndarray, several: np.ndarray, n_counts: int
    ) -> None:
        codes, at = ctx.em_account_codes
        self.codes, self.groups = codes, ctx.em_group
        # Cells fit int32 for any organisation a department × group grid fits in memory for.
        cell_type = np.int32 if n_counts < np.iinfo(np.int32).max else np.int64
        self.first = first[at].astype(cell_type)
        self.buffer: np.ndarray = np.empty(min(BLOCK, len(codes)), dtype=cell_type)
        several_code = several[at]
        counts = np.zeros(n_counts, dtype=np.int64)
        found = []
        for start, cell in self._blocks():
            counts += np.bincount(cell, minlength=n_counts)
            if several_code.any():
                block = np.flatnonzero(gather(several_code, self.codes[start : start + len(cell)]))
                found.append(block[self.groups[start + block] >= 0] + start)
        self.counts = counts
        self.several_rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def _blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """Each block's first row and its cells (in one buffer, rewritten for every block)."""
        for start in range(0, len(self.codes), BLOCK):
            codes = self.codes[start : start + BLOCK]
            cell: np.ndarray = self.buffer[: len(codes)]
            # "wrap": an unknown account (-1) reads the last entry.
            np.take(self.first, codes, out=cell, mode="wrap")
            cell += self.groups[start : start + BLOCK]
            yield start, cell

    def rows_in(self, flag: np.ndarray) -> np.ndarray:
        """The rows whose cell ``flag`` (a mask over cells) marks, in table order."""
        marked = np.empty(len(self.buffer), dtype=bool)
        found = []
        for start, cell in self._blocks():
            np.take(flag, cell, out=marked[: len(cell)])
            found.append(np.flatnonzero(marked[: len(cell)]) + start)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


PEER_OUTLIER = RuleSpec(
    id="peer-outlier",
    title="Entitlement unusual for the holder's department",
    severity="low",
    rationale="Access that the rest of a team does not need is often left over from an earlier "
    "job (privilege creep).",
    remediation="Ask the manager whether the person still needs it; remove it if not.",
    controls=(
        "ISO 27001:2022 A.5.18",
        "SOC 2 CC6.3",
        "NIST SP 800-53 AC-6",
        "GDPR Art. 32",
        "HIPAA §164.308(a)(4)(ii)(C)",
    ),
    function=peer_outlier,
    needs=("accounts", "people", "memberships"),
    thresholds=("peer_min_size", "peer_max_share"),
    false_positives=(
        "Specialists who are the only one in their department with a tool (the one payroll "
        "administrator); managers and team leads; departments in HR that do not match teams. "
        "A peer share alone is never a reason to revoke privileged access: reviews recommend "
        "'review' for it."
    ),
)
