"""Where a campaign stands: completion, overdue reviewers, rubber-stamping, verification.

Rubber-stamp signals (each a reason on the reviewer's row, never a verdict):

* ``kept everything``: every item decided keep, including items recommended for revoke;
* ``one save, no comments``: every item decided in a single file with no comment at all and
  the same decision everywhere (at least 3 items);
* ``implausibly fast``: the decisions file was saved less than 2 seconds per item after the
  campaign was created.

Workbooks put in the campaign's ``returned/`` folder are checked again (nothing is logged):
a reviewer whose workbook came back with rows that cannot be accepted shows ``returned`` and
``rejected`` (the count of rejected rows), so a returned but rejected workbook never reads as
"0 decided" as if nothing came back.

With a new snapshot, :func:`verify_revocations` says which revocations were carried out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.errors import ReviewError
from accessaudit.model import choose_as_of
from accessaudit.review._held import access_beside_people_links
from accessaudit.review._returned import read_workbook
from accessaudit.review.campaign import RETURNED, Campaign
from accessaudit.review.collect import check_workbook
from accessaudit.review.decision_log import current_decisions
from accessaudit.snapshot import Snapshot

__all__ = ["CampaignStatus", "campaign_status", "verify_revocations"]

_FAST_SECONDS_PER_ITEM = 2.0
_STAMP_MIN_ITEMS = 3


@dataclass(frozen=True)
class CampaignStatus:
    """Completion per reviewer (``reviewers``) and overall, plus optional verification.

    ``reviewers`` columns: reviewer_id, reviewer, workbook, items, decided, keep, revoke,
    modify, completion (0–1), overdue (bool), rubber_stamp (the signals, '' when none),
    returned (workbooks of theirs in ``returned/``), rejected (rows of those workbooks that
    cannot be accepted: edited, tampered, bad decision word, missing comment, or the whole
    workbook when it belongs elsewhere).
    ``verification`` (only with a new snapshot): one row per revoke decision with ``status``
    ``carried out`` or ``still present`` and a ``detail``. ``deadline`` is the deadline day
    as the workbooks show it (UTC midnight; reviewers are overdue from the day after);
    ``deadline_day`` the same date as text.
    """

    campaign_id: str
    as_of: pd.Timestamp
    deadline: pd.Timestamp | None
    reviewers: pd.DataFrame
    verification: pd.DataFrame | None

    @property
    def deadline_day(self) -> str | None:
        """The deadline as given ("2026-12-15"), the same date the workbooks show."""
        if self.deadline is None:
            return None
        return str(self.deadline.date())

    @property
    def rejected(self) -> int:
        """Rows of returned workbooks that could not be accepted."""
        return int(self.reviewers["rejected"].sum())

    @property
    def items(self) -> int:
        """Items under review."""
        return int(self.reviewers["items"].sum())

    @property
    def decided(self) -> int:
        """Items with a decision in force."""
        return int(self.reviewers["decided"].sum())

    @property
    def completion(self) -> float:
        """Share of items decided, 0–1."""
        return self.decided / self.items if self.items else 1.0

    @property
    def rubber_stampers(self) -> list[str]:
        """Reviewer ids with at least one rubber-stamp signal."""
        return self.reviewers.loc[self.reviewers["rubber_stamp"] != "", "reviewer_id"].tolist()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        out: dict[str, Any] = {
            "campaign_id": self.campaign_id,
            "as_of": self.as_of.isoformat(),
            "deadline": self.deadline_day,
            "deadline_ends": (
                (self.deadline + pd.Timedelta(days=1)).isoformat()
                if self.deadline is not None
                else None
            ),
            "items": self.items,
            "decided": self.decided,
            "completion": round(self.completion, 4),
            "rejected": self.rejected,
            "reviewers": self.reviewers.astype(object).to_dict(orient="records"),
        }
        if self.verification is not None:
            out["verification"] = self.verification.astype(object).to_dict(orient="records")
        return out


def campaign_status(
    campaign: Campaign,
    *,
    as_of: pd.Timestamp | str | None = None,
    verify: Snapshot | None = None,
) -> CampaignStatus:
    """Completion, overdue reviewers and rubber-stamp signals of ``campaign``.

    ``as_of`` (default now) decides who is overdue: past the deadline with items undecided.
    ``verify`` is a snapshot taken after remediation; see :func:`verify_revocations`.

    >>> campaign_status(load_campaign("reviews/2026-Q4")).reviewers  # doctest: +SKIP
    """
    now = choose_as_of(explicit=as_of)
    items = campaign.items
    decisions = current_decisions(campaign)
    decided = items[["item_id", "reviewer_id", "recommendation"]].merge(
        decisions[["item_id", "decision", "comment", "file_sha256", "decided_at"]],
        on="item_id",
        how="inner",
    )
    reviewers = campaign.reviewers[["reviewer_id", "reviewer", "workbook", "items"]]
    counts = (
        decided.pivot_table(
            index="reviewer_id", columns="decision", values="item_id", aggfunc="count"
        )
        .reindex(columns=["keep", "revoke", "modify"])
        .fillna(0)
        .astype(int)
        if len(decided)
        else pd.DataFrame(columns=["keep", "revoke", "modify"], dtype=int)
    )
    table = reviewers.join(counts, on="reviewer_id")
    for column in ("keep", "revoke", "modify"):
        table[column] = table[column].fillna(0).astype(int)
    table["decided"] = table[["keep", "revoke", "modify"]].sum(axis=1)
    table["completion"] = (table["decided"] / table["items"]).round(4)
    deadline = campaign.deadline
    # The deadline is a day: reviewers have until the end of it.
    late = deadline is not None and now >= deadline + pd.Timedelta(days=1)
    table["overdue"] = late & (table["decided"] < table["items"])
    table["rubber_stamp"] = _rubber_stamps(decided, table, campaign.created)
    returned = _returned(campaign)
    table["returned"] = table["reviewer_id"].map(returned["returned"]).fillna(0).astype(int)
    table["rejected"] = table["reviewer_id"].map(returned["rejected"]).fillna(0).astype(int)
    table = table[
        [
            "reviewer_id",
            "reviewer",
            "workbook",
            "items",
            "decided",
            "keep",
            "revoke",
            "modify",
            "completion",
            "overdue",
            "rubber_stamp",
            "returned",
            "rejected",
        ]
    ].reset_index(drop=True)
    verification = verify_revocations(campaign, verify) if verify is not None else None
    return CampaignStatus(
        campaign_id=campaign.id,
        as_of=now,
        deadline=deadline,
        reviewers=table,
        verification=verification,
    )


def _returned(campaign: Campaign) -> pd.DataFrame:
    """Per reviewer id: workbooks in ``returned/`` and how many of their rows are rejected.

    Checked exactly as ``review collect`` checks them, without logging anything.
    """
    key = campaign.key()
    counts: dict[str, dict[str, int]] = {}
    for file in sorted((campaign.folder / RETURNED).glob("*.xlsx")):
        try:
            returned = read_workbook(file)
        except ReviewError:
            continue  # unreadable: `review collect` names it; no reviewer to count it for
        _good, problems = check_workbook(campaign, returned, key)
        whole = problems["row"].isna() & problems["item_id"].eq("")
        rejected = len(returned.rows) if whole.any() else problems["row"].dropna().nunique()
        entry = counts.setdefault(returned.reviewer_id, {"returned": 0, "rejected": 0})
        entry["returned"] += 1
        entry["rejected"] += int(rejected)
    return pd.DataFrame.from_dict(counts, orient="index", columns=["returned", "rejected"])


def _rubber_stamps(decided: pd.DataFrame, table: pd.DataFrame, created: pd.Timestamp) -> pd.Series:
    signals = pd.Series("", index=table["reviewer_id"].to_numpy(), dtype=object)
    if decided.empty:
        return pd.Series(signals.to_numpy(), index=table.index)
    per = decided.assign(
        is_keep=decided["decision"].eq("keep"),
        revoke_kept=decided["decision"].eq("keep") & decided["recommendation"].eq("revoke"),
        commented=decided["comment"].fillna("").ne(""),
        saved=pd.to_datetime(decided["decided_at"], utc=True),
    ).groupby("reviewer_id")
    summary = pd.DataFrame(
        {
            "decided": per.size(),
            "all_keep": per["is_keep"].all(),
            "revoke_kept": per["revoke_kept"].sum(),
            "files": per["file_sha256"].nunique(),
            "comments": per["commented"].sum(),
            "decisions": per["decision"].nunique(),
            "last_saved": per["saved"].max(),
        }
    )
    items = table.set_index("reviewer_id")["items"].reindex(summary.index)
    complete = summary["decided"] >= items
    kept_all = complete & summary["all_keep"] & (summary["revoke_kept"] > 0)
    one_save = (
        complete
        & (summary["files"] == 1)
        & (summary["comments"] == 0)
        & (summary["decisions"] == 1)
        & (summary["decided"] >= _STAMP_MIN_ITEMS)
    )
    seconds = (summary["last_saved"] - created).dt.total_seconds()
    fast = complete & (seconds < _FAST_SECONDS_PER_ITEM * summary["decided"])
    text = (
        kept_all.map({True: "kept everything, including ", False: ""})
        + (summary["revoke_kept"].astype(str) + " recommended for revoke; ").where(kept_all, "")
        + one_save.map({True: "one save, no comments; ", False: ""})
        + fast.map({True: "implausibly fast; ", False: ""})
    ).str.removesuffix("; ")
    signals.update(text)
    return pd.Series(signals.to_numpy(), index=table.index)


def verify_revocations(campaign: Campaign, snapshot: Snapshot) -> pd.DataFrame:
    """For each revoke decision in force: was it carried out in ``snapshot``?

    A group entitlement is gone when the account is no longer an effective member; a resource
    entitlement when the account no longer reaches the resource beside the specific-people
    links that name it (each such link is an item of its own). A removed account counts as
    carried out; a disabled one that still holds the entitlement does not (it can be
    re-enabled with everything it had). A sharing link or invitation is gone when the
    snapshot's grants no longer hold its permission (same principal, resource and permission
    id) on the resource.
    """
    decisions = current_decisions(campaign)
    revoked = campaign.items.merge(
        decisions.loc[decisions["decision"] == "revoke", ["item_id", "decided_at"]],
        on="item_id",
    )
    memberships = pd.MultiIndex.from_frame(
        snapshot.effective_memberships[["account_id", "group_id"]].astype(str)
    )
    # Resource items are the access beside people links (those links are items of their
    # own, verified by their permission below): the same table the items were built from.
    access = pd.MultiIndex.from_frame(
        access_beside_people_links(snapshot)[["account_id", "resource_id"]].astype(str)
    )
    keys = pd.MultiIndex.from_frame(revoked[["account_id", "entitlement_id"]])
    is_group = revoked["entitlement_type"].eq("group").to_numpy()
    is_link = revoked["entitlement_type"].isin(["link", "invitation"]).to_numpy()
    grants = snapshot.grants
    shared = pd.MultiIndex.from_frame(
        grants[["principal_id", "resource_id"]]
        .astype(str)
        .assign(permission=grants["permission_id"].astype(object).fillna("").astype(str))
    )
    permission = (
        revoked["permission_id"].astype(str)
        if "permission_id" in revoked
        else pd.Series("", index=revoked.index)
    )
    link_keys = pd.MultiIndex.from_arrays(
        [revoked["account_id"].astype(str), revoked["entitlement_id"].astype(str), permission]
    )
    held = pd.Series(
        (is_group & keys.isin(memberships))
        | (~is_group & ~is_link & keys.isin(access))
        | (is_link & link_keys.isin(shared)),
        index=revoked.index,
    )
    # A link or an outside address is no account: it "exists" while it is held.
    exists = revoked["account_id"].isin(snapshot.accounts["account_id"].astype(str)) | is_link
    status = held.map({True: "still present", False: "carried out"})
    detail = pd.Series(
        np.where(is_link, "permission no longer on the resource", "entitlement no longer held"),
        index=revoked.index,
        dtype=object,
    )
    detail = detail.where(exists, "account removed")
    detail = detail.where(~held, "still held in the snapshot of " + str(snapshot.as_of.date()))
    return pd.DataFrame(
        {
            "item_id": revoked["item_id"],
            "reviewer_id": revoked["reviewer_id"],
            "login": revoked["login"],
            "system": revoked["system"],
            "entitlement_type": revoked["entitlement_type"],
            "entitlement": revoked["entitlement"],
            "status": status,
            "detail": detail,
        }
    ).reset_index(drop=True)
