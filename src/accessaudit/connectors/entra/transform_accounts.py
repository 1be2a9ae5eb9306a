"""Graph users and service principals → the ``accounts`` table (pure functions).

Users become ``user`` or ``guest`` accounts with sign-in activity and MFA registration;
service principals become ``service`` accounts whose password age is their application's
newest credential. Application credentials are summarised for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.entra.frames import column, frame, lookup, text, times
from accessaudit.connectors.entra.pages import RawPages
from accessaudit.connectors.entra.settings import GraphSettings

__all__ = ["AccountsRead", "accounts_from_pages", "credentials_report"]


@dataclass(frozen=True)
class AccountsRead:
    """The unconformed ``accounts`` rows and what the report says about them."""

    accounts: pd.DataFrame
    users: int
    service_principals: int
    applications: int
    credentials: pd.DataFrame
    sign_in: dict[str, Any]
    mfa: dict[str, Any]


def accounts_from_pages(
    raw: RawPages, *, system: str, graph: GraphSettings, as_of: pd.Timestamp
) -> AccountsRead:
    """Users and service principals of ``raw`` as ``accounts`` rows (not yet conformed)."""
    prefix = f"{system}:"
    notes = raw.notes
    sign_in_known = bool(notes.get("sign_in_known", True))
    mfa_known = bool(notes.get("mfa_known", True))

    users = frame(raw, "users")
    user_ids = text(users, "id")
    fields = [f"signInActivity.{name}" for name in notes.get("sign_in_fields", [])]
    stamps = pd.DataFrame({name: times(column(users, name)) for name in fields}, index=users.index)
    if fields:
        last_sign_in = stamps.max(axis=1)
        seen = stamps.notna().any(axis=1)
        latest_from = (
            stamps[seen]
            .idxmax(axis=1)
            .astype(str)
            .str.removeprefix("signInActivity.")
            .value_counts()
            if seen.any()
            else pd.Series(dtype=int)
        )
    else:
        last_sign_in = pd.Series(pd.NaT, index=users.index, dtype="datetime64[ns, UTC]")
        latest_from = pd.Series(dtype=int)
    mfa_frame = frame(raw, "mfa_registration")
    mfa_by_id = pd.Series(
        column(mfa_frame, "isMfaRegistered").astype("boolean").to_numpy(),
        index=text(mfa_frame, "id"),
    )
    mfa_by_id = mfa_by_id[~mfa_by_id.index.duplicated()]
    if mfa_known:
        mfa = user_ids.map(mfa_by_id).astype("boolean")
    else:
        mfa = pd.Series(pd.NA, index=users.index, dtype="boolean")
    user_type = text(users, "userType").str.lower()
    user_accounts = pd.DataFrame(
        {
            "account_id": prefix + user_ids,
            "system": system,
            "native_id": user_ids,
            "login": text(users, "userPrincipalName"),
            "display_name": text(users, "displayName"),
            "email": text(users, "mail"),
            "upn": text(users, "userPrincipalName"),
            "employee_id": text(users, "employeeId"),
            "department": text(users, "department"),
            "kind": np.where(user_type.eq("guest").fillna(False), "guest", "user"),
            "enabled": column(users, "accountEnabled").astype("boolean"),
            "expires": times(column(users, "employeeLeaveDateTime")),
            "created": times(column(users, "createdDateTime")),
            "last_sign_in": last_sign_in,
            "last_sign_in_known": sign_in_known,
            "mfa": mfa,
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
    sp_accounts = pd.DataFrame(
        {
            "account_id": prefix + sp_ids,
            "system": system,
            "native_id": sp_ids,
            "login": text(sps, "displayName").fillna(sp_app_ids),
            "display_name": text(sps, "displayName"),
            "kind": "service",
            "enabled": column(sps, "accountEnabled").astype("boolean"),
            "created": lookup(sp_app_ids, app_created),
            "password_last_set": lookup(sp_app_ids, newest_credential),
            # Service principals' sign-ins live in a separate (beta) report not read here.
            "last_sign_in_known": False,
        }
    )
    accounts = pd.concat([user_accounts, sp_accounts], ignore_index=True)
    accounts = accounts.sort_values("account_id", kind="stable").reset_index(drop=True)

    people = accounts["kind"].ne("service")
    sign_in = {
        "known": sign_in_known,
        "fields": list(notes.get("sign_in_fields", [])),
        "latest_from": {str(k): int(v) for k, v in latest_from.items()},
        "never_signed_in": int(accounts["last_sign_in"].isna().sum() - len(sp_accounts))
        if sign_in_known
        else None,
    }
    mfa_counts = accounts.loc[people, "mfa"]
    mfa_report: dict[str, Any] = {
        "known": mfa_known,
        "registered": int(mfa_counts.eq(True).sum()),
        "not_registered": int(mfa_counts.eq(False).sum()),
        "unknown": int(mfa_counts.isna().sum()),
    }
    if not mfa_known:
        mfa_report["note"] = "MFA unknown: the registration report could not be read"
    return AccountsRead(
        accounts=accounts,
        users=len(users),
        service_principals=len(sps),
        applications=len(apps),
        credentials=credentials,
        sign_in=sign_in,
        mfa=mfa_report,
    )


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
        exploded = apps[["appId", "displayName", listed]].explode(listed).dropna(subset=[listed])
        if not len(exploded):
            continue
        details = pd.json_normalize(exploded[listed].tolist())
        frames.append(
            pd.DataFrame(
                {
                    "application": exploded["displayName"].astype("string").to_numpy(),
                    "appId": exploded["appId"].astype("string").to_numpy(),
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
    as_of_utc = pd.Timestamp(as_of)
    as_of_utc = as_of_utc.tz_localize("UTC") if as_of_utc.tzinfo is None else as_of_utc
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
