"""Privileged access: unapproved, unused and disabled privileged members, MFA, and SoD.

Privileged means ``groups.privileged`` (built-ins the connectors know: AD well-known RIDs and
SIDs, Entra's privileged directory roles) or a group named in ``policy.privileged_groups``;
membership counts at any depth of nesting, and PIM-eligible assignments count too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import pandas as pd

from accessaudit.classify import approved_memberships
from accessaudit.policy import Policy
from accessaudit.rules._arrays import gather, positions
from accessaudit.rules._context import SUBJECT_COLUMNS, RuleContext, choose
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = [
    "DISABLED_PRIVILEGED",
    "EXCESS_PRIVILEGE",
    "MFA_MISSING",
    "SOD_CONFLICT",
    "STALE_PRIVILEGE",
    "disabled_privileged",
    "excess_privilege",
    "mfa_missing",
    "sod_conflict",
    "stale_privilege",
]

ISO_PRIVILEGED = "ISO 27001:2022 A.8.2"
ISO_ACCESS_RIGHTS = "ISO 27001:2022 A.5.18"
SOX = "SOX ITGC: logical access (privileged users)"


def _privileged_rows(ctx: RuleContext) -> pd.DataFrame:
    """Privileged memberships with the account and group columns the rules need (built once
    per audit run: excess-privilege, stale-privilege and disabled-privileged all read it)."""
    rows: pd.DataFrame = ctx.shared("privileged rows", lambda: _build_privileged_rows(ctx))
    return rows


def _build_privileged_rows(ctx: RuleContext) -> pd.DataFrame:
    pm = ctx.privileged_memberships
    acc = ctx.account_rows(pm["acc"].to_numpy())
    grp = ctx.groups.iloc[pm["grp"].to_numpy()].reset_index(drop=True)
    return pd.DataFrame(
        {
            "account_id": acc["account_id"],
            "login": acc["login"],
            "display_name": acc["display_name"],
            "system": acc["system"],
            "person_id": acc["person_id"],
            "kind": acc["kind"].astype(object),
            "enabled": acc["enabled"],
            "last_sign_in": acc["last_sign_in"],
            "last_sign_in_known": acc["last_sign_in_known"],
            "created": acc["created"],
            "group_id": grp["group_id"],
            "group": grp["name"],
            "group_system": grp["system"],
            "group_kind": grp["kind"].astype(object),
            "builtin_privileged": grp["privileged"],
            "depth": pm["depth"],
            "path": pm["path"].astype(str),
            "assignment": pm["assignment"].astype(object),
        }
    )


def _membership_findings(
    spec: RuleSpec, rows: pd.DataFrame, message: pd.Series, evidence: pd.DataFrame
) -> pd.DataFrame:
    rows = rows.reset_index(drop=True)
    return spec.findings(
        subject_type="membership",
        subject_id=rows["account_id"],
        subject_name=rows["login"],
        system=rows["system"],
        person_id=rows["person_id"],
        message=message.reset_index(drop=True),
        evidence=evidence.reset_index(drop=True),
        entitlement=rows["group"],
        entitlement_key=rows["group_id"],
    )


def _how(rows: pd.DataFrame) -> pd.Series:
    """' (eligible) through A > B' — how the membership is held, as a person reads it."""
    eligible = pd.Series(
        np.where(rows["assignment"] == "eligible", " (eligible)", ""), index=rows.index
    )
    nested = pd.Series(
        np.where(rows["depth"].fillna(1).to_numpy() > 1, " through " + rows["path"], ""),
        index=rows.index,
    )
    return eligible + nested


def _membership_evidence(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": rows["group"],
            "group_id": rows["group_id"],
            "group_kind": rows["group_kind"],
            "builtin_privileged": rows["builtin_privileged"],
            "depth": rows["depth"],
            "group_path": rows["path"],
            "assignment": rows["assignment"],
            "display_name": rows["display_name"],
            "kind": rows["kind"],
            "last_sign_in": rows["last_sign_in"],
            "days_since_sign_in": ctx.days_since(rows["last_sign_in"]),
        }
    )


def excess_privilege(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Enabled accounts in a privileged group, at any depth, not on its approved list.

    ``policy.approved`` names the group by name or group_id; logins compare case-insensitively.
    Disabled members are reported by ``disabled-privileged`` instead.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    rows = _privileged_rows(ctx)
    rows = rows[rows["enabled"].to_numpy(dtype=bool)]
    # Approval is decided in classify.py, where review recommendations read it too.
    approved, _listed = approved_memberships(rows["group"], rows["group_id"], rows["login"], policy)
    rows = rows[~approved.to_numpy(dtype=bool)]
    approved_lists = {g.casefold(): list(v) for g, v in policy.approved.items()}
    listed = rows["group"].str.casefold().map(approved_lists)
    listed = listed.where(listed.notna(), rows["group_id"].str.casefold().map(approved_lists))
    message = (
        rows["login"]
        + " is in privileged group "
        + rows["group"]
        + _how(rows)
        + pd.Series(
            np.where(
                listed.isna(),
                " and the policy approves no one for it",
                " but is not on its approved list",
            ),
            index=rows.index,
        )
    )
    evidence = _membership_evidence(rows, ctx)
    evidence["approved_logins"] = listed.where(listed.notna(), None).map(
        lambda v: v if isinstance(v, list) else []
    )
    return _membership_findings(EXCESS_PRIVILEGE, rows, message, evidence)


def stale_privilege(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Enabled privileged members with no sign-in for ``privileged_stale_days``.

    Never-used accounts count after ``new_account_grace_days``; accounts whose source cannot
    report sign-ins are skipped.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    rows = _privileged_rows(ctx)
    keep = ctx.idle(rows, policy.privileged_stale_days)
    rows = rows[keep]
    days = ctx.days_since(rows["last_sign_in"]).astype(str)
    message = (
        rows["login"]
        + " holds "
        + rows["group"]
        + _how(rows)
        + pd.Series(
            np.where(
                rows["last_sign_in"].notna(),
                " but has not signed in for "
                + days
                + " days (last "
                + rows["last_sign_in"].dt.strftime("%Y-%m-%d").fillna("")
                + ")",
                " but has never signed in",
            ),
            index=rows.index,
        )
    )
    evidence = _membership_evidence(rows, ctx)
    evidence["created"] = rows["created"]
    evidence["privileged_stale_days"] = policy.privileged_stale_days
    return _membership_findings(STALE_PRIVILEGE, rows, message, evidence)


def disabled_privileged(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Disabled accounts still in a privileged group at any depth (re-enabling restores it)."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    rows = _privileged_rows(ctx)
    rows = rows[~rows["enabled"].to_numpy(dtype=bool)]
    message = "disabled account " + rows["login"] + " is still in " + rows["group"] + _how(rows)
    evidence = _membership_evidence(rows, ctx)
    return _membership_findings(DISABLED_PRIVILEGED, rows, message, evidence)


def mfa_missing(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Enabled privileged or sensitive-data accounts with no MFA, where the source reports MFA.

    Accounts whose ``mfa`` is empty (the source cannot say) are never flagged.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    acc, res = ctx.access_account, ctx.access_resource
    reach = ctx.sensitive_access(np.ones(len(a), dtype=bool))
    sensitive_reach = np.zeros(len(a), dtype=bool)
    sensitive_reach[acc[reach]] = True
    no_mfa = (a["mfa"] == False).to_numpy(dtype=bool, na_value=False)  # noqa: E712 (NA-aware)
    mask = a["enabled"].to_numpy(dtype=bool) & no_mfa & (ctx.account_privileged | sensitive_reach)
    flagged = np.flatnonzero(mask)
    rows = ctx.account_rows(flagged, [*SUBJECT_COLUMNS, "display_name", "kind", "last_sign_in"])

    pm = ctx.privileged_memberships
    pm = pm[np.isin(pm["acc"].to_numpy(), flagged)]
    group_names = (
        pd.Series(ctx.groups["name"].to_numpy()[pm["grp"].to_numpy()], index=pm["acc"].to_numpy())
        .groupby(level=0)
        .agg(lambda s: sorted(set(s)))
    )
    hits = reach[np.isin(acc[reach], flagged)]
    resource_names = (
        pd.Series(ctx.resources["name"].to_numpy()[res[hits]], index=acc[hits])
        .groupby(level=0)
        .agg(lambda s: sorted(set(s)))
    )
    groups_held = pd.Series(flagged).map(group_names)
    resources_held = pd.Series(flagged).map(resource_names)
    n_groups = groups_held.map(lambda v: len(v) if isinstance(v, list) else 0)
    n_res = resources_held.map(lambda v: len(v) if isinstance(v, list) else 0)
    reason = choose(
        n_groups > 0,
        "holds " + n_groups.astype(str) + " privileged group(s)",
        "reaches " + n_res.astype(str) + " sensitive resource(s)",
        rows.index,
    )
    message = rows["login"] + " has no MFA registered and " + reason
    evidence = pd.DataFrame(
        {
            "display_name": rows["display_name"],
            "kind": rows["kind"].astype(object),
            "mfa": False,
            "privileged_groups": groups_held,
            "sensitive_resources": resources_held,
            "last_sign_in": rows["last_sign_in"],
        }
    )
    return MFA_MISSING.account_findings(
        rows,
        message=message,
        evidence=evidence,
    )


def sod_conflict(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """People holding every entitlement of a ``[[policy.sod]]`` rule.

    Holdings are per person across all their enabled accounts and systems, through nested
    groups and resource grants; an entitlement names a group or resource (name or id,
    case-insensitive). Accounts without an HR person are judged on their own.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    if not policy.sod:
        return SOD_CONFLICT.no_findings()
    wanted = sorted({e.casefold() for rule in policy.sod for e in rule.entitlements})
    holdings = pd.concat(
        [
            _holdings(
                ctx,
                table=ctx.groups,
                id_column="group_id",
                acc_at=ctx.em_account_at,
                target=ctx.em_group,
                path=ctx.effective_memberships["path"],
                wanted=wanted,
            ),
            _holdings(
                ctx,
                table=ctx.resources,
                id_column="resource_id",
                acc_at=lambda rows: ctx.access_account[rows],
                target=ctx.access_resource,
                path=ctx.access["path"],
                wanted=wanted,
            ),
        ],
        ignore_index=True,
    )
    frames = []
    for rule in policy.sod:  # one pass per SoD rule in the policy, not per account
        needed = {e.casefold() for e in rule.entitlements}
        held = holdings[holdings["ent"].isin(needed)]
        counts = held.groupby("owner")["ent"].nunique()
        owners = counts.index[counts == len(needed)]
        held = held[held["owner"].isin(owners)].copy()
        if held.empty:
            continue
        held["how"] = held["login"] + " via " + held["path"]
        by_owner = held.groupby("owner")
        first = by_owner.first()
        primary = (
            held.sort_values(["owner", "rank", "login"])
            .drop_duplicates("owner")
            .set_index("owner")["login"]
            .reindex(first.index)
        )
        ways = held.groupby(["owner", "label"])["how"].agg(lambda s: sorted(set(s)))
        detail: dict[str, dict[str, list[str]]] = {}
        for key, how in ways.items():  # one item per finding × entitlement
            owner, label = cast(tuple[str, str], key)
            detail.setdefault(str(owner), {})[str(label)] = how
        logins = by_owner["login"].agg(lambda s: ", ".join(sorted(set(s))))
        systems = by_owner["system"].agg(lambda s: ", ".join(sorted(set(s))))
        is_person = first["person_id"].notna()
        hr_name = ctx.people["name"].reindex(positions(first["person_id"], ctx.person_index))
        name = (
            pd.Series(hr_name.astype(object).to_numpy(), index=first.index)
            .fillna(first["person_id"])
            .where(is_person, first["login"])
        )
        entitlements = " and ".join(rule.entitlements)
        frame = SOD_CONFLICT.findings(
            subject_type="person",
            subject_id=pd.Series(first.index, index=first.index),
            subject_name=primary,
            system=systems,
            person_id=first["person_id"],
            message=name
            + " holds "
            + entitlements
            + f" (SoD rule '{rule.name}') through "
            + logins,
            evidence=pd.DataFrame(
                {
                    "sod_rule": rule.name,
                    "person_name": name.where(is_person),
                    "entitlements": [list(rule.entitlements)] * len(first),
                    "held_through": [detail[str(o)] for o in first.index],
                    "accounts": logins,
                }
            ),
            entitlement=pd.Series(rule.name, index=first.index),
        )
        # Accounts without a person are their own subject: say so in subject_type.
        frame.loc[~is_person.to_numpy(), "subject_type"] = "account"
        frames.append(frame)
    if not frames:
        return SOD_CONFLICT.no_findings()
    return pd.concat(frames, ignore_index=True)


