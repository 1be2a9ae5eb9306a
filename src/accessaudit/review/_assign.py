"""Which items a campaign holds, who reviews each, and the stored items table.

:func:`select_scope` narrows the items of :func:`accessaudit.review._items.build_items` to
a campaign's scope; :func:`assign_reviewers` gives each a reviewer (never the holder);
:func:`finalise` makes the stored table; :func:`describe_items` counts it for the manifest.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from accessaudit.errors import ReviewError
from accessaudit.review._items import ITEM_COLUMNS, ReviewBy, cell_text
from accessaudit.review._links import LINK_ITEM_COLUMNS
from accessaudit.review.recommend import has_rule

__all__ = ["UNASSIGNED", "assign_reviewers", "describe_items", "finalise", "select_scope"]

#: Reviewer id of items with no manager / owner and no fallback reviewer.
UNASSIGNED = "unassigned"


def select_scope(items: pd.DataFrame, scope: str) -> pd.DataFrame:
    """Items in ``scope``: ``all``, ``privileged``, ``sensitive``, ``sharing`` or
    ``rule=RULE_ID``. Sharing links and invitations on sensitive data (confidential or above,
    or pii / phi / pci) are in the ``privileged`` scope too: a link that opens restricted data
    to anyone is as much a quarterly review item as an admin right. ``sharing`` gives every
    link and invitation."""
    if scope == "all":
        return items
    is_link = items["entitlement_type"].isin(["link", "invitation"])
    if scope == "sharing":
        return items[is_link]
    if scope == "privileged":
        return items[items["privileged"] | (is_link & items["sensitive"])]
    if scope == "sensitive":
        return items[items["sensitive"]]
    if scope.startswith("rule="):
        rule = scope.removeprefix("rule=").strip()
        return items[has_rule(items["findings"], rule)]
    raise ReviewError(
        f"unknown review scope {scope!r}: use privileged, sensitive, sharing, all or rule=ID"
    )


def assign_reviewers(
    items: pd.DataFrame,
    people: pd.DataFrame,
    *,
    by: ReviewBy,
    fallback: str | None,
) -> pd.DataFrame:
    """Give each item a reviewer: the person's manager or the resource's owner, else the
    fallback reviewer. Nobody reviews their own access: such items go to the fallback, and
    the fallback's own items go to the fallback's manager. Items left without anyone go to
    the :data:`UNASSIGNED` reviewer."""
    current = people[people["status"] != "terminated"]
    reviewer = items["manager_id"] if by == "manager" else items["owner_id"]
    reviewer = reviewer.astype(object).where(reviewer.notna(), None)
    usable = reviewer.isin(current["person_id"]) & reviewer.ne(items["person_id"])
    # A link item whose site names no owner has a reviewer by fallback even when the
    # resource's or the inventory's owner takes it (the item says which).
    by_fallback = (
        items["owner_fallback"].astype("boolean").fillna(False).astype(bool)
        if "owner_fallback" in items
        else pd.Series(False, index=items.index)
    )
    needs_fallback = ~usable | by_fallback
    fallback_id: str | None = None
    if fallback:
        match = people[
            people["person_id"].astype(object).eq(fallback)
            | people["email"].astype("string").str.casefold().eq(fallback.casefold()).fillna(False)
        ]
        if match.empty:
            raise ReviewError(f"fallback reviewer {fallback!r} is not a person in the snapshot")
        fallback_id = str(match["person_id"].iloc[0])
    # Without a fallback, items nobody can review go to an "unassigned" workbook that the
    # audit team routes by hand, rather than failing a cron job or reaching the holder.
    chosen = reviewer.where(usable, fallback_id or UNASSIGNED)
    own = chosen.eq(items["person_id"])
    if own.any():
        managers = people.set_index("person_id")["manager_id"]
        second = managers.get(fallback_id) if fallback_id else None
        usable_second = (
            second is not None and pd.notna(second) and second in set(current["person_id"])
        )
        chosen = chosen.where(~own, str(second) if usable_second else UNASSIGNED)
    names = people.set_index("person_id")
    out = items.assign(
        reviewer_id=chosen.astype(str),
        reviewer_is_fallback=needs_fallback | own,
    )
    out["reviewer"] = cell_text(out["reviewer_id"].map(names["name"])).where(
        out["reviewer_id"].ne(UNASSIGNED), "Unassigned (no manager or owner: route by hand)"
    )
    out["reviewer_email"] = cell_text(out["reviewer_id"].map(names["email"]))
    return out


def finalise(items: pd.DataFrame) -> pd.DataFrame:
    """The stored items table: exactly :data:`ITEM_COLUMNS`, text columns as str, sorted."""
    out = items.copy()
    for column in LINK_ITEM_COLUMNS:
        if column not in out:
            out[column] = ""
    out["privileged"] = out["privileged"].astype(bool)
    out["reviewer_is_fallback"] = out["reviewer_is_fallback"].astype(bool)
    out["depth"] = out["depth"].astype("Int64")
    for column in ITEM_COLUMNS:
        if column not in ("privileged", "reviewer_is_fallback", "depth"):
            out[column] = cell_text(out[column])
    out = out[list(ITEM_COLUMNS)].sort_values(
        ["reviewer_id", "person", "login", "entitlement_type", "entitlement"]
    )
    return out.reset_index(drop=True)


def describe_items(items: pd.DataFrame) -> dict[str, Any]:
    """Counts for the campaign manifest."""
    return {
        "items": len(items),
        "recommended_revoke": int((items["recommendation"] == "revoke").sum()),
        "fallback_items": int(items["reviewer_is_fallback"].sum()),
        "unassigned_items": int((items["reviewer_id"] == UNASSIGNED).sum()),
    }
