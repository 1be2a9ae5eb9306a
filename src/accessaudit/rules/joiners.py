"""Joiners: access that came before the job did, or more of it than the new peers have.

* ``joiner-early-access`` — an enabled account (or privileged membership) more than
  ``joiner_tolerance_days`` before the HR start date; and, for a **rehire** (``rehired_on``),
  an account created before the return that still carries access (enabled or privileged):
  the old account's access must not be inherited silently. Both are early access — access
  that predates the person's current employment — so they share the id, and the evidence's
  ``reason`` (``before start`` / ``rehire``) tells them apart;
* ``joiner-excess`` — a joiner (started within ``joiner_window_days``, or rehired then) holding
  privileged or sensitive access that fewer than ``peer_max_share`` of the new department's
  peers hold (departments of at least ``peer_min_size`` people, as ``peer-outlier``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.policy import Policy
from accessaudit.rules._context import SUBJECT_COLUMNS, RuleContext
from accessaudit.rules._holdings import Holdings, day_text, person_findings
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = ["JOINER_EARLY_ACCESS", "JOINER_EXCESS", "joiner_early_access", "joiner_excess"]

ISO_ACCESS_RIGHTS = "ISO 27001:2022 A.5.18"
SOX = "SOX ITGC: logical access (provisioning and termination)"


def _start(ctx: RuleContext) -> pd.Series:
    """Each person's start in their current employment: the rehire date when later."""
    people = ctx.people
    start = people["start_date"]
    rehired = people["rehired_on"]
    later = rehired.notna() & (start.isna() | (rehired > start))
    out: pd.Series = start.where(~later, rehired)
    return out


