"""Movers: access kept from the old department past the grace period.

``mover-retained-access`` — after a move (HR history, or two snapshots; see
:mod:`accessaudit.analysis.movers`), access the old department's peers hold and the new
department's peers do not, still held once ``mover_grace_days`` have passed. Peers follow
``peer-outlier``: the other people of the department whom HR does not mark terminated, in
departments of at least ``peer_min_size`` people. Moves that cannot be judged are returned by
:func:`moves_not_judged` for the audit notes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.analysis.movers import all_moves
from accessaudit.policy import Policy
from accessaudit.rules._arrays import positions
from accessaudit.rules._context import RuleContext, choose
from accessaudit.rules._holdings import Holdings, day_text, person_findings
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = ["MOVER_RETAINED_ACCESS", "mover_retained_access", "moves_not_judged"]

ISO_ACCESS_RIGHTS = "ISO 27001:2022 A.5.18"
SOX = "SOX ITGC: logical access (provisioning and termination)"


def _moves(ctx: RuleContext) -> pd.DataFrame:
    previous = ctx.previous
    return all_moves(
        ctx.people,
        previous_people=previous.people if previous is not None else None,
        previous_as_of=ctx.previous_as_of,
        as_of=ctx.as_of,
    )


_JudgedMoves = tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.Series]


def _judge_moves(ctx: RuleContext) -> _JudgedMoves:
    """The moves, their people rows, old and new department codes, which are judged now, and
    for department moves that cannot be judged, why (indexed like the moves). Worked out
    once per audit run: the rule and the audit notes both read it."""
    judged: _JudgedMoves = ctx.shared("judged moves", lambda: _work_out_moves(ctx))
    return judged


def _work_out_moves(ctx: RuleContext) -> _JudgedMoves:
    policy, as_of = ctx.policy, ctx.as_of
    holdings = Holdings.of(ctx)
    moves = _moves(ctx)
    person = positions(moves["person_id"].astype(ctx.person_index.dtype), ctx.person_index)
    old = holdings.department_of(moves["previous_department"])
    new = np.where(person >= 0, holdings.department_code[np.maximum(person, 0)], -1)
    due = (as_of - moves["moved_on"]).dt.days.to_numpy(dtype=float, na_value=np.nan)
    sizes = np.append(holdings.sizes, 0)
    department_move = (
        moves["previous_department"].astype("string").str.casefold()
        != moves["department"].astype("string").str.casefold()
    ).to_numpy(dtype=bool, na_value=False)
    small = (sizes[old] < policy.peer_min_size) | (sizes[new] < policy.peer_min_size)
    why = pd.Series(
        np.select(
            [person < 0, old < 0, small],
            [
                "not in the HR roster",
                "the old department has no current staff to compare with",
                f"a department with fewer than peer_min_size ({policy.peer_min_size}) people",
            ],
            "",
        ),
        index=moves.index,
    ).where(department_move, "")
    judged = department_move & why.eq("").to_numpy() & (due > policy.mover_grace_days)
    return moves, person, old, new, judged, why[why.ne("")]


def moves_not_judged(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.Series:
    """Department moves ``mover-retained-access`` cannot judge, and why: a Series of reasons
    indexed by person_id (for the audit notes — nothing is skipped in silence)."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    moves, *_, why = _judge_moves(ctx)
    out: pd.Series = why.set_axis(moves.loc[why.index, "person_id"].astype(str))
    return out


