"""Identity resolution: which HR person each account belongs to, and what kind of account it is.

Correlation happens once, when the snapshot is built, and is reported. An account is matched,
in this order, by:

1. a manual mapping file (an auditor's explicit correction wins over any heuristic),
2. employee id (``accounts.employee_id`` = ``people.person_id``),
3. e-mail address, then user principal name, against the HR e-mail (case-insensitive),
4. for admin accounts (``adm.jdoe``, ``jdoe-adm``, ``admin-jdoe``), the owner's ordinary
   account in the same system.

Accounts matching a service-account pattern of the policy become kind ``service``: they are
never orphans and never get the human password rule.

>>> import pandas as pd
>>> from accessaudit.model import TABLES
>>> people = TABLES["people"].conform(pd.DataFrame({"person_id": ["E1"], "name": ["Ann"],
...     "email": ["ann@corp.example"], "status": "active", "worker_type": "employee",
...     "system": "hr"}))
>>> accounts = TABLES["accounts"].conform(pd.DataFrame({"account_id": ["c:1", "c:2"],
...     "system": "c", "native_id": ["1", "2"], "login": ["ann", "svc-backup"],
...     "email": ["Ann@corp.example", None], "kind": "user", "enabled": True}))
>>> resolved, report = correlate_accounts(accounts, people, service_patterns=["svc-*"])
>>> resolved[["login", "person_id", "correlated_by", "kind"]]
        login person_id correlated_by     kind
0         ann        E1         email     user
1  svc-backup       NaN     unmatched  service
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.errors import SourceError
from accessaudit.model import TABLES

__all__ = ["ADMIN_LOGIN_PATTERNS", "correlate_accounts", "read_identity_map"]

#: How admin accounts are commonly named after their owner; the capture group is the owner's
#: ordinary login.
ADMIN_LOGIN_PATTERNS: tuple[str, ...] = (
    r"^adm[._-](?P<owner>.+)$",
    r"^admin[._-](?P<owner>.+)$",
    r"^a[._-](?P<owner>.+)$",
    r"^(?P<owner>.+)[._-]adm(in)?$",
)

_UNMATCHED = "unmatched"
_EXAMPLES = 10


def read_identity_map(path: Path) -> pd.DataFrame:
    """Read a manual mapping file: CSV with columns ``account`` (an account_id, or
    ``system:login``, or a bare login) and ``person_id``. Returns those two columns."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError as error:
        raise SourceError("identity map not found", location=str(path)) from error
    except UnicodeDecodeError as error:
        raise SourceError(f"not UTF-8 ({error.reason})", location=str(path)) from error
    except pd.errors.ParserError as error:
        raise SourceError(f"not a valid CSV ({error})", location=str(path)) from error
    missing = {"account", "person_id"} - set(frame.columns)
    if missing:
        raise SourceError(
            f"missing column(s) {', '.join(sorted(missing))}; found {', '.join(frame.columns)}",
            location=str(path),
        )
    empty = (frame["account"].str.strip() == "") | (frame["person_id"].str.strip() == "")
    if empty.any():
        line = int(np.flatnonzero(empty.to_numpy())[0]) + 2
        raise SourceError("account and person_id must both be set", location=f"{path}:{line}")
    return pd.DataFrame(
        {"account": frame["account"].str.strip(), "person_id": frame["person_id"].str.strip()}
    )