def _holdings(
    ctx: RuleContext,
    *,
    table: pd.DataFrame,
    id_column: str,
    acc_at: Callable[[np.ndarray], np.ndarray],
    target: np.ndarray,
    path: pd.Series,
    wanted: list[str],
) -> pd.DataFrame:
    """(owner, ent, label, login, system, person_id, path) for every enabled holding of an
    entitlement the SoD rules name. ``acc_at(rows)``: the account row of the table's rows
    (-1 where unknown), ``target``: each row's group or resource row."""
    name_key = table["name"].str.casefold()
    id_key = table[id_column].str.casefold()
    hit = (name_key.isin(wanted) | id_key.isin(wanted)).to_numpy(dtype=bool)
    keys = pd.concat(
        [
            pd.DataFrame({"target": np.flatnonzero(hit), "ent": name_key[hit].to_numpy()}),
            pd.DataFrame({"target": np.flatnonzero(hit), "ent": id_key[hit].to_numpy()}),
        ]
    )
    keys = keys[keys["ent"].isin(wanted)].drop_duplicates()
    keys["label"] = table["name"].iloc[keys["target"].to_numpy()].to_numpy()
    named = np.zeros(len(table) + 1, dtype=bool)  # the last: an unknown target (-1)
    named[keys["target"].to_numpy()] = True
    rows = np.flatnonzero(gather(named, target))
    acc = acc_at(rows)
    accounts = ctx.accounts
    # An unknown account (-1) reads the appended False.
    keep = np.append(accounts["enabled"].to_numpy(dtype=bool), False)[acc]
    rows, acc = rows[keep], acc[keep]
    found = pd.DataFrame(
        {
            "target": target[rows].astype(np.int64),
            "acc": acc,
            "path": path.iloc[rows].to_numpy(),
        }
    )
    found = found.merge(keys, on="target")
    columns = ["account_id", "login", "system", "person_id"]
    a = ctx.account_rows(found["acc"].to_numpy(), columns)
    person = a["person_id"]
    return pd.DataFrame(
        {
            "owner": person.fillna(a["account_id"]),
            "ent": found["ent"],
            "label": found["label"],
            "login": a["login"],
            "rank": ctx.account_rank[found["acc"].to_numpy()],
            "system": a["system"],
            "person_id": person,
            "path": found["path"].astype(str),
        }
    )


