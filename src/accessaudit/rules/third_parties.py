"""Third parties: contracts about to end, and guests and vendors nobody sponsors.

A third party's contract end is HR's ``contract_end``, or its ``end_date`` when HR keeps no
separate contract date. Access past the contract end is ``leaver-active`` (see
:mod:`accessaudit.rules.accounts`); here, access to sensitive data in the last
``third_party_expiry_days`` before it, for the resource owner's review.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from accessaudit.policy import Policy
from accessaudit.rules._arrays import positions
from accessaudit.rules._context import SUBJECT_COLUMNS, RuleContext, choose, text
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = [
    "GUEST_WITHOUT_SPONSOR",
    "THIRD_PARTY_EXPIRING",
    "THIRD_PARTY_WORKERS",
    "contract_end",
    "guest_without_sponsor",
    "third_party_expiring",
]

#: HR worker types that are third parties.
THIRD_PARTY_WORKERS = ("contractor", "vendor")


def contract_end(people: pd.DataFrame) -> pd.Series:
    """Each third party's contract end (``contract_end``, else ``end_date``); empty for
    employees."""
    third = people["worker_type"].isin(THIRD_PARTY_WORKERS)
    end: pd.Series = people["contract_end"].fillna(people["end_date"]).where(third)
    return end


def _day(times: pd.Series) -> pd.Series:
    out: pd.Series = times.dt.strftime("%Y-%m-%d").fillna("unknown")
    return out


def third_party_expiring(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Contractors' and vendors' access to sensitive data whose contract ends within
    ``third_party_expiry_days`` (today included). One finding per account and resource;
    the resource owner is in the evidence, for their review."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    accounts, people = ctx.accounts, ctx.people
    # reindex at -1 (no HR person) gives an empty date, keeping the column's UTC dtype.
    end = contract_end(people).reindex(ctx.account_person).reset_index(drop=True)
    end = pd.to_datetime(end, utc=True)
    horizon = as_of + pd.Timedelta(days=policy.third_party_expiry_days)
    soon = ((end >= as_of.normalize()) & (end <= horizon)).to_numpy(dtype=bool, na_value=False)
    soon = soon & accounts["enabled"].to_numpy(dtype=bool)
    hits = ctx.sensitive_access(soon)
    acc, res = ctx.access_account, ctx.access_resource
    a = ctx.account_rows(acc[hits], SUBJECT_COLUMNS)
    r = ctx.resources.iloc[res[hits]].reset_index(drop=True)
    grant = ctx.access.iloc[hits].reset_index(drop=True)
    who = ctx.person_rows(ctx.account_person[acc[hits]])
    ending = end.iloc[acc[hits]].reset_index(drop=True)
    days = (ending - as_of.normalize()).dt.days
    message = (
        who["worker_type"].astype(str)
        + " "
        + a["login"]
        + " can "
        + grant["right"].astype(str)
        + " "
        + r["name"]
        + "; the contract ends "
        + _day(ending)
        + " (in "
        + days.astype(str)
        + " days)"
        + choose(r["owner"].notna(), ": for " + r["owner"].fillna("") + " to review", "", r.index)
    )
    evidence = pd.DataFrame(
        {
            "resource": r["name"],
            "right": grant["right"].astype(object),
            "via": text(grant["via"]),
            "sensitivity": r["sensitivity"].astype(object),
            "data_categories": r["data_categories"],
            "resource_owner": r["owner"],
            "resource_owner_id": r["owner_id"],
            "worker_type": who["worker_type"].astype(object),
            "contract_end": ending,
            "days_to_contract_end": days,
            "expiry_days": policy.third_party_expiry_days,
        }
    )
    return THIRD_PARTY_EXPIRING.account_findings(
        a,
        message=message,
        evidence=evidence,
        entitlement=r["name"],
        entitlement_key=r["resource_id"],
    )


class _DirectorySponsors(NamedTuple):
    """Per account: whether its directory sponsor is current, its name, and what is wrong."""

    current: np.ndarray
    named: pd.Series
    problem: pd.Series


def _directory_sponsors(
    ctx: RuleContext, at: np.ndarray, terminated: np.ndarray
) -> _DirectorySponsors:
    """The own sponsors (``sponsor_id``) of the accounts at positions ``at``: an enabled
    account whose HR person (if any) has not left, or a group in the snapshot, is current."""
    a = ctx.accounts
    sponsor_id = a["sponsor_id"].iloc[at].reset_index(drop=True)
    account_at = positions(sponsor_id, ctx.account_index)
    group_at = positions(sponsor_id, ctx.group_index)
    sponsor = sponsor_id.astype(object)
    is_account = account_at >= 0
    safe = np.maximum(account_at, 0)
    enabled = a["enabled"].to_numpy(dtype=bool)[safe] if len(a) else np.zeros(0, dtype=bool)
    person_at = ctx.account_person[safe] if len(a) else np.zeros(0, dtype=np.int64)
    left = (
        (person_at >= 0) & terminated[np.maximum(person_at, 0)]
        if len(terminated)
        else np.zeros(len(at), dtype=bool)
    )
    current = (is_account & enabled & ~left) | (group_at >= 0)
    logins = a["login"].take(safe).astype(object).to_numpy()
    groups = ctx.groups["name"].astype(object).to_numpy()
    group_names = groups[np.maximum(group_at, 0)] if len(groups) else sponsor.to_numpy()
    names = np.where(is_account, logins, np.where(group_at >= 0, group_names, sponsor))
    problem = np.select(
        [is_account & ~enabled, is_account & left, ~is_account & (group_at < 0)],
        [" is disabled", " has left", " is not in the snapshot"],
        "",
    )
    return _DirectorySponsors(
        current=current,
        named=pd.Series(names, dtype=object).where(sponsor.notna().to_numpy()),
        problem=pd.Series(problem, dtype=object),
    )


def guest_without_sponsor(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Enabled guest accounts, and enabled accounts of HR vendors, with no current sponsor.

    The sponsor is the HR ``sponsor_id``, else the HR manager, of the person the account
    belongs to; a sponsor HR marks terminated, or does not know, is no sponsor. The directory's
    own sponsor (``accounts.sponsor_id``: Entra sponsors) counts too: an enabled account whose
    person has not left, or a group. A guest with neither has no sponsor accessaudit can see.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    guest = (a["kind"] == "guest").to_numpy(dtype=bool)
    vendor = (ctx.account_people(["worker_type"])["worker_type"] == "vendor").to_numpy(dtype=bool)
    # Sponsors are looked up for enabled guests and vendors only: a few of all accounts.
    third = np.flatnonzero(a["enabled"].to_numpy(dtype=bool) & (guest | vendor))
    who = ctx.person_rows(ctx.account_person[third])
    sponsor = who["sponsor_id"].fillna(who["manager_id"])
    sponsor_at = positions(sponsor, ctx.person_index)
    people = ctx.people
    terminated = (people["status"] == "terminated").to_numpy(dtype=bool)
    hr_current = (
        (sponsor_at >= 0) & ~terminated[np.maximum(sponsor_at, 0)]
        if len(people)
        else np.zeros(len(third), dtype=bool)
    )
    directory = _directory_sponsors(ctx, third, terminated)
    keep = ~hr_current & ~directory.current
    flagged = third[keep]
    rows = ctx.account_rows(
        flagged,
        [*SUBJECT_COLUMNS, "display_name", "email", "sponsor_id", "created", "last_sign_in"],
    )
    who = who[keep].reset_index(drop=True)
    named = sponsor[keep].reset_index(drop=True)
    known = pd.Series(sponsor_at[keep] >= 0)
    in_directory = directory.named[keep].reset_index(drop=True)
    why = pd.Series(
        np.select(
            [
                named.notna().to_numpy() & ~known.to_numpy(),
                named.notna().to_numpy(),
                in_directory.notna().to_numpy(),
            ],
            [
                "its sponsor " + named.fillna("") + " is not in HR",
                "its sponsor " + named.fillna("") + " has left",
                "its directory sponsor "
                + in_directory.fillna("")
                + directory.problem[keep].reset_index(drop=True),
            ],
            "no sponsor or manager is recorded",
        ),
        dtype=object,
    )
    kind = pd.Series(np.where(guest[flagged], "guest", "vendor"), dtype=object)
    message = kind + " account " + rows["login"] + ": " + why
    evidence = pd.DataFrame(
        {
            "third_party_type": kind,
            "display_name": rows["display_name"],
            "email": rows["email"],
            "hr_person": who["name"],
            "sponsor_id": named,
            "directory_sponsor_id": rows["sponsor_id"],
            "created": rows["created"],
            "last_sign_in": rows["last_sign_in"],
        }
    )
    return GUEST_WITHOUT_SPONSOR.account_findings(
        rows,
        message=message,
        evidence=evidence,
    )


THIRD_PARTY_EXPIRING = RuleSpec(
    id="third-party-expiring",
    title="Third party's contract ends soon; sensitive access to review",
    severity="medium",
    rationale="Access that outlives a contract is the commonest third-party gap; the weeks "
    "before the end are when the owner can still decide to extend or remove it.",
    remediation="The resource owner confirms an extension with HR or schedules the removal "
    "for the contract end date.",
    controls=(
        "ISO 27001:2022 A.5.19",
        "ISO 27001:2022 A.5.20",
        "ISO 27001:2022 A.5.18",
        "SOC 2 CC6.2",
        "NIST SP 800-53 PS-7",
        "GDPR Art. 28",
        "HIPAA §164.308(a)(3)(ii)(C)",
    ),
    function=third_party_expiring,
    needs=("accounts", "people", "resources", "grants"),
    thresholds=("third_party_expiry_days",),
    false_positives=(
        "Contracts that will be renewed before they end but whose new end date HR has not "
        "recorded yet."
    ),
)
GUEST_WITHOUT_SPONSOR = RuleSpec(
    id="guest-without-sponsor",
    title="Guest or vendor account without a sponsor",
    severity="medium",
    rationale="Every external identity needs someone inside who vouches for it and answers "
    "the access review; without one it outlives its purpose unnoticed.",
    remediation="Record a sponsor (HR sponsor_id or manager, or the guest's sponsors in Entra) "
    "who is currently employed, or disable the account.",
    controls=(
        "ISO 27001:2022 A.5.19",
        "ISO 27001:2022 A.5.16",
        "SOC 2 CC6.2",
        "NIST SP 800-53 AC-2",
        "NIST SP 800-53 PS-7",
    ),
    function=guest_without_sponsor,
    needs=("accounts",),
    false_positives=(
        "Sponsors kept outside HR and the directory (a partner contract register); when the "
        "app may not read Entra sponsors (the collection report says so), guests are judged "
        "on HR alone."
    ),
)
