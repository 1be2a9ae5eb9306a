"""Is an account used, and can it do MFA? Sign-in activity and MFA capability (pure).

Use, not attempts (api-reference/v1.0/resources/signinactivity.md): ``lastSignInDateTime`` and
``lastNonInteractiveSignInDateTime`` record *attempts*, successful or not, so a password spray
against a dormant account makes them recent; ``lastSuccessfulSignInDateTime`` (tracked since
December 2023, not back-filled) is the documented measure of actual access. Where the tenant
reports it, it alone decides ``last_sign_in``; the attempt times stay in the report.

MFA that works, not MFA registered (api-reference/v1.0/resources/userregistrationdetails.md):
``isMfaRegistered`` may count a method the authentication-methods policy does not allow;
``isMfaCapable`` is "registered with a method the policy allows". It decides ``mfa``;
registration is kept in the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.entra.frames import absent, column, frame, text, times
from accessaudit.connectors.entra.settings import EntraSettings

__all__ = ["SignIns", "mfa_capability", "sign_ins"]

#: How many examples (logins) a report list shows; the count is always complete.
EXAMPLES = 20
_ACTIVITY = "signInActivity"


@dataclass(frozen=True)
class SignIns:
    """Per user (aligned with the users frame): the last sign-in that counts, whether it is
    known at all, and the report section."""

    last_sign_in: pd.Series
    known: pd.Series
    report: dict[str, Any]


def sign_ins(raw: RawPages, users: pd.DataFrame, graph: EntraSettings) -> SignIns:
    """``last_sign_in`` per user from ``signInActivity``: the last *successful* sign-in where
    the tenant reports it, else (saying so) the latest attempt.

    A user object without the ``signInActivity`` property (not selected, or cut from a saved
    page) has an unknown sign-in, never "never signed in"; ``null`` is Graph's "never".
    """
    notes = raw.notes
    tenant_known = bool(notes.get("sign_in_known", True))
    fields = [str(name) for name in notes.get("sign_in_fields", [])]
    successful = graph.sign_in_successful
    attempt_fields = [name for name in fields if name != successful]
    has_activity = ~absent(raw, "users", _ACTIVITY).set_axis(users.index)
    known = has_activity & tenant_known

    def stamp(name: str) -> pd.Series:
        return times(column(users, f"{_ACTIVITY}.{name}")).astype("datetime64[ns, UTC]")

    attempts = pd.DataFrame({name: stamp(name) for name in attempt_fields}, index=users.index)
    last_attempt = (
        attempts.max(axis=1).astype("datetime64[ns, UTC]")
        if attempt_fields
        else pd.Series(pd.NaT, index=users.index, dtype="datetime64[ns, UTC]")
    )
    reported = successful in fields and f"{_ACTIVITY}.{successful}" in users.columns
    report: dict[str, Any] = {"known": tenant_known, "fields": fields}
    if reported:
        last_sign_in = stamp(successful)
        latest_from = {successful: int(last_sign_in[known].notna().sum())}
        report["decided_by"] = successful
    else:
        last_sign_in = last_attempt
        seen = attempts.notna().any(axis=1)
        latest_from = (
            {str(k): int(v) for k, v in attempts[seen].idxmax(axis=1).value_counts().items()}
            if bool(seen.any())
            else {}
        )
        report["decided_by"] = (
            " / ".join(attempt_fields) + " (sign-in attempts)" if attempt_fields else None
        )
    last_sign_in = last_sign_in.where(known)
    report["latest_from"] = latest_from
    report["successful_reported"] = bool(reported)
    report["attempt_fields"] = attempt_fields
    logins = text(users, "userPrincipalName").fillna(text(users, "id"))
    if reported:
        # Attempts after the last success: a spray or a forgotten device, not use.
        failed_since = known & last_attempt.notna() & ~(last_attempt <= last_sign_in).fillna(False)
        never = failed_since & last_sign_in.isna()
        report["attempts_after_last_success"] = int(failed_since.sum())
        report["attempts_without_any_success"] = int(never.sum())
        report["attempt_examples"] = [
            {
                "login": str(login),
                "last_successful": _iso(success),
                "last_attempt": _iso(attempt),
            }
            for login, success, attempt in zip(
                logins[failed_since].head(EXAMPLES),
                last_sign_in[failed_since].head(EXAMPLES),
                last_attempt[failed_since].head(EXAMPLES),
                strict=True,
            )
        ]
    report["never_signed_in"] = int((known & last_sign_in.isna()).sum()) if tenant_known else None
    report["unknown"] = int((~known).sum())
    if tenant_known and int((~has_activity).sum()):
        report["unknown_examples"] = logins[~has_activity].head(EXAMPLES).astype(str).tolist()
    return SignIns(last_sign_in.astype("datetime64[ns, UTC]"), known, report)


def mfa_capability(
    raw: RawPages, user_ids: pd.Series, logins: pd.Series
) -> tuple[pd.Series, dict[str, Any]]:
    """``mfa`` per user (aligned with ``user_ids``) from the registration report: capable,
    not capable, or unknown (NA: no report row, report unreadable, or the row lacks both
    properties). A row without ``isMfaCapable`` but ``isMfaRegistered: false`` is not
    capable (capability needs registration); ``isMfaRegistered: true`` alone is unknown."""
    known = bool(raw.notes.get("mfa_known", True))
    rows = frame(raw, "mfa_registration")
    rows = rows[~text(rows, "id").duplicated()]
    capable = column(rows, "isMfaCapable").astype("boolean")
    registered = column(rows, "isMfaRegistered").astype("boolean")
    decided = capable.mask(capable.isna() & registered.eq(False), False)
    by_id = text(rows, "id")
    mfa = user_ids.map(pd.Series(decided.to_numpy(), index=by_id)).astype("boolean")
    registered_by_user = user_ids.map(pd.Series(registered.to_numpy(), index=by_id)).astype(
        "boolean"
    )
    if not known:
        mfa = pd.Series(pd.NA, index=user_ids.index, dtype="boolean")
    gap = registered_by_user.eq(True) & mfa.eq(False)
    report: dict[str, Any] = {
        "known": known,
        "decided_by": "isMfaCapable",
        "capable": int(mfa.eq(True).sum()),
        "not_capable": int(mfa.eq(False).sum()),
        "unknown": int(mfa.isna().sum()),
        "registered": int(registered_by_user.eq(True).sum()),
        "not_registered": int(registered_by_user.eq(False).sum()),
        "registered_not_capable": int(gap.sum()),
        "registered_not_capable_examples": logins[gap.fillna(False)]
        .head(EXAMPLES)
        .astype(str)
        .tolist(),
    }
    if not known:
        report["note"] = "MFA unknown: the registration report could not be read"
    return mfa, report


def _iso(value: Any) -> str | None:
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%SZ")
