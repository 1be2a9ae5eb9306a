"""The ``movers`` review scope: what each mover brought along, for the new manager.

A mover is a person whose department or title changed (HR history, or a previous snapshot
passed to the campaign; see :mod:`accessaudit.analysis.movers`). What they *brought along*:

* with a previous snapshot that has accounts, every entitlement their accounts held there and
  still hold;
* otherwise, every entitlement fewer than ``peer_max_share`` of their new department's
  peers hold (what the new job does not explain), and every entitlement a
  ``mover-retained-access`` finding names.

Reviewing by manager sends these items to the person's current HR manager — the new manager.
"""

from __future__ import annotations

import pandas as pd

from accessaudit.analysis.movers import all_moves
from accessaudit.policy import Policy
from accessaudit.snapshot import Snapshot

__all__ = ["mover_items"]


def _held(snapshot: Snapshot) -> pd.DataFrame:
    """(account_id, entitlement_id) of every group membership and resource access."""
    groups = snapshot.effective_memberships[["account_id", "group_id"]].astype(str)
    resources = snapshot.access[["account_id", "resource_id"]].astype(str)
    return pd.concat(
        [
            groups.rename(columns={"group_id": "entitlement_id"}),
            resources.rename(columns={"resource_id": "entitlement_id"}),
        ],
        ignore_index=True,
    ).drop_duplicates()


def mover_items(
    items: pd.DataFrame,
    snapshot: Snapshot,
    policy: Policy,
    previous: Snapshot | None = None,
) -> pd.DataFrame:
    """The items (from ``build_items``) that movers brought along, with the move in
    ``reason`` ahead of the recommendation's own words."""
    moves = all_moves(
        snapshot.people,
        previous_people=previous.people if previous is not None else None,
        previous_as_of=previous.as_of if previous is not None else None,
        as_of=snapshot.as_of,
    )
    moves = moves.drop_duplicates("person_id").set_index("person_id")
    of_mover = items["person_id"].isin(moves.index)
    # A previous snapshot of HR alone (no accounts) shows the moves but not what was held.
    if previous is not None and len(previous.accounts):
        before = _held(previous)
        keys = items["account_id"].astype(str) + "\x1f" + items["entitlement_id"].astype(str)
        kept = keys.isin(set(before["account_id"] + "\x1f" + before["entitlement_id"]))
    else:
        fraction = items["peer_fraction"]
        unusual = fraction.isna() | (fraction < policy.peer_max_share)
        flagged = (", " + items["findings"].astype(str) + ", ").str.contains(
            ", mover-retained-access, ", regex=False
        )
        kept = unusual | flagged
    chosen = items[(of_mover & kept).to_numpy(dtype=bool)].copy()
    move = moves.reindex(chosen["person_id"]).set_axis(chosen.index)
    title = move["previous_title"].astype("string")
    came_from = (
        "moved from "
        + move["previous_department"].astype("string").fillna("another department")
        + (" (" + title + ")").fillna("")
        + " on "
        + move["moved_on"].dt.strftime("%Y-%m-%d").astype("string").fillna("an unknown date")
    )
    chosen["reason"] = (came_from + "; " + chosen["reason"].astype("string")).astype(object)
    return chosen
