"""Peer comparison: entitlements that almost nobody else in the holder's department has."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.policy import Policy
from accessaudit.rules._context import RuleContext
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = ["PEER_OUTLIER"]


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
    counted = (
        people["department"].notna() & (people["status"].astype(object) != "terminated")
    ).to_numpy(dtype=bool)
    department_code, departments = pd.factorize(people["department"].where(counted))
    sizes = np.bincount(department_code[department_code >= 0], minlength=len(departments))

    # (person, group) pairs through enabled accounts, integer-coded: person * n_groups + group.
    acc, grp = ctx.em_account, ctx.em_group
    ok = (acc >= 0) & (grp >= 0)
    person = np.full(len(acc), -1, dtype=np.int64)
    person[ok] = ctx.account_person[acc[ok]]
    ok &= person >= 0
    enabled = ctx.accounts["enabled"].to_numpy(dtype=bool)
    ok[ok] = enabled[acc[ok]]
    ok[ok] = counted[person[ok]]
    n_groups = max(len(ctx.groups), 1)
    # Sort and drop repeats: for int64 keys this is several times faster than np.unique,
    # which hashes.
    pairs = np.sort(person[ok] * n_groups + grp[ok], kind="stable")
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    pair_person, pair_group = pairs // n_groups, pairs % n_groups
    pair_department = department_code[pair_person]

    # How many people in each (department, group) hold it.
    dept_group = pair_department.astype(np.int64) * n_groups + pair_group
    unique_dg, inverse, holders = np.unique(dept_group, return_inverse=True, return_counts=True)
    del unique_dg
    department_size = sizes[pair_department]
    peers = department_size - 1
    peers_holding = holders[inverse] - 1
    share = np.divide(peers_holding, peers, out=np.zeros(len(peers), dtype=float), where=peers > 0)
    flag = (department_size >= policy.peer_min_size) & (share < policy.peer_max_share)

    flagged = pairs[flag]  # sorted, like pairs
    fp, fg = pair_person[flag], pair_group[flag]
    who = people[["person_id", "name"]].iloc[fp].reset_index(drop=True)
    group = ctx.groups[["group_id", "name", "system"]].iloc[fg].reset_index(drop=True)
    n_peers = pd.Series(peers[flag])
    n_holding = pd.Series(peers_holding[flag])
    pct = pd.Series(np.round(share[flag] * 100, 1))
    department = pd.Series(pd.Categorical.from_codes(department_code[fp], departments))

    # How each flagged (person, group) is held: which accounts, through which path. Most
    # people hold a group through one account; everything stays columnar until the end.
    rows = np.flatnonzero(ok)
    held_pair = person[rows] * n_groups + grp[rows]
    at = np.searchsorted(flagged, held_pair)
    member = at < len(flagged)
    member[member] = flagged[at[member]] == held_pair[member]
    rows, at = rows[member], at[member]
    held_acc = acc[rows]
    order = np.lexsort((ctx.account_order[held_acc], at))
    rows, at, held_acc = rows[order], at[order], held_acc[order]
    logins = ctx.accounts["login"].iloc[held_acc].reset_index(drop=True)
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
            "peer_share": np.round(share[flag], 4),
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
)
