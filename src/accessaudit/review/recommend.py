"""What a review recommends for each entitlement, and why: one small decision table.

Workbooks, notebooks and the API all read the same table, so a reviewer, an auditor and a
script see the same recommendation with the same reason. Policy comes first: an approved,
used privilege is kept; an unapproved one is revoked because it is unapproved, not because of
a peer share. The rows are tried in order; the first whose condition holds decides.

====  ===========  ====================================================  ========
row   dimension    condition (reason, e.g.)                              gives
====  ===========  ====================================================  ========
1     HR status    HR marks the person terminated ("left on             revoke
                   2026-09-30")
2     account      the account is disabled ("account is disabled")      revoke
3     HR status    human account with no HR person ("orphan")           revoke
4     approval     privileged group, login not on its approved list     revoke
                   ("not on the approved list for Domain Admins")
5     use          never signed in, past the grace period               revoke
6     use          privileged, idle > privileged_stale_days             revoke
                   ("no sign-in for 45 days (privileged limit 30)")
7     use          idle > stale_days ("no sign-in for 173 days")        revoke
8     severity     a sod-conflict finding ("decide which to keep")      review
9     approval     privileged group, approved, in use ("approved in     keep
      × use        policy; used 2 days ago")
10    severity     privileged access few peers hold ("unusual for the   review
                   department: held by 4 of 97 peers")
11    severity     other access few peers hold (same reason)            revoke
14    sharing      anonymous link on confidential or restricted data    revoke
                   ("anyone with the link can open restricted data,
                   no sign-in needed")
15    sharing      organisation-wide link or grant on restricted data   revoke
                   ("everyone in the organisation (1425 accounts) can
                   open restricted data")
16    sharing      an outside address invited on confidential or        review
                   restricted data ("outsider a@partner.example
                   reaches restricted data (no expiry): confirm the
                   business need")
17    sharing      anonymous link or invitation without expiry          review
                   ("anonymous link without expiry: keep it only with
                   an expiry date")
12    severity     another high or critical finding on the entitlement  revoke
                   ("finding: third-party-sensitive (high)")
13    -            anything else ("used 3 days ago; 9 of 11 peers"; for  keep
                   a link: "organization view link on internal data,
                   expires 2027-01-31")
====  ===========  ====================================================  ========

Rows 14–17 judge sharing links and invitations (items of type ``link`` / ``invitation``,
which no account holds: rows 1–11 never apply to them) and are tried before row 12, so a
link's reason names the exposure rather than the rule that found it. Their numbers follow
the older rows so that a row number keeps its meaning.

Medium, low and info findings on the entitlement (direct-grant) and findings about the
account itself (mfa-missing, password-never-expires) are shown on the row but never decide; a
peer share alone never recommends revoking privileged access (row 10).

>>> decision_table().loc[0, "recommendation"]
'revoke'
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from accessaudit.classify import approved_memberships
from accessaudit.policy import Policy
from accessaudit.review._links import LinkFacts
from accessaudit.rules import RULES

__all__ = [
    "DECISION_TABLE",
    "RECOMMENDATIONS",
    "Decision",
    "decision_table",
    "has_rule",
    "recommend",
]

#: The words a recommendation can be; ``review`` asks the reviewer to judge without a lean.
RECOMMENDATIONS = ("keep", "review", "revoke")

#: How each connector's ``last_sign_in`` was measured, as the reviewer should read it.
_SIGN_IN_KIND = {
    "active-directory": "directory logon",
    "openldap": "directory bind",
    "entra-id": "Entra ID sign-in",
}
_SEVERITY_ORDER = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
_DECIDED_ELSEWHERE = frozenset(
    {
        "leaver-active",
        "orphan-account",
        "stale-account",
        "stale-privilege",
        "excess-privilege",
        "disabled-privileged",
        "peer-outlier",
        "sod-conflict",
        # About the account, not the entitlement: shown on the row, never deciding it.
        "mfa-missing",
        "password-never-expires",
    }
)


class Decision(NamedTuple):
    """One row of the decision table."""

    row: int
    dimension: str
    condition: str
    recommendation: str
    reason: str


DECISION_TABLE: tuple[Decision, ...] = (
    Decision(1, "HR status", "HR marks the person terminated", "revoke", "left on DATE"),
    Decision(2, "account", "the account is disabled", "revoke", "account is disabled"),
    Decision(3, "HR status", "human account with no HR person", "revoke", "no HR record"),
    Decision(
        4,
        "policy approval",
        "privileged group membership whose login is not on the group's approved list",
        "revoke",
        "not on the approved list for GROUP",
    ),
    Decision(5, "use", "never signed in, older than the grace period", "revoke", "never"),
    Decision(
        6,
        "use",
        "privileged and no sign-in for privileged_stale_days",
        "revoke",
        "no sign-in for N days (privileged limit P)",
    ),
    Decision(7, "use", "no sign-in for stale_days", "revoke", "no sign-in for N days"),
    Decision(
        8,
        "finding severity",
        "a sod-conflict finding on the entitlement",
        "review",
        "segregation-of-duties conflict",
    ),
    Decision(
        9,
        "policy approval × use",
        "privileged group membership, approved in policy, in use",
        "keep",
        "approved in policy; used N days ago",
    ),
    Decision(
        10,
        "finding severity",
        "held by fewer than peer_max_share of the department (privileged access)",
        "review",
        "unusual for the department: held by X of Y peers",
    ),
    Decision(
        11,
        "finding severity",
        "held by fewer than peer_max_share of the department (other access)",
        "revoke",
        "unusual for the department: held by X of Y peers",
    ),
    Decision(
        14,
        "sharing",
        "anonymous link on confidential or restricted data",
        "revoke",
        "anyone with the link can open LEVEL data, no sign-in needed",
    ),
    Decision(
        15,
        "sharing",
        "organisation-wide link or grant on restricted data",
        "revoke",
        "everyone in the organisation (N accounts) can open restricted data",
    ),
    Decision(
        16,
        "sharing",
        "an outside address invited on confidential or restricted data",
        "review",
        "outsider ADDRESS reaches LEVEL data (EXPIRY): confirm the business need",
    ),
    Decision(
        17,
        "sharing",
        "anonymous link or invitation without expiry",
        "review",
        "KIND without expiry: keep it only with an expiry date",
    ),
    Decision(
        12,
        "finding severity",
        "another high or critical finding on the entitlement",
        "revoke",
        "finding: RULE (SEVERITY)",
    ),
    Decision(13, "-", "anything else", "keep", "used N days ago; peer share"),
)


def decision_table() -> pd.DataFrame:
    """:data:`DECISION_TABLE` as a DataFrame (for notebooks and documentation)."""
    return pd.DataFrame(DECISION_TABLE, columns=list(Decision._fields))


def recommend(items: pd.DataFrame, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """``items`` with ``recommendation`` (keep / review / revoke), ``reason``,
    ``decision_row`` (the row of :data:`DECISION_TABLE` that decided) and ``last_sign_in``
    as text that names the system and the kind of sign-in ("2026-11-19 (corp directory
    logon)").

    ``items`` are review items (see :func:`accessaudit.review.build_items`) with
    ``peer_fraction``, ``peers``, ``peer_holders``, ``peer_share`` and ``findings`` (rule ids
    joined by ", ") already added.
    """
    index = items.index
    last = items["last_sign_in"]
    known = items["last_sign_in_known"].fillna(True).astype(bool)
    idle_days = (as_of - last).dt.days
    age_days = (as_of - items["created"]).dt.days
    privileged = items["privileged"].fillna(False).astype(bool)
    is_group = items["entitlement_type"].astype(object).eq("group")
    approved, listed = approved_memberships(
        items["entitlement"], items["entitlement_id"], items["login"], policy
    )
    fraction = items["peer_fraction"]
    outlier = (
        fraction.notna()
        & (items["peers"] >= policy.peer_min_size)
        & (fraction < policy.peer_max_share)
    )
    other_rule, other_severity = _other_findings(items["findings"])
    link = LinkFacts.of(items)

    conditions = {
        1: items["hr_status"].astype(object).eq("terminated"),
        2: ~items["enabled"].fillna(True).astype(bool),
        3: items["person_id"].isna() & items["account_kind"].astype(object).isin(["user", "admin"]),
        4: privileged & is_group & ~approved,
        5: known & last.isna() & (age_days.isna() | (age_days > policy.new_account_grace_days)),
        6: privileged & known & (idle_days > policy.privileged_stale_days),
        7: known & (idle_days > policy.stale_days),
        8: has_rule(items["findings"], "sod-conflict"),
        9: privileged & is_group & approved,
        10: outlier & privileged,
        11: outlier & ~privileged,
        12: other_severity >= _SEVERITY_ORDER["high"],
        **link.conditions,
    }
    days = idle_days.astype("Int64").astype(str)
    used = pd.Series(
        np.where(
            last.notna().to_numpy(),
            "used " + days + " day(s) ago",
            "sign-ins not reported by " + items["system"].astype(str),
        ),
        index=index,
    ).astype(str)
    peers = (
        "held by " + items["peer_holders"].astype(str) + " of " + items["peers"].astype(str)
    ) + " peers"
    end = items["end_date"].dt.strftime("%Y-%m-%d").fillna("an unknown date").astype(str)
    no_list = pd.Series(
        np.where(listed, "", " (the policy approves nobody for it)"), index=index
    ).astype(str)
    reasons = {
        1: "left on " + end,
        2: pd.Series("account is disabled (re-enabling restores access)", index=index),
        3: pd.Series("no HR record for this account (orphan)", index=index),
        4: "not on the approved list for " + items["entitlement"].astype(str) + no_list,
        5: pd.Series("never signed in", index=index),
        6: "no sign-in for " + days + f" days (privileged limit {policy.privileged_stale_days})",
        7: "no sign-in for " + days + " days",
        8: pd.Series(
            "segregation-of-duties conflict: decide which entitlement to keep", index=index
        ),
        9: "approved in policy; " + used,
        10: "unusual for the department: " + peers,
        11: "unusual for the department: " + peers,
        12: "finding: " + other_rule,
        **link.reasons,
    }
    masks = [conditions[d.row].fillna(False).to_numpy(dtype=bool) for d in DECISION_TABLE[:-1]]
    row = np.select(masks, [d.row for d in DECISION_TABLE[:-1]], default=DECISION_TABLE[-1].row)
    words = {d.row: d.recommendation for d in DECISION_TABLE}
    default_reason = (used + "; " + items["peer_share"].astype(str)).where(
        ~link.is_link, link.summary
    )
    reason = pd.Series(
        np.select(
            masks,
            [reasons[d.row].astype(str).to_numpy() for d in DECISION_TABLE[:-1]],
            default=default_reason.to_numpy(),
        ),
        index=index,
    )
    out = items.assign(
        recommendation=pd.Series(row, index=index).map(words),
        reason=reason,
        decision_row=row,
    )
    out["last_sign_in"] = _sign_in_text(items, known)
    return out


def _sign_in_text(items: pd.DataFrame, known: pd.Series) -> pd.Series:
    """'2026-11-19 (corp directory logon)', 'never (cloud Entra ID sign-in)' or 'not reported
    by apps': which system's sign-in the date is, so a reviewer does not read a directory
    logon as application use."""
    last = items["last_sign_in"]
    connector = items["connector"] if "connector" in items else pd.Series("", index=items.index)
    kind = connector.astype(object).map(_SIGN_IN_KIND).fillna("sign-in")
    where = " (" + items["system"].astype(str) + " " + kind.astype(str) + ")"
    date = last.dt.strftime("%Y-%m-%d")
    text = np.where(
        last.notna().to_numpy(),
        (date.fillna("") + where).to_numpy(),
        np.where(
            known.to_numpy(),
            ("never" + where).to_numpy(),
            ("not reported by " + items["system"].astype(str)).to_numpy(),
        ),
    )
    return pd.Series(text, index=items.index, dtype=object)


def _other_findings(findings: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The most severe finding on each item that no earlier row decides, as ("rule
    (severity)", severity rank); rank -1 where there is none."""
    rule = pd.Series("", index=findings.index, dtype=object)
    rank = pd.Series(-1, index=findings.index, dtype="int64")
    for rule_id, spec in RULES.items():
        if rule_id in _DECIDED_ELSEWHERE:
            continue
        level = _SEVERITY_ORDER[spec.severity]
        better = has_rule(findings, rule_id) & (rank < level)
        rule = rule.mask(better, f"{rule_id} ({spec.severity})")
        rank = rank.mask(better, level)
    return rule, rank


def has_rule(findings: pd.Series, rule: str) -> pd.Series:
    """Whether the ', '-joined rule ids in ``findings`` include ``rule``."""
    return (", " + findings.astype(str) + ", ").str.contains(f", {rule}, ", regex=False)
