"""Joiners and movers: access that came too early, too much, or stayed after a move.

* ``mover-retained-access`` — after a move (HR history, or two snapshots), access the old
  department's peers hold and the new department's peers do not, still held once the grace
  period (``mover_grace_days``) is over;
* ``joiner-early-access`` — an enabled account (or privileged membership) more than
  ``joiner_tolerance_days`` before the HR start date; and, for a **rehire** (``rehired_on``),
  an account created before the return that still carries access (enabled or privileged):
  the old account's access must not be inherited silently. Both are early access — access
  that predates the person's current employment — so they share the id, and the evidence's
  ``reason`` (``before start`` / ``rehire``) tells them apart;
* ``joiner-excess`` — a joiner (started within ``joiner_window_days``, or rehired then) holding
  privileged or sensitive access that fewer than ``peer_max_share`` of the new department's
  peers hold.

Peers follow ``peer-outlier``: the other people of the department whom HR does not mark
terminated, in departments of at least ``peer_min_size`` people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.analysis.movers import all_moves
from accessaudit.policy import Policy
from accessaudit.rules._context import RuleContext, choose
from accessaudit.rules._holdings import Holdings
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = [
    "JOINER_EARLY_ACCESS",
    "JOINER_EXCESS",
    "MOVER_RETAINED_ACCESS",
    "joiner_early_access",
    "joiner_excess",
    "mover_retained_access",
    "moves_not_judged",
]

ISO_ACCESS_RIGHTS = "ISO 27001:2022 A.5.18"
SOX = "SOX ITGC: logical access (provisioning and termination)"


def _day(times: pd.Series) -> pd.Series:
    out: pd.Series = times.dt.strftime("%Y-%m-%d").fillna("unknown")
    return out


def _moves(ctx: RuleContext) -> pd.DataFrame:
    previous = ctx.previous
    return all_moves(
        ctx.people,
        previous_people=previous.people if previous is not None else None,
        previous_as_of=ctx.previous_as_of,
        as_of=ctx.as_of,
    )


def _person_findings(
    spec: RuleSpec,
    ctx: RuleContext,
    *,
    person: np.ndarray,
    login: pd.Series,
    described: pd.DataFrame,
    message: pd.Series,
    evidence: pd.DataFrame,
) -> pd.DataFrame:
    ids = pd.Series(ctx.people["person_id"].astype(object).to_numpy()[person], dtype=object)
    return spec.findings(
        subject_type="person",
        subject_id=ids,
        subject_name=pd.Series(login.to_numpy(), dtype=object),
        system=described["system"],
        person_id=ids,
        message=message,
        evidence=evidence,
        entitlement=described["name"],
        entitlement_key=described["entitlement_id"],
    )


def _judge_moves(
    ctx: RuleContext, holdings: Holdings
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, pd.Series]:
    """The moves, their people rows, old and new department codes, which are judged now, and
    for department moves that cannot be judged, why (indexed like the moves)."""
    policy, as_of = ctx.policy, ctx.as_of
    moves = _moves(ctx)
    person = ctx.person_index.get_indexer(pd.Index(moves["person_id"]))
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
    moves, *_, why = _judge_moves(ctx, Holdings(ctx))
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
    holdings = Holdings(ctx)
    moves, person, old, new, judged, _ = _judge_moves(ctx, holdings)
    moves, person, old, new = moves[judged], person[judged], old[judged], new[judged]
    if moves.empty:
        return _no_findings(MOVER_RETAINED_ACCESS)
    held = holdings.held_by(person)
    pairs = held[["person", "entitlement"]].drop_duplicates()
    at = pd.Index(person).get_indexer(pairs["person"])
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
    through = holdings.held_through(held).reindex(pd.MultiIndex.from_arrays([pairs["person"], ent]))
    name = pd.Series(ctx.people["name"].astype(object).to_numpy()[pairs["person"]], dtype=object)
    days = (as_of - move["moved_on"]).dt.days
    message = (
        name
        + " moved from "
        + move["previous_department"].astype(str)
        + " to "
        + move["department"].astype(str)
        + choose(
            move["found_by"].eq("hr"),
            " on " + _day(move["moved_on"]),
            " between " + _day(move["moved_on"]) + " and " + _day(move["moved_by"]),
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
            "held_through": through.to_numpy(),
        }
    )
    return _person_findings(
        MOVER_RETAINED_ACCESS,
        ctx,
        person=pairs["person"].to_numpy(),
        login=holdings.holding_login(held).reindex(
            pd.MultiIndex.from_arrays([pairs["person"], ent])
        ),
        described=described,
        message=message,
        evidence=evidence,
    )


def _no_findings(spec: RuleSpec) -> pd.DataFrame:
    empty = pd.Series([], dtype=object)
    return spec.findings(
        subject_type="person",
        subject_id=empty,
        subject_name=empty,
        system=empty,
        person_id=empty,
        message=empty,
        evidence=pd.DataFrame(index=empty.index),
    )


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
    person = ctx.person_rows(ctx.account_person)
    live = a["enabled"].to_numpy(dtype=bool) | ctx.account_privileged
    tolerance = pd.Timedelta(days=policy.joiner_tolerance_days)
    has_person = ctx.account_person >= 0
    current = (person["status"].astype(object) != "terminated").to_numpy(dtype=bool)
    start = person["start_date"]
    early = (start > as_of + tolerance).to_numpy(dtype=bool, na_value=False)
    rehired = person["rehired_on"]
    carried = (a["created"].reset_index(drop=True) < rehired - tolerance).to_numpy(
        dtype=bool, na_value=False
    )
    rehire = carried & ~early
    mask = live & has_person & current & (early | rehire)
    rows = a[mask].reset_index(drop=True)
    who = person[mask].reset_index(drop=True)
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
            + _day(rows["created"])
            + ", before "
            + who["name"].fillna(rows["person_id"]).astype(str)
            + " was rehired on "
            + _day(who["rehired_on"])
            + ", and is still "
            + state
            + ": access from the earlier employment carried over",
            rows["login"]
            + " is "
            + state
            + " but "
            + who["name"].fillna(rows["person_id"]).astype(str)
            + " starts only on "
            + _day(who["start_date"])
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
    return JOINER_EARLY_ACCESS.findings(
        subject_type="account",
        subject_id=rows["account_id"],
        subject_name=rows["login"],
        system=rows["system"],
        person_id=rows["person_id"],
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
    holdings = Holdings(ctx)
    start = _start(ctx)
    window = pd.Timedelta(days=policy.joiner_window_days)
    joined = ((start <= as_of) & (start >= as_of - window)).to_numpy(dtype=bool, na_value=False)
    department = holdings.department_code
    sizes = np.append(holdings.sizes, 0)
    joined = joined & (department >= 0) & (sizes[department] >= policy.peer_min_size)
    person = np.flatnonzero(joined)
    if len(person) == 0:
        return _no_findings(JOINER_EXCESS)
    held = holdings.held_by(person)
    pairs = held[["person", "entitlement"]].drop_duplicates()
    ent = pairs["entitlement"].to_numpy()
    described = holdings.describe(ent)
    special = (described["privileged"] | described["sensitive"]).to_numpy(dtype=bool)
    pairs, ent = pairs[special], ent[special]
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
    through = holdings.held_through(held).reindex(pd.MultiIndex.from_arrays([pairs["person"], ent]))
    rows = ctx.people.iloc[pairs["person"].to_numpy()].reset_index(drop=True)
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
        + _day(begins)
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
            "held_through": through.to_numpy(),
        }
    )
    return _person_findings(
        JOINER_EXCESS,
        ctx,
        person=pairs["person"].to_numpy(),
        login=holdings.holding_login(held).reindex(
            pd.MultiIndex.from_arrays([pairs["person"], ent])
        ),
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
)