def correlate_accounts(
    accounts: pd.DataFrame,
    people: pd.DataFrame,
    *,
    service_patterns: Sequence[str] = (),
    identity_map: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Fill ``person_id`` and ``correlated_by`` on ``accounts`` and refine ``kind``.

    Returns the accounts (a new frame, same rows and order) and a JSON-able report: how many
    accounts matched by each method, how many human accounts did not match (per system, with
    examples), manual mappings that named an unknown account or person.
    """
    result = accounts.copy()
    person_ids = pd.Index(people["person_id"].astype(str))
    # Filled in order of trust: a later method only fills what an earlier one left empty.
    person = np.full(len(result), None, dtype=object)
    method = np.full(len(result), None, dtype=object)
    report: dict[str, Any] = {}

    def assign(candidates: pd.Series, how: str) -> None:
        usable = pd.isna(person) & candidates.notna().to_numpy()
        person[usable] = candidates.to_numpy()[usable]
        method[usable] = how

    if identity_map is not None and len(identity_map):
        mapped, problems = _manual_matches(result, person_ids, identity_map)
        assign(mapped, "manual")
        report["manual_problems"] = problems

    # Employee id that HR knows: the strongest automatic key.
    employee = result["employee_id"].astype(str).str.strip()
    assign(employee.where(employee.isin(person_ids)), "employee-id")

    emails = people.dropna(subset=["email"])
    by_email = pd.Series(
        emails["person_id"].astype(str).to_numpy(),
        index=emails["email"].astype(str).str.strip().str.lower(),
    )
    by_email = by_email[~by_email.index.duplicated(keep=False)]
    for column, how in (("email", "email"), ("upn", "upn")):
        keys = result[column].astype(str).str.strip().str.lower()
        assign(keys.map(by_email), how)

    owner = _admin_owner_logins(result)
    ordinary = pd.DataFrame(
        {
            "system": result["system"].astype(str),
            "login": result["login"].astype(str).str.lower(),
            "owner_person": person,
        },
        index=result.index,
    ).dropna(subset=["owner_person"])
    ordinary = ordinary.drop_duplicates(["system", "login"], keep=False)
    looked_up = pd.DataFrame(
        {"system": result["system"].astype(str), "login": owner}, index=result.index
    ).merge(ordinary, on=["system", "login"], how="left")
    looked_up.index = result.index
    assign(looked_up["owner_person"], "owner-login")

    result["person_id"] = pd.Series(person, index=result.index).astype(
        TABLES["accounts"].column_index["person_id"].dtype()
    )
    result["correlated_by"] = pd.Categorical(
        np.where(pd.isna(method), _UNMATCHED, method),
        dtype=TABLES["accounts"].column_index["correlated_by"].dtype(),
    )

    kind = result["kind"].astype(str)
    is_service = _matches_any(result, service_patterns) & (kind != "guest")
    kind = kind.mask(is_service, "service")
    kind = kind.mask((method == "owner-login") & (kind == "user").to_numpy(), "admin")
    result["kind"] = pd.Categorical(kind, dtype=TABLES["accounts"].column_index["kind"].dtype())

    human = result["kind"].isin(["user", "admin"])
    unmatched = result[human & (result["correlated_by"] == _UNMATCHED)]
    report.update(
        {
            "accounts": len(result),
            "matched": {
                str(k): int(v)
                for k, v in result["correlated_by"].value_counts(sort=False).items()
                if k != _UNMATCHED and v
            },
            "unmatched_human_accounts": len(unmatched),
            "unmatched_by_system": {
                str(k): int(v) for k, v in unmatched["system"].value_counts().items()
            },
            "unmatched_examples": unmatched["account_id"].astype(str).head(_EXAMPLES).tolist(),
            "service_accounts": int(is_service.sum()),
        }
    )
    zeros = _leading_zero_mismatches(unmatched, person_ids)
    if zeros:
        report["leading_zero_mismatches"] = zeros
    return result, report


def _leading_zero_mismatches(unmatched: pd.DataFrame, person_ids: pd.Index) -> dict[str, Any]:
    """Unmatched accounts whose numeric employee id equals an HR person id but for leading
    zeros (``00123`` and ``123``): what a spreadsheet does to an id column it reads as numbers.
    They are said, never matched: the two ids may be different people."""
    digits = r"^\d+$"
    employee = unmatched["employee_id"].astype("string").str.strip()
    employee = employee[employee.str.fullmatch(digits).fillna(False).astype(bool)]
    hr = pd.Series(person_ids, dtype="string").str.strip()
    hr = hr[hr.str.fullmatch(digits).fillna(False).astype(bool)]
    if employee.empty or hr.empty:
        return {}
    # An HR key two ids share ("0123" and "123") points at nobody in particular.
    hr_by_key = pd.Series(hr.to_numpy(), index=hr.str.lstrip("0").to_numpy())
    hr_by_key = hr_by_key[~hr_by_key.index.duplicated(keep=False) & (hr_by_key.index != "")]
    found = employee.str.lstrip("0").map(hr_by_key).dropna()
    if found.empty:
        return {}
    return {
        "count": len(found),
        "examples": [
            {"account_id": str(account), "employee_id": str(employee[at]), "person_id": str(hr_id)}
            for at, account, hr_id in zip(
                found.index[:_EXAMPLES],
                unmatched.loc[found.index[:_EXAMPLES], "account_id"],
                found[:_EXAMPLES],
                strict=True,
            )
        ],
    }


def _manual_matches(
    accounts: pd.DataFrame, person_ids: pd.Index, identity_map: pd.DataFrame
) -> tuple[pd.Series, dict[str, Any]]:
    """The person each account gets from the manual map (NaN where the map says nothing)."""
    keys = identity_map["account"].astype(str).str.lower()
    targets = identity_map["person_id"].astype(str)
    lookup = pd.Series(targets.to_numpy(), index=keys).loc[lambda s: ~s.index.duplicated()]
    account_id = accounts["account_id"].astype(str).str.lower()
    system_login = (
        accounts["system"].astype(str) + ":" + accounts["login"].astype(str)
    ).str.lower()
    login = accounts["login"].astype(str).str.lower()
    found = account_id.map(lookup)
    found = found.fillna(system_login.map(lookup)).fillna(login.map(lookup))
    unknown_people = sorted(set(targets) - set(person_ids))
    known_keys = set(account_id) | set(system_login) | set(login)
    unknown_accounts = sorted(set(keys) - known_keys)
    return found.where(found.isin(person_ids)), {
        "unknown_people": unknown_people[:_EXAMPLES],
        "unknown_accounts": unknown_accounts[:_EXAMPLES],
    }


def _admin_owner_logins(accounts: pd.DataFrame) -> pd.Series:
    """For logins shaped like an admin account, the owner's ordinary login (else NaN)."""
    logins = accounts["login"].astype(str).str.lower()
    owner = pd.Series(np.nan, index=accounts.index, dtype=object)
    for pattern in ADMIN_LOGIN_PATTERNS:
        found = logins.str.extract(pattern, expand=True)["owner"]
        owner = owner.fillna(found)
    return owner


def _matches_any(accounts: pd.DataFrame, patterns: Sequence[str]) -> pd.Series:
    """Accounts whose login matches a glob, or whose DN contains a fragment (patterns with
    ``=`` in them, like ``OU=Service Accounts``), case-insensitively."""
    hit = pd.Series(False, index=accounts.index)
    logins = accounts["login"].astype(str).str.lower()
    dns = accounts["dn"].astype(str).str.lower()
    for pattern in patterns:
        lowered = pattern.lower()
        if "=" in lowered:
            hit |= dns.str.contains(lowered, regex=False).fillna(False).astype(bool)
        else:
            regex = re.compile(fnmatch.translate(lowered))
            hit |= logins.str.match(regex).fillna(False).astype(bool)
    return hit