def joiner_early_access(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Accounts live before their person's employment began.

    *Before start*: an enabled account, or one in a privileged group, of a person whose HR
    start date is more than ``joiner_tolerance_days`` after the audit date. *Rehire*: an
    account created more than ``joiner_tolerance_days`` before the person's ``rehired_on``
    that is still enabled or privileged — access from the earlier employment, carried over.
    Accounts of unknown creation date are not judged for rehire.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    person = ctx.account_people(["status", "start_date", "rehired_on"])
    live = a["enabled"].to_numpy(dtype=bool) | ctx.account_privileged
    tolerance = pd.Timedelta(days=policy.joiner_tolerance_days)
    has_person = ctx.account_person >= 0
    current = (person["status"] != "terminated").to_numpy(dtype=bool)
    start = person["start_date"]
    early = (start > as_of + tolerance).to_numpy(dtype=bool, na_value=False)
    rehired = person["rehired_on"]
    carried = (a["created"].reset_index(drop=True) < rehired - tolerance).to_numpy(
        dtype=bool, na_value=False
    )
    rehire = carried & ~early
    mask = live & has_person & current & (early | rehire)
    rows = ctx.account_rows(
        np.flatnonzero(mask), [*SUBJECT_COLUMNS, "enabled", "created", "last_sign_in"]
    )
    who = ctx.person_rows(ctx.account_person[mask])
    is_rehire = rehire[mask]
    privileged = ctx.account_privileged[mask]
    reason = pd.Series(np.where(is_rehire, "rehire", "before start"), dtype=object)
    begins = who["start_date"].where(~pd.Series(is_rehire), who["rehired_on"])
    state = pd.Series(
        np.where(rows["enabled"].to_numpy(dtype=bool), "enabled", "disabled but privileged"),
        dtype=object,
    )
    message = pd.Series(
        np.where(
            is_rehire,
            rows["login"]
            + " was created "
            + day_text(rows["created"])
            + ", before "
            + who["name"].fillna(rows["person_id"]).astype(str)
            + " was rehired on "
            + day_text(who["rehired_on"])
            + ", and is still "
            + state
            + ": access from the earlier employment carried over",
            rows["login"]
            + " is "
            + state
            + " but "
            + who["name"].fillna(rows["person_id"]).astype(str)
            + " starts only on "
            + day_text(who["start_date"])
            + " (in "
            + (who["start_date"] - as_of).dt.days.astype(str)
            + " days)",
        ),
        dtype=object,
    )
    evidence = pd.DataFrame(
        {
            "reason": reason,
            "person_name": who["name"],
            "department": who["department"],
            "hr_start_date": who["start_date"],
            "rehired_on": who["rehired_on"],
            "employment_begins": begins,
            "account_created": rows["created"],
            "enabled": rows["enabled"],
            "privileged": privileged,
            "last_sign_in": rows["last_sign_in"],
            "tolerance_days": policy.joiner_tolerance_days,
        }
    )
    return JOINER_EARLY_ACCESS.account_findings(
        rows,
        message=message,
        evidence=evidence,
    )


def joiner_excess(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Privileged groups and sensitive resources of joiners that their new peers lack.

    Joiners: people (not terminated) whose start — or rehire — falls within the last
    ``joiner_window_days``. An entitlement exceeds the peers when fewer than
    ``peer_max_share`` of the other people of the joiner's department hold it (departments of
    at least ``peer_min_size`` people).
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    holdings = Holdings.of(ctx)
    start = _start(ctx)
    window = pd.Timedelta(days=policy.joiner_window_days)
    joined = ((start <= as_of) & (start >= as_of - window)).to_numpy(dtype=bool, na_value=False)
    department = holdings.department_code
    sizes = np.append(holdings.sizes, 0)
    joined = joined & (department >= 0) & (sizes[department] >= policy.peer_min_size)
    person = np.flatnonzero(joined)
    if len(person) == 0:
        return JOINER_EXCESS.no_findings()
    held = holdings.held_by(person, holdings.special)
    pairs = held[["person", "entitlement"]].drop_duplicates()
    ent = pairs["entitlement"].to_numpy()
    code = department[pairs["person"].to_numpy()]
    holders = holdings.holders(np.unique(ent))
    peers = holdings.sizes[code] - 1
    holding = holdings.count(holders, code, ent) - 1
    share = holding / np.maximum(peers, 1)
    flag = share < policy.peer_max_share
    pairs, ent, peers, holding, share = (
        pairs[flag],
        ent[flag],
        peers[flag],
        holding[flag],
        share[flag],
    )
    described = holdings.describe(ent)
    through = holdings.held_through(held, pairs["person"].to_numpy(), ent)
    rows = ctx.person_rows(pairs["person"].to_numpy())
    begins = _start(ctx).iloc[pairs["person"].to_numpy()].reset_index(drop=True)
    what = pd.Series(
        np.where(described["privileged"], "privileged group ", "sensitive resource "),
        dtype=object,
    )
    message = (
        rows["name"].astype(str)
        + " joined "
        + rows["department"].astype(str)
        + " on "
        + day_text(begins)
        + " and holds "
        + what
        + described["name"].astype(str)
        + "; "
        + pd.Series(holding).astype(str)
        + " of "
        + pd.Series(peers).astype(str)
        + " peers do"
    )
    evidence = pd.DataFrame(
        {
            "department": rows["department"],
            "title": rows["title"],
            "employment_begins": begins,
            "rehired": rows["rehired_on"].notna(),
            "window_days": policy.joiner_window_days,
            "entitlement_type": described["type"],
            "privileged": described["privileged"],
            "sensitive": described["sensitive"],
            "peers": peers,
            "peers_holding": holding,
            "peer_share": np.round(share, 4),
            "held_through": through,
        }
    )
    return person_findings(
        JOINER_EXCESS,
        ctx,
        person=pairs["person"].to_numpy(),
        login=holdings.holding_login(held, pairs["person"].to_numpy(), ent),
        described=described,
        message=message,
        evidence=evidence,
    )


JOINER_EARLY_ACCESS = RuleSpec(
    id="joiner-early-access",
    title="Access before the person's employment began",
    severity="high",
    rationale="An account that works before the start date (or a rehire's old account that "
    "kept its access) is used by nobody accountable, or by someone not yet vetted.",
    remediation="Disable the account until the start date; for a rehire, provision access "
    "afresh for the new role and remove the old account's entitlements.",
    controls=(
        SOX,
        "ISO 27001:2022 A.5.16",
        ISO_ACCESS_RIGHTS,
        "ISO 27001:2022 A.6.1",
        "SOC 2 CC6.2",
        "NIST SP 800-53 AC-2",
        "NIST SP 800-53 PS-3",
        "HIPAA §164.308(a)(3)(ii)(B)",
    ),
    function=joiner_early_access,
    needs=("accounts", "people"),
    thresholds=("joiner_tolerance_days",),
    false_positives=(
        "An account provisioned a few days early on purpose for onboarding (raise "
        "joiner_tolerance_days); an HR start date entered late or wrong; a rehire whose old "
        "account was kept enabled deliberately for the return."
    ),
)
JOINER_EXCESS = RuleSpec(
    id="joiner-excess",
    title="New joiner with more access than the new peers",
    severity="medium",
    rationale="Access for a new joiner is often copied from another person ('give her what "
    "he has'); privileged or sensitive access beyond the peers' is the symptom.",
    remediation="Confirm the access with the manager and the resource owner; remove what the "
    "role does not need.",
    controls=(
        SOX,
        ISO_ACCESS_RIGHTS,
        "SOC 2 CC6.2",
        "SOC 2 CC6.3",
        "NIST SP 800-53 AC-6",
        "GDPR Art. 32",
        "HIPAA §164.308(a)(4)(ii)(B)",
    ),
    function=joiner_excess,
    needs=("accounts", "people"),
    thresholds=("joiner_window_days", "peer_min_size", "peer_max_share"),
    false_positives=(
        "A joiner hired into a role that legitimately needs what their department's peers lack "
        "(the department's first DBA or security engineer); departments too new for their peers "
        "to be representative."
    ),
)