EXCESS_PRIVILEGE = RuleSpec(
    id="excess-privilege",
    title="Privileged membership not on the approved list",
    severity="high",
    rationale="Every privileged seat must be approved by name; nested groups quietly add "
    "members nobody approved.",
    remediation="Remove the membership (or the nesting that grants it), or add the login to "
    "[policy.privileged] approved after sign-off.",
    controls=(
        SOX,
        ISO_PRIVILEGED,
        ISO_ACCESS_RIGHTS,
        "SOC 2 CC6.3",
        "NIST SP 800-53 AC-6(5)",
        "HIPAA §164.308(a)(4)(ii)(B)",
    ),
    function=excess_privilege,
    needs=("accounts", "memberships"),
    thresholds=("privileged.groups", "privileged.approved"),
    false_positives=(
        "A correct holder missing from the approved list (the list is out of date); a "
        "privileged group nested on purpose into a tool's group; a PIM-eligible assignment "
        "that is approved in the PIM process but not in the policy file."
    ),
)
STALE_PRIVILEGE = RuleSpec(
    id="stale-privilege",
    title="Privileged membership not used recently",
    severity="high",
    rationale="Standing privilege that is not used is pure risk; it should be removed or made "
    "just-in-time.",
    remediation="Remove the membership or convert it to an eligible (PIM) assignment.",
    controls=(
        SOX,
        ISO_PRIVILEGED,
        "SOC 2 CC6.3",
        "NIST SP 800-53 AC-2(3)",
        "NIST SP 800-53 AC-6(7)",
    ),
    function=stale_privilege,
    needs=("accounts", "memberships"),
    thresholds=("privileged_stale_days", "new_account_grace_days"),
    false_positives=(
        "Break-glass and emergency accounts (idle by design); the ~14-day lastLogonTimestamp "
        "lag in AD; admin accounts used only through a PAM tool that signs in with its own "
        "identity."
    ),
)
DISABLED_PRIVILEGED = RuleSpec(
    id="disabled-privileged",
    title="Disabled account still in a privileged group",
    severity="medium",
    rationale="Re-enabling the account (by mistake or by an attacker) restores full privilege "
    "with no approval.",
    remediation="Remove the disabled account from privileged groups.",
    controls=(SOX, ISO_PRIVILEGED, "SOC 2 CC6.2", "NIST SP 800-53 AC-2"),
    function=disabled_privileged,
    needs=("accounts", "memberships"),
    false_positives=(
        "Accounts disabled for a short absence and re-enabled on return (still worth removing"
        " from the group meanwhile)."
    ),
)
MFA_MISSING = RuleSpec(
    id="mfa-missing",
    title="Privileged or sensitive-data account without MFA",
    severity="high",
    rationale="A password alone protects admin rights or personal data; phishing takes it.",
    remediation="Register MFA (phishing-resistant for admins) and enforce it by policy.",
    controls=(
        "ISO 27001:2022 A.5.17",
        ISO_PRIVILEGED,
        "SOC 2 CC6.1",
        "NIST SP 800-53 IA-2(1)",
        "GDPR Art. 32(1)(b)",
        "HIPAA §164.308(a)(4)",
    ),
    function=mfa_missing,
    needs=("accounts",),
    false_positives=(
        "MFA enforced outside the source (a VPN or PAM gateway in front of the directory, a "
        "third-party IdP) that the source does not report; service accounts that cannot do "
        "MFA by design and are restricted by network controls."
    ),
)
SOD_CONFLICT = RuleSpec(
    id="sod-conflict",
    title="Segregation-of-duties conflict",
    severity="high",
    rationale="One person holding both sides of a control (enter and approve) can commit and "
    "hide fraud.",
    remediation="Remove one side, or record a compensating control as a policy exception.",
    controls=(SOX, "ISO 27001:2022 A.5.3", ISO_ACCESS_RIGHTS, "SOC 2 CC6.3", "NIST SP 800-53 AC-5"),
    function=sod_conflict,
    needs=("accounts",),
    thresholds=("sod",),
    false_positives=(
        "A combination held for a documented, compensated reason (approved dual role in a "
        "small team); entitlements that share a name with the SoD rule but grant something "
        "else in another system."
    ),
)
