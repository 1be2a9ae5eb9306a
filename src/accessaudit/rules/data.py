"""Data stores: third parties on sensitive data, direct grants, owners, inventory, retention."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.holds import held_resources
from accessaudit.model import SENSITIVITIES
from accessaudit.policy import Policy
from accessaudit.rules._arrays import positions
from accessaudit.rules._context import (
    SUBJECT_COLUMNS,
    RuleContext,
    sensitivity_text,
    text,
)
from accessaudit.rules._spec import RuleSpec, SnapshotView

__all__ = [
    "DIRECT_GRANT",
    "RETENTION_OVERDUE",
    "THIRD_PARTY_SENSITIVE",
    "UNCLASSIFIED_RESOURCE",
    "UNOWNED_RESOURCE",
    "direct_grant",
    "kept_under_hold",
    "retention_overdue",
    "third_party_sensitive",
    "unclassified_resource",
    "unowned_resource",
]

GDPR = "GDPR Art. 32"
ISO_INVENTORY = "ISO 27001:2022 A.5.9"
ISO_ACCESS = "ISO 27001:2022 A.5.15"


def _resource_findings(
    spec: RuleSpec, rows: pd.DataFrame, message: pd.Series, evidence: pd.DataFrame
) -> pd.DataFrame:
    rows = rows.reset_index(drop=True)
    return spec.findings(
        subject_type="resource",
        subject_id=rows["resource_id"],
        subject_name=rows["name"],
        system=rows["system"],
        person_id=rows["owner_id"],
        message=message.reset_index(drop=True),
        evidence=evidence.reset_index(drop=True),
    )


def _resource_evidence(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "type": rows["type"].astype(object),
            "path": rows["path"],
            "owner": rows["owner"],
            "owner_id": rows["owner_id"],
            "sensitivity": rows["sensitivity"].astype(object),
            "data_categories": rows["data_categories"],
            "third_parties": rows["third_parties"],
        }
    )


def third_party_sensitive(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Guests, contractors and vendors reaching confidential+ or pii / phi / pci resources.

    Third party: an account of kind ``guest``, or one whose HR person's worker_type is
    contractor or vendor. One finding per enabled account and resource.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    accounts, people = ctx.accounts, ctx.people
    # Per account: its HR person is a contractor or vendor (an unknown person reads the
    # appended False). Categorical comparisons: no column is turned into Python objects.
    contracted = people["worker_type"].isin(["contractor", "vendor"]).to_numpy(dtype=bool)
    third = (accounts["kind"] == "guest").to_numpy(dtype=bool) | np.append(contracted, False)[
        ctx.account_person
    ]
    third &= accounts["enabled"].to_numpy(dtype=bool)
    hits = ctx.sensitive_access(third)
    acc, res = ctx.access_account, ctx.access_resource
    # The HR worker type of the accounts found ("" without an HR person).
    person = ctx.account_person[acc[hits]]
    worker = np.full(len(person), "", dtype=object)
    worker[person >= 0] = people["worker_type"].take(person[person >= 0]).astype(object).to_numpy()
    a = ctx.account_rows(acc[hits], [*SUBJECT_COLUMNS, "display_name", "kind", "last_sign_in"])
    r = ctx.resources.iloc[res[hits]].reset_index(drop=True)
    grant = ctx.access.iloc[hits].reset_index(drop=True)
    who = pd.Series(worker).replace("", np.nan)
    who = who.where(who.isin(["contractor", "vendor"]), a["kind"].astype(object))
    message = (
        who
        + " "
        + a["login"]
        + " can "
        + grant["right"].astype(str)
        + " "
        + r["name"]
        + " ("
        + sensitivity_text(r)
        + ") via "
        + text(grant["via"])
    )
    evidence = _resource_evidence(r)
    evidence.insert(0, "resource", r["name"])
    evidence.insert(1, "right", grant["right"].astype(object))
    evidence.insert(2, "via", text(grant["via"]))
    evidence.insert(3, "access_path", text(grant["path"]))
    evidence["third_party_type"] = who
    evidence["display_name"] = a["display_name"]
    evidence["last_sign_in"] = a["last_sign_in"]
    return THIRD_PARTY_SENSITIVE.account_findings(
        a,
        message=message,
        evidence=evidence,
        entitlement=r["name"],
        entitlement_key=r["resource_id"],
    )


def direct_grant(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Permissions given to an account directly instead of through a group.

    One finding per account and resource, with its highest right and every path it sits on.
    Deny entries are not grants and are skipped.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    g = ctx.grants
    direct = g[
        (g["principal_type"].astype(object) == "account").to_numpy(dtype=bool)
        & ~g["deny"].to_numpy(dtype=bool)
    ]
    per = (
        direct.assign(right_code=direct["right"].cat.codes)
        .groupby(["principal_id", "resource_id"], sort=True, observed=True)
        .agg(
            right_code=("right_code", "max"),
            paths=("path", lambda s: sorted(set(s.dropna()))),
            grants=("path", "size"),
            inherited=("inherited", "all"),
            system=("system", "first"),
        )
        .reset_index()
    )
    per["right"] = pd.Categorical.from_codes(
        per["right_code"].to_numpy(), categories=direct["right"].cat.categories
    ).astype(object)
    a_at = positions(per["principal_id"], ctx.account_index)
    r_at = positions(per["resource_id"], ctx.resource_index)
    login = pd.Series(ctx.accounts["login"].iloc[a_at].to_numpy(), dtype=object).where(a_at >= 0)
    login = login.fillna(per["principal_id"])
    person = pd.Series(ctx.accounts["person_id"].iloc[a_at].to_numpy(), dtype=object).where(
        a_at >= 0
    )
    resource = pd.Series(ctx.resources["name"].to_numpy()[r_at], dtype=object).where(r_at >= 0)
    resource = resource.fillna(per["resource_id"])
    message = (
        login + " has " + per["right"] + " on " + resource + " granted directly, not via a group"
    )
    evidence = pd.DataFrame(
        {
            "resource": resource,
            "right": per["right"],
            "grant_paths": per["paths"],
            "grant_count": per["grants"],
            "inherited_only": per["inherited"],
        }
    )
    return DIRECT_GRANT.findings(
        subject_type="grant",
        subject_id=per["principal_id"],
        subject_name=login,
        system=per["system"],
        person_id=person,
        message=message,
        evidence=evidence,
        entitlement=resource,
        entitlement_key=per["resource_id"],
    )


def unowned_resource(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Confidential-or-above resources with no owner, an owner who is not a known person or
    group, or an owner HR marks terminated.

    The message says what the evidence shows: "has no owner" only when the inventory names
    nobody; an owner written in the inventory that did not resolve reads "owner 'IT
    Department' is not a known person or group". Without an HR source owners cannot be
    resolved, so only resources naming nobody are reported (the audit notes say so).
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    r = ctx.resources
    level = pd.Categorical(
        r["sensitivity"].astype(object), categories=list(SENSITIVITIES), ordered=True
    )
    high = np.asarray(level >= "confidential", dtype=bool) & r["sensitivity"].notna().to_numpy()
    owner_at = positions(r["owner_id"], ctx.person_index)
    status = pd.Series(
        ctx.people["status"].iloc[owner_at].astype(object).to_numpy()
        if len(ctx.people)
        else np.full(len(r), None, dtype=object),
        dtype=object,
    ).where(owner_at >= 0)
    written = r["owner"].astype(object).where(r["owner"].notna(), r["owner_id"].astype(object))
    no_owner = (r["owner_id"].isna() & r["owner"].isna()).to_numpy()
    is_group = positions(r["owner_id"], ctx.group_index) >= 0
    unknown = ~no_owner & (owner_at < 0) & ~is_group & (len(ctx.people) > 0)
    left = (status == "terminated").to_numpy(dtype=bool)
    mask = high & (no_owner | unknown | left)
    rows = r[mask]
    owner_name = ctx.people["name"].reindex(owner_at[mask]).astype(object).set_axis(rows.index)
    why = pd.Series(
        np.select(
            [no_owner[mask], unknown[mask]],
            [
                "has no owner",
                "- owner '" + written[mask].fillna("").astype(str) + "' is not a known person "
                "or group",
            ],
            "is owned by "
            + owner_name.fillna(rows["owner_id"]).astype(str)
            + " ("
            + rows["owner_id"].fillna("").astype(str)
            + "), who has left",
        ),
        index=rows.index,
    )
    message = rows["name"] + " (" + sensitivity_text(rows) + ") " + why
    evidence = _resource_evidence(rows)
    evidence["owner_hr_status"] = status[mask].to_numpy()
    evidence["owner_name"] = owner_name
    evidence["owner_resolved"] = pd.Series(~unknown[mask] & ~no_owner[mask], index=rows.index)
    return _resource_findings(UNOWNED_RESOURCE, rows, message, evidence)


def unclassified_resource(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Resources that have grants but no entry in the data inventory (``inventoried`` false)."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    r = ctx.resources
    g = ctx.grants
    stats = g.groupby("resource_id", observed=True).agg(
        grants=("principal_id", "size"),
        principals=("principal_id", "nunique"),
        sample_paths=("path", lambda s: sorted(set(s.dropna()))[:5]),
    )
    mask = ~r["inventoried"].to_numpy(dtype=bool) & r["resource_id"].isin(stats.index).to_numpy()
    rows = r[mask]
    st = stats.reindex(rows["resource_id"]).set_axis(rows.index)
    message = (
        rows["name"]
        + " has "
        + st["grants"].astype(str)
        + " permission(s) for "
        + st["principals"].astype(str)
        + " principal(s) but is not in the data inventory"
    )
    evidence = _resource_evidence(rows)
    evidence["grant_count"] = st["grants"]
    evidence["principal_count"] = st["principals"]
    evidence["sample_paths"] = st["sample_paths"]
    return _resource_findings(UNCLASSIFIED_RESOURCE, rows, message, evidence)


def _retention_due(ctx: RuleContext) -> tuple[np.ndarray, pd.Series]:
    """Which resources are past retention on the audit date, and when retention ended."""
    r = ctx.resources
    keep = pd.to_timedelta(r["retention_days"].astype("float64"), unit="D")
    due = r["last_modified"] + keep
    return (due < ctx.as_of).to_numpy(dtype=bool, na_value=False), due


def kept_under_hold(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Resources past their retention period that a current legal hold keeps: not a
    violation, reported in the audit notes. Columns: resource_id, name, retention_ended,
    matter, owner, since, until."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    overdue, due = _retention_due(ctx)
    rows = ctx.resources[overdue].assign(retention_ended=due[overdue])
    held = held_resources(policy.holds, rows, as_of)
    out: pd.DataFrame = rows[["resource_id", "name", "retention_ended"]].merge(
        held.drop(columns=["held_as"]), on="resource_id"
    )
    return out


def retention_overdue(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Resources kept past their retention period.

    Semantics: the retention clock starts at ``last_modified`` (the newest data in the store),
    so a store is overdue when ``last_modified + retention_days`` is before the audit date —
    nothing in it has changed for longer than it may be kept. Resources without a retention
    period or a last-modified time are not judged. A resource under a current legal hold
    (``[[policy.holds]]``) is kept lawfully: it is not a finding, and the audit notes list it
    as kept under legal hold (see :func:`kept_under_hold`).
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    r = ctx.resources
    mask, due = _retention_due(ctx)
    if policy.holds:
        held = held_resources(policy.holds, r, as_of)
        mask = mask & ~r["resource_id"].isin(held["resource_id"]).to_numpy(dtype=bool)
    rows = r[mask]
    due = due[mask]
    overdue = ctx.days_since(due)
    message = (
        rows["name"]
        + " was last modified "
        + rows["last_modified"].dt.strftime("%Y-%m-%d")
        + " and its retention of "
        + rows["retention_days"].astype(str)
        + " days ended "
        + due.dt.strftime("%Y-%m-%d")
        + " ("
        + overdue.astype(str)
        + " days overdue)"
    )
    evidence = _resource_evidence(rows)
    evidence["retention_days"] = rows["retention_days"]
    evidence["last_modified"] = rows["last_modified"]
    evidence["retention_ended"] = due
    evidence["days_overdue"] = overdue
    return _resource_findings(RETENTION_OVERDUE, rows, message, evidence)


THIRD_PARTY_SENSITIVE = RuleSpec(
    id="third-party-sensitive",
    title="Third party reaches sensitive data",
    severity="high",
    rationale="Guests, contractors and vendors on personal or confidential data need a contract, "
    "a reason and an end date; after a breach they are the first question.",
    remediation="Confirm the contract and need with the resource owner; remove or time-limit "
    "the access.",
    controls=(
        "ISO 27001:2022 A.5.19",
        ISO_ACCESS,
        "SOC 2 CC6.1",
        "NIST SP 800-53 AC-6",
        GDPR,
        "GDPR Art. 28",
        "HIPAA §164.308(a)(4)(ii)(B)",
    ),
    function=third_party_sensitive,
    needs=("accounts", "grants"),
    false_positives=(
        "Contractors with a signed contract and a need (the finding asks for that evidence); "
        "guests invited for a project on a share later reclassified; without an HR source "
        "only guests are judged."
    ),
)
DIRECT_GRANT = RuleSpec(
    id="direct-grant",
    title="Permission granted directly to an account",
    severity="low",
    rationale="Direct grants escape role-based reviews and stay behind when people move.",
    remediation="Grant the right to a group the owner reviews, then remove the direct entry.",
    controls=(ISO_ACCESS, "ISO 27001:2022 A.5.18", "SOC 2 CC6.3", "NIST SP 800-53 AC-6"),
    function=direct_grant,
    needs=("grants",),
    false_positives=(
        "Owner and administrator entries the system itself sets on the folder it creates; "
        "ACLs migrated from an old file server that the owner has already scheduled for "
        "cleanup."
    ),
)
UNOWNED_RESOURCE = RuleSpec(
    id="unowned-resource",
    title="Sensitive resource without an owner",
    severity="medium",
    rationale="Nobody can approve or review access to data nobody owns.",
    remediation="Name an owner in the data inventory (someone currently employed).",
    controls=(ISO_INVENTORY, "ISO 27001:2022 A.5.12", "SOC 2 CC6.1", GDPR, "HIPAA §164.308(a)(4)"),
    function=unowned_resource,
    needs=("resources",),
    false_positives=(
        "Owners written as a team name or shared mailbox the HR file does not know (the "
        "message quotes the owner as written); an owner who left last week and whose "
        "successor is not yet in the inventory."
    ),
)
UNCLASSIFIED_RESOURCE = RuleSpec(
    id="unclassified-resource",
    title="Resource with permissions but not in the inventory",
    severity="medium",
    rationale="Data that is shared but not inventoried has no sensitivity, owner or retention; "
    "after a breach nobody knows what was in it.",
    remediation="Add the resource to the data inventory with owner, sensitivity and retention.",
    controls=(ISO_INVENTORY, "ISO 27001:2022 A.5.12", "SOC 2 CC6.1", GDPR),
    function=unclassified_resource,
    needs=("grants",),
    false_positives=(
        "Scratch, temporary and system folders (profiles, home drives) that are intentionally"
        " not in the inventory; a path spelled differently in the ACL export and the "
        "inventory."
    ),
)
RETENTION_OVERDUE = RuleSpec(
    id="retention-overdue",
    title="Data kept past its retention period",
    severity="low",
    rationale="Data kept longer than needed widens a breach and breaks storage limitation.",
    remediation="Delete or archive the data per the retention schedule, or extend the period "
    "with a documented reason.",
    controls=("ISO 27001:2022 A.8.10", "GDPR Art. 5(1)(e)", GDPR, "SOC 2 CC6.5"),
    function=retention_overdue,
    needs=("resources",),
    false_positives=(
        "Stores under legal hold; stores whose last-modified time is not updated by the "
        "system (read-only archives) or whose retention is counted from another event."
    ),
)