def mover_retained_access(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Entitlements a mover kept from the old department past ``mover_grace_days``.

    Moves come from HR (``previous_department`` + ``moved_on``) and, when the audit is given
    a previous snapshot, from a department change between the two snapshots (moved on the
    earlier snapshot's date at the latest). An entitlement is *the old department's* when at
    least ``peer_max_share`` of its people hold it, and *not the new department's* when fewer
    than ``peer_max_share`` of the mover's new peers do. Both departments must have at least
    ``peer_min_size`` people.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    holdings = Holdings.of(ctx)
    moves, person, old, new, judged, _ = _judge_moves(ctx)
    moves, person, old, new = moves[judged], person[judged], old[judged], new[judged]
    if moves.empty:
        return MOVER_RETAINED_ACCESS.no_findings()
    held = holdings.held_by(person)
    pairs = held[["person", "entitlement"]].drop_duplicates()
    at = pd.Index(person).get_indexer(pd.Index(pairs["person"]))
    holders = holdings.holders(pairs["entitlement"].unique())
    ent = pairs["entitlement"].to_numpy()
    old_peers = holdings.sizes[old[at]]
    old_holding = holdings.count(holders, old[at], ent)
    new_peers = holdings.sizes[new[at]] - 1
    new_holding = holdings.count(holders, new[at], ent) - 1
    old_share = old_holding / np.maximum(old_peers, 1)
    new_share = new_holding / np.maximum(new_peers, 1)
    flag = (old_share >= policy.peer_max_share) & (new_share < policy.peer_max_share)
    pairs, at, ent = pairs[flag], at[flag], ent[flag]
    old_peers, old_holding, new_peers, new_holding = (
        old_peers[flag],
        old_holding[flag],
        new_peers[flag],
        new_holding[flag],
    )
    old_share, new_share = old_share[flag], new_share[flag]
    move = moves.iloc[at].reset_index(drop=True)
    described = holdings.describe(ent)
    through = holdings.held_through(held, pairs["person"].to_numpy(), ent)
    name = pd.Series(
        ctx.person_rows(pairs["person"].to_numpy(), ["name"])["name"].astype(object).to_numpy(),
        dtype=object,
    )
    days = (as_of - move["moved_on"]).dt.days
    message = (
        name
        + " moved from "
        + move["previous_department"].astype(str)
        + " to "
        + move["department"].astype(str)
        + choose(
            move["found_by"].eq("hr"),
            " on " + day_text(move["moved_on"]),
            " between " + day_text(move["moved_on"]) + " and " + day_text(move["moved_by"]),
            move.index,
        )
        + " and still holds "
        + described["name"].astype(str)
        + " "
        + days.astype(str)
        + " days later; "
        + pd.Series(old_holding).astype(str)
        + " of "
        + pd.Series(old_peers).astype(str)
        + " old peers and "
        + pd.Series(new_holding).astype(str)
        + " of "
        + pd.Series(new_peers).astype(str)
        + " new peers hold it"
    )
    evidence = pd.DataFrame(
        {
            "previous_department": move["previous_department"],
            "department": move["department"],
            "previous_title": move["previous_title"],
            "title": move["title"],
            "moved_on": move["moved_on"],
            "days_since_move": days,
            "grace_days": policy.mover_grace_days,
            "move_found_by": move["found_by"],
            "entitlement_type": described["type"],
            "old_peers": old_peers,
            "old_peers_holding": old_holding,
            "old_peer_share": np.round(old_share, 4),
            "new_peers": new_peers,
            "new_peers_holding": new_holding,
            "new_peer_share": np.round(new_share, 4),
            "privileged": described["privileged"],
            "held_through": through,
        }
    )
    return person_findings(
        MOVER_RETAINED_ACCESS,
        ctx,
        person=pairs["person"].to_numpy(),
        login=holdings.holding_login(held, pairs["person"].to_numpy(), ent),
        described=described,
        message=message,
        evidence=evidence,
    )


MOVER_RETAINED_ACCESS = RuleSpec(
    id="mover-retained-access",
    title="Mover kept the old department's access",
    severity="medium",
    rationale="People who change jobs collect the access of every job they held (privilege "
    "creep); the move is when the old access should end.",
    remediation="Ask the new manager whether the person still needs it; remove what belongs "
    "to the old job (review with `review create --scope movers`).",
    controls=(
        SOX,
        ISO_ACCESS_RIGHTS,
        "SOC 2 CC6.2",
        "SOC 2 CC6.3",
        "NIST SP 800-53 AC-2",
        "NIST SP 800-53 PS-5",
        "HIPAA §164.308(a)(4)(ii)(C)",
    ),
    function=mover_retained_access,
    needs=("accounts", "people"),
    thresholds=("mover_grace_days", "peer_min_size", "peer_max_share"),
    false_positives=(
        "A handover longer than the grace period that the new manager agreed; access the new role"
        " needs although the new peers do not hold it; a move recorded in HR with the wrong "
        "effective date."
    ),
)
