"""Graph users and service principals → the ``accounts`` table (pure functions).

Users become ``user`` or ``guest`` accounts with sign-in activity and MFA capability;
service principals become ``service`` accounts whose password age is their application's
newest credential. Application credentials are summarised for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors._graph.pages import RawPages
from accessaudit.connectors.entra.frames import (
    absent,
    column,
    frame,
    guest_users,
    lookup,
    origin,
    text,
    times,
)
from accessaudit.connectors.entra.settings import EntraSettings
from accessaudit.connectors.entra.transform_activity import EXAMPLES, mfa_capability, sign_ins
from accessaudit.model import utc_timestamp

__all__ = ["AccountsRead", "accounts_from_pages", "credentials_report"]


@dataclass(frozen=True)
class AccountsRead:
    """The unconformed ``accounts`` rows (with ``_origin`` for messages) and what the report
    says about them."""

    accounts: pd.DataFrame
    users: int
    service_principals: int
    applications: int
    credentials: pd.DataFrame
    sign_in: dict[str, Any]
    mfa: dict[str, Any]
    coverage: dict[str, Any]


def accounts_from_pages(
    raw: RawPages, *, system: str, graph: EntraSettings, as_of: pd.Timestamp
) -> AccountsRead:
    """Users and service principals of ``raw`` as ``accounts`` rows (not yet conformed).

    Absent is not false: a property Graph did not return is unknown, counted in ``coverage``.
    An account whose ``accountEnabled`` is unknown is stored as enabled (the ``enabled``
    column cannot be empty), so every rule still checks it and none reads it as disabled.
    """
    prefix = f"{system}:"
    users = frame(raw, "users")
    user_ids = text(users, "id")
    upn = text(users, "userPrincipalName")
    logins = upn.fillna(text(users, "mail")).fillna(user_ids)
    activity = sign_ins(raw, users, graph)
    mfa, mfa_report = mfa_capability(raw, user_ids, logins)
    # The same rule that chose whom to ask for sponsors (gather._read_sponsors).
    guest = guest_users(users)
    user_enabled = column(users, "accountEnabled").astype("boolean")
    # passwordPolicies "DisablePasswordExpiration" (resources/user.md) is a password that
    # never expires, for cloud-only users; on synced users Entra Connect sets it and the
    # on-premises directory governs the password (read from the AD source instead).
    synced = column(users, "onPremisesSyncEnabled").astype("boolean").eq(True).fillna(False)
    policies = text(users, "passwordPolicies")
    never_expires = policies.str.contains("DisablePasswordExpiration", regex=False)
    policy_unknown = ~synced & absent(raw, "users", "passwordPolicies")
    user_accounts = pd.DataFrame(
        {
            "account_id": prefix + user_ids,
            "system": system,
            "native_id": user_ids,
            "login": logins,
            "display_name": text(users, "displayName"),
            "email": text(users, "mail"),
            "upn": upn,
            "employee_id": text(users, "employeeId"),
            "department": text(users, "department"),
            "kind": np.where(guest.astype(bool), "guest", "user"),
            "enabled": user_enabled.fillna(True),
            "expires": times(column(users, "employeeLeaveDateTime")),
            "created": times(column(users, "createdDateTime")),
            "password_last_set": times(column(users, "lastPasswordChangeDateTime")),
            "password_never_expires": never_expires.fillna(False) & ~synced,
            "last_sign_in": activity.last_sign_in,
            "last_sign_in_known": activity.known,
            "mfa": mfa,
            "sponsor_id": _sponsors(raw, user_ids, user_enabled, prefix),
            "_origin": origin(users),
        }
    )

    sps = frame(raw, "service_principals")
    apps = frame(raw, "applications")
    credentials = _credentials(apps, as_of, graph.long_lived_secret_days)
    app_created = pd.Series(
        times(column(apps, "createdDateTime")).to_numpy(), index=text(apps, "appId")
    )
    app_created = app_created[~app_created.index.duplicated()]
    newest_credential = (
        credentials.groupby("appId")["start"].max()
        if len(credentials)
        else pd.Series(dtype="datetime64[ns, UTC]")
    )
    sp_ids = text(sps, "id")
    sp_app_ids = text(sps, "appId")
    sp_enabled = column(sps, "accountEnabled").astype("boolean")
    sp_accounts = pd.DataFrame(
        {
            "account_id": prefix + sp_ids,
            "system": system,
            "native_id": sp_ids,
            "login": text(sps, "displayName").fillna(sp_app_ids).fillna(sp_ids),
            "display_name": text(sps, "displayName"),
            "kind": "service",
            "enabled": sp_enabled.fillna(True),
            "created": lookup(sp_app_ids, app_created),
            "password_last_set": lookup(sp_app_ids, newest_credential),
            # Service principals' sign-ins live in a separate (beta) report not read here.
            "last_sign_in_known": False,
            "_origin": origin(sps),
        }
    )
    accounts = pd.concat([user_accounts, sp_accounts], ignore_index=True)
    accounts = accounts.sort_values("account_id", kind="stable").reset_index(drop=True)
    coverage = _coverage(
        {
            "enabled_unknown": pd.concat(
                [logins[user_enabled.isna()], sp_accounts["login"][sp_enabled.isna()]]
            ),
            "user_type_unknown": logins[text(users, "userType").isna()],
            "password_policy_unknown": logins[policy_unknown],
            "login_from_mail_or_id": logins[upn.isna()],
        }
    )
    return AccountsRead(
        accounts=accounts,
        users=len(users),
        service_principals=len(sps),
        applications=len(apps),
        credentials=credentials,
        sign_in=activity.report,
        mfa=mfa_report,
        coverage=coverage,
    )


def _sponsors(raw: RawPages, user_ids: pd.Series, enabled: pd.Series, prefix: str) -> pd.Series:
    """Each user's sponsor as an account or group id: of several, the first (by id) user
    sponsor whose account is enabled, else the first group, else the first of any kind, so one
    disabled sponsor does not hide a current one. Empty where none is recorded."""
    sponsors = frame(raw, "user_sponsors")
    if sponsors.empty:
        return pd.Series(pd.NA, index=user_ids.index, dtype="string")
    kind = text(sponsors, "@odata.type").str.rsplit(".", n=1).str[-1].str.lower()
    sponsor_enabled = lookup(
        text(sponsors, "id"), pd.Series(enabled.to_numpy(), index=user_ids.to_numpy())
    )
    # Lower ranks win: an enabled user, then a group, then anything else.
    rank = np.where(
        kind.eq("user").fillna(False) & sponsor_enabled.eq(True).fillna(False),
        0,
        np.where(kind.eq("group").fillna(False), 1, 2),
    )
    chosen = (
        sponsors.assign(_rank=rank)
        .sort_values(["_parent", "_rank", "id"], kind="stable")
        .drop_duplicates("_parent")
    )
    first = pd.Series(chosen["id"].astype(str).to_numpy(), index=chosen["_parent"].astype(str))
    found: pd.Series = (prefix + user_ids.map(first)).astype("string")
    return found


def _coverage(unknown: dict[str, pd.Series]) -> dict[str, Any]:
    """Counts (and the first logins) of accounts whose named property Graph did not return."""
    coverage: dict[str, Any] = {name: len(logins) for name, logins in unknown.items()}
    coverage["examples"] = {
        name: logins.head(EXAMPLES).astype(str).tolist()
        for name, logins in unknown.items()
        if len(logins)
    }
    return coverage


def credentials_report(credentials: pd.DataFrame, long_lived_days: int) -> dict[str, Any]:
    """Counts of application secrets and certificates, expired and long-lived, with details."""
    return {
        "total": len(credentials),
        "expired": int(credentials["expired"].sum()) if len(credentials) else 0,
        "long_lived": int(credentials["long_lived"].sum()) if len(credentials) else 0,
        "long_lived_days": long_lived_days,
        "details": _jsonable(credentials),
    }


def _credentials(apps: pd.DataFrame, as_of: pd.Timestamp, long_lived_days: int) -> pd.DataFrame:
    """One row per application secret or certificate, with expiry and lifetime flags."""
    frames = []
    for listed, kind in (("passwordCredentials", "secret"), ("keyCredentials", "certificate")):
        if listed not in apps.columns:
            continue
        owners = pd.DataFrame(
            {
                "appId": text(apps, "appId"),
                "displayName": text(apps, "displayName"),
                listed: apps[listed],
            }
        )
        exploded = owners.explode(listed).dropna(subset=[listed])
        if not len(exploded):
            continue
        details = pd.json_normalize(exploded[listed].tolist())
        frames.append(
            pd.DataFrame(
                {
                    "application": exploded["displayName"].to_numpy(),
                    "appId": exploded["appId"].to_numpy(),
                    "type": kind,
                    "name": text(details, "displayName").to_numpy(),
                    "start": times(column(details, "startDateTime")).to_numpy(),
                    "end": times(column(details, "endDateTime")).to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "application": pd.Series([], dtype="string"),
                "appId": pd.Series([], dtype="string"),
                "type": pd.Series([], dtype="string"),
                "name": pd.Series([], dtype="string"),
                "start": pd.Series([], dtype="datetime64[ns, UTC]"),
                "end": pd.Series([], dtype="datetime64[ns, UTC]"),
                "expired": pd.Series([], dtype=bool),
                "long_lived": pd.Series([], dtype=bool),
            }
        )
    table = pd.concat(frames, ignore_index=True)
    table["start"] = pd.to_datetime(table["start"], utc=True)
    table["end"] = pd.to_datetime(table["end"], utc=True)
    as_of_utc = utc_timestamp(as_of)
    table["expired"] = (table["end"] < as_of_utc).fillna(False).astype(bool)
    lifetime = table["end"] - table["start"]
    table["long_lived"] = (
        ((lifetime > pd.Timedelta(days=long_lived_days)) & table["type"].eq("secret"))
        .fillna(False)
        .astype(bool)
    )
    return table.sort_values(["application", "type", "end"], kind="stable").reset_index(drop=True)


def _jsonable(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = table.copy()
    for name in ("start", "end"):
        out[name] = out[name].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = out.astype(object).where(out.notna(), None)
    return [
        {str(k): (bool(v) if isinstance(v, np.bool_) else v) for k, v in row.items()}
        for row in out.to_dict("records")
    ]
