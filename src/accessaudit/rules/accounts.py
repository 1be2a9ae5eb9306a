"""Account hygiene: stale, leaver, orphan and never-expiring-password accounts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from accessaudit.policy import Policy
from accessaudit.rules._context import HUMAN_KINDS, SUBJECT_COLUMNS, RuleContext, choose
from accessaudit.rules._spec import RuleSpec, SnapshotView
from accessaudit.rules.third_parties import contract_end

__all__ = [
    "LEAVER_ACTIVE",
    "ORPHAN_ACCOUNT",
    "PASSWORD_NEVER_EXPIRES",
    "STALE_ACCOUNT",
    "leaver_active",
    "orphan_account",
    "password_never_expires",
    "stale_account",
]

ISO_ACCESS_RIGHTS = "ISO 27001:2022 A.5.18"
ISO_IDENTITY = "ISO 27001:2022 A.5.16"
SOX = "SOX ITGC: logical access (provisioning and termination)"
GDPR = "GDPR Art. 32(1)(b)"
HIPAA_WORKFORCE = "HIPAA §164.308(a)(3)(ii)(C)"


def _day(times: pd.Series) -> pd.Series:
    out: pd.Series = times.dt.strftime("%Y-%m-%d").fillna("unknown")
    return out


# The account columns _sign_in_evidence reads.
SIGN_IN_COLUMNS = ["display_name", "kind", "last_sign_in", "created"]


def _account_findings(
    spec: RuleSpec, rows: pd.DataFrame, message: pd.Series, evidence: pd.DataFrame
) -> pd.DataFrame:
    """Findings about the accounts ``rows`` (with at least SUBJECT_COLUMNS)."""
    return spec.account_findings(
        rows.reset_index(drop=True),
        message=message.reset_index(drop=True),
        evidence=evidence.reset_index(drop=True),
    )


def _sign_in_evidence(rows: pd.DataFrame, ctx: RuleContext) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "display_name": rows["display_name"],
            "kind": rows["kind"].astype(object),
            "last_sign_in": rows["last_sign_in"],
            "days_since_sign_in": ctx.days_since(rows["last_sign_in"]),
            "created": rows["created"],
            "account_age_days": ctx.days_since(rows["created"]),
        }
    )


def stale_account(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Enabled accounts with no sign-in for ``stale_days``.

    Never-used accounts count once they are older than ``new_account_grace_days`` (or when
    their creation date is unknown). Disabled accounts, and accounts whose source cannot report
    sign-ins (``last_sign_in_known`` false), are never stale.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    mask = ctx.idle(a, policy.stale_days)
    rows = ctx.account_rows(np.flatnonzero(mask), SUBJECT_COLUMNS + SIGN_IN_COLUMNS)
    days = ctx.days_since(rows["last_sign_in"]).astype(str)
    age = ctx.days_since(rows["created"]).astype(str)
    message = pd.Series(
        np.where(
            rows["last_sign_in"].notna(),
            rows["login"]
            + " has not signed in for "
            + days
            + " days (last "
            + _day(rows["last_sign_in"])
            + ")",
            rows["login"]
            + " has never signed in (created "
            + _day(rows["created"])
            + np.where(rows["created"].notna(), ", " + age + " days ago)", ")"),
        ),
        index=rows.index,
    )
    evidence = _sign_in_evidence(rows, ctx)
    evidence["stale_days"] = policy.stale_days
    return _account_findings(STALE_ACCOUNT, rows, message, evidence)


def leaver_active(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Enabled accounts of people HR marks terminated whose end date has passed (or is empty),
    and of contractors and vendors whose contract ended before the audit date (HR's
    ``contract_end``, else ``end_date``), whatever their HR status says."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    person = ctx.account_people(["status", "end_date", "contract_end", "worker_type"])
    terminated = (person["status"] == "terminated").to_numpy(dtype=bool)
    ended = (person["end_date"].isna() | (person["end_date"] <= as_of)).to_numpy(dtype=bool)
    contract = contract_end(person)
    expired = (contract < as_of.normalize()).to_numpy(dtype=bool, na_value=False)
    by_contract = expired & ~(terminated & ended)
    mask = a["enabled"].to_numpy(dtype=bool) & ((terminated & ended) | by_contract)
    rows = ctx.account_rows(np.flatnonzero(mask), SUBJECT_COLUMNS + SIGN_IN_COLUMNS)
    who = ctx.person_rows(ctx.account_person[mask])
    contract_rows = by_contract[mask]
    end = (
        who["end_date"]
        .set_axis(rows.index)
        .where(~contract_rows, contract[mask].set_axis(rows.index))
    )
    after = (rows["last_sign_in"] > end).fillna(False).astype(bool)
    name = who["name"].set_axis(rows.index).fillna(rows["person_id"])
    message = (
        rows["login"]
        + " is still enabled but "
        + choose(
            contract_rows,
            name + "'s contract ended",
            "HR marks " + name + " terminated",
            rows.index,
        )
        + choose(
            end.notna(),
            choose(contract_rows, " on ", " since ", rows.index)
            + _day(end)
            + " ("
            + ctx.days_since(end).astype(str)
            + " days ago)",
            "",
            rows.index,
        )
        + pd.Series(np.where(after, "; it signed in after the end date", ""), index=rows.index)
    )
    evidence = _sign_in_evidence(rows, ctx)
    evidence["person_name"] = who["name"].set_axis(rows.index)
    evidence["hr_status"] = who["status"].astype(object).set_axis(rows.index)
    evidence["hr_end_date"] = end
    evidence["reason"] = np.where(contract_rows, "contract ended", "terminated")
    evidence["worker_type"] = who["worker_type"].astype(object).set_axis(rows.index)
    evidence["department"] = who["department"].set_axis(rows.index)
    evidence["manager_id"] = who["manager_id"].set_axis(rows.index)
    evidence["signed_in_after_end"] = after
    return _account_findings(LEAVER_ACTIVE, rows, message, evidence)


def orphan_account(snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp) -> pd.DataFrame:
    """Enabled human accounts (user / admin) that no HR person owns.

    Service, guest and shared accounts are never orphans: they have no HR person by design.
    """
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    mask = (
        a["enabled"].to_numpy(dtype=bool)
        & a["kind"].isin(HUMAN_KINDS).to_numpy(dtype=bool)
        & (ctx.account_person < 0)
    )
    rows = ctx.account_rows(
        np.flatnonzero(mask),
        [*SUBJECT_COLUMNS, *SIGN_IN_COLUMNS, "email", "upn", "employee_id", "correlated_by", "dn"],
    )
    message = (
        rows["login"]
        + " ("
        + rows["kind"].astype(str)
        + " account in "
        + rows["system"]
        + ") matches no one in HR"
    )
    evidence = _sign_in_evidence(rows, ctx)
    evidence["email"] = rows["email"]
    evidence["upn"] = rows["upn"]
    evidence["employee_id"] = rows["employee_id"]
    evidence["person_id_claimed"] = rows["person_id"]
    evidence["correlated_by"] = rows["correlated_by"].astype(object)
    evidence["dn"] = rows["dn"]
    return _account_findings(ORPHAN_ACCOUNT, rows, message, evidence)


def password_never_expires(
    snapshot: SnapshotView, policy: Policy, as_of: pd.Timestamp
) -> pd.DataFrame:
    """Enabled human accounts (user / admin) whose password never expires."""
    ctx = RuleContext.of(snapshot, policy, as_of)
    a = ctx.accounts
    mask = (
        a["enabled"].to_numpy(dtype=bool)
        & a["kind"].isin(HUMAN_KINDS).to_numpy(dtype=bool)
        & a["password_never_expires"].to_numpy(dtype=bool)
    )
    rows = ctx.account_rows(
        np.flatnonzero(mask), [*SUBJECT_COLUMNS, *SIGN_IN_COLUMNS, "password_last_set"]
    )
    age = ctx.days_since(rows["password_last_set"])
    message = rows["login"] + pd.Series(
        np.where(
            age.notna(),
            "'s password never expires (last set "
            + _day(rows["password_last_set"])
            + ", "
            + age.astype(str)
            + " days ago)",
            "'s password never expires",
        ),
        index=rows.index,
    )
    evidence = _sign_in_evidence(rows, ctx)
    evidence["password_last_set"] = rows["password_last_set"]
    evidence["password_age_days"] = age
    evidence["privileged"] = ctx.account_privileged[mask]
    return _account_findings(PASSWORD_NEVER_EXPIRES, rows, message, evidence)


STALE_ACCOUNT = RuleSpec(
    id="stale-account",
    title="Enabled account not used recently",
    severity="medium",
    rationale="Unused enabled accounts are doors nobody watches; their passwords are guessed or "
    "reused without anyone noticing.",
    remediation="Confirm with the owner or manager; disable the account, delete it after the "
    "retention period.",
    controls=(
        SOX,
        ISO_ACCESS_RIGHTS,
        "SOC 2 CC6.2",
        "NIST SP 800-53 AC-2(3)",
        GDPR,
        "HIPAA §164.308(a)(4)(ii)(C)",
    ),
    function=stale_account,
    needs=("accounts",),
    thresholds=("stale_days", "new_account_grace_days"),
    false_positives=(
        "AD's lastLogonTimestamp replicates with a lag of up to ~14 days, so an account used "
        "in the last two weeks of the window can look idle; accounts used only for Kerberos "
        "service tickets, certificate or application sign-ins the directory does not record "
        "look unused; break-glass accounts are idle by design (record them as accepted "
        "risks)."
    ),
)
LEAVER_ACTIVE = RuleSpec(
    id="leaver-active",
    title="Leaver's account still enabled",
    severity="critical",
    rationale="A person who has left can still sign in; the classic termination control failure.",
    remediation="Disable the account today; review what it did after the end date.",
    controls=(
        SOX,
        ISO_IDENTITY,
        ISO_ACCESS_RIGHTS,
        "SOC 2 CC6.2",
        "NIST SP 800-53 AC-2",
        GDPR,
        HIPAA_WORKFORCE,
    ),
    function=leaver_active,
    needs=("accounts", "people"),
    false_positives=(
        "A rehire or a leaver kept on as a contractor under the same employee id; an HR end "
        "date entered in advance of the real last day; an account kept enabled on purpose for"
        " a mailbox hand-over (record it as an accepted risk with an expiry)."
    ),
)
ORPHAN_ACCOUNT = RuleSpec(
    id="orphan-account",
    title="Human account with no HR person",
    severity="high",
    rationale="Nobody is accountable for an account HR does not know; leavers' accounts and "
    "made-up identities hide here.",
    remediation="Find the owner and record the employee id on the account, or disable it.",
    controls=(SOX, ISO_IDENTITY, "SOC 2 CC6.2", "NIST SP 800-53 AC-2", HIPAA_WORKFORCE),
    function=orphan_account,
    needs=("accounts", "people"),
    thresholds=("service_accounts.patterns",),
    false_positives=(
        "Service, shared, test and vendor accounts whose names do not match the "
        "service-account patterns; people missing from the HR extract (board members, "
        "interns, staff of a subsidiary); accounts that need the manual identity map because "
        "their employee id and e-mail differ from HR."
    ),
)
PASSWORD_NEVER_EXPIRES = RuleSpec(
    id="password-never-expires",
    title="Human account whose password never expires",
    severity="medium",
    rationale="A password that never changes keeps working after it leaks.",
    remediation="Clear 'password never expires', or move the account to phishing-resistant MFA "
    "and document the exception.",
    controls=(
        "ISO 27001:2022 A.5.17",
        "SOC 2 CC6.1",
        "NIST SP 800-53 IA-5",
        GDPR,
        "HIPAA §164.308(a)(5)(ii)(D)",
    ),
    function=password_never_expires,
    needs=("accounts",),
    false_positives=(
        "Accounts whose password is a long random secret kept in a vault with rotation by the"
        " vault; modern policies (NIST SP 800-63B) no longer require periodic expiry when "
        "other controls are in place."
    ),
)
