"""Write the sample directory as ``ldapsearch -LLL`` writes an Active Directory export.

RFC 2849: ``attr:: base64`` for binary values (objectSid) and for values that are not safe
strings (non-ASCII, a leading space, colon or ``<``), ``dn::`` for such DNs, lines folded at 76
columns with a single leading space on continuation lines, entries separated by a blank line.
Every column is built with vectorised string operations so a 200,000-account directory with
5 million memberships writes in seconds; only the few non-ASCII values go through Python's
base64 one by one.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import pandas as pd

from accessaudit.sample import _cast as cast
from accessaudit.sample._generate import Organisation

__all__ = ["filetime", "sid_bytes", "write_ldif"]

_WIDTH = 76
_B64_ALPHABET = np.frombuffer(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", dtype=np.uint8
)
_FILETIME_EPOCH_OFFSET = 116444736000000000  # 100 ns ticks from 1601-01-01 to 1970-01-01
NEVER = "9223372036854775807"
_CHUNK = 20_000

_UAC_ACCOUNTDISABLE = 0x2
_UAC_PASSWD_NOTREQD = 0x20
_UAC_NORMAL_ACCOUNT = 0x200
_UAC_WORKSTATION_TRUST = 0x1000
_UAC_DONT_EXPIRE_PASSWORD = 0x10000


def filetime(times: pd.Series) -> pd.Series:
    """UTC timestamps → Windows FILETIME strings (100 ns ticks since 1601); NaT → ``"0"``."""
    values = times.astype("datetime64[ns, UTC]")
    ns = values.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    ticks = ns // 100 + _FILETIME_EPOCH_OFFSET
    text = pd.Series(ticks, index=times.index).astype(str)
    return text.where(values.notna().to_numpy(), "0")


def sid_bytes(sids: pd.Series) -> np.ndarray:
    """SID strings of one shape (same number of sub-authorities) → their binary layout, one row
    per SID: revision 1, sub-authority count, 48-bit authority big-endian, then each
    sub-authority as a little-endian uint32."""
    parts = sids.str.split("-", expand=True).iloc[:, 2:].astype(np.int64).to_numpy()
    authority, subs = parts[:, 0], np.ascontiguousarray(parts[:, 1:].astype("<u4"))
    head = np.zeros((len(sids), 8), dtype=np.uint8)
    head[:, 0] = 1
    head[:, 1] = subs.shape[1]
    head[:, 2:8] = (authority[:, None] >> (8 * np.arange(5, -1, -1))) & 0xFF
    return np.concatenate([head, subs.view(np.uint8).reshape(len(sids), -1)], axis=1)


def _base64_rows(data: np.ndarray) -> pd.Series:
    """Base64 of each row of a uint8 matrix, without a Python loop over rows."""
    rows, width = data.shape
    pad = (-width) % 3
    padded = np.concatenate([data, np.zeros((rows, pad), dtype=np.uint8)], axis=1)
    triples = padded.reshape(rows, -1, 3).astype(np.uint32)
    word = (triples[..., 0] << 16) | (triples[..., 1] << 8) | triples[..., 2]
    shifts = np.array([18, 12, 6, 0], dtype=np.uint32)
    encoded = _B64_ALPHABET[(word[..., None] >> shifts) & 0x3F].reshape(rows, -1)
    if pad:
        encoded[:, -pad:] = ord("=")
    fixed = np.ascontiguousarray(encoded).view(f"S{encoded.shape[1]}").ravel()
    text: pd.Series = pd.Series(fixed).str.decode("ascii")
    return text


def _sid_base64(sids: pd.Series) -> pd.Series:
    shape = sids.str.count("-")
    out = pd.Series("", index=sids.index, dtype="str")
    for count in shape.unique():
        mask = shape == count
        out[mask] = _base64_rows(sid_bytes(sids[mask])).to_numpy()
    return out


def _fold(lines: pd.Series) -> pd.Series:
    """Fold lines longer than 76 columns: continuation lines start with one space."""
    longest = int(lines.str.len().max()) if len(lines) else 0
    if longest <= _WIDTH:
        return lines
    out = lines.str.slice(0, _WIDTH)
    start = _WIDTH
    while start < longest:
        piece = lines.str.slice(start, start + _WIDTH - 1)
        out = out + ("\n " + piece).where(piece.str.len() > 0, "")
        start += _WIDTH - 1
    return out


def _lines(attribute: str, values: pd.Series) -> pd.Series:
    """``attribute: value`` lines (folded, newline-terminated); ``::`` base64 where a value is
    not a safe LDIF string; empty text where the value is missing."""
    text = values.astype("str")
    unsafe = (
        (
            text.str.contains(r"[^\x20-\x7e]", regex=True)
            | text.str.match(r"[ :<]")
            | text.str.endswith(" ")
        )
        .fillna(False)
        .astype(bool)
    )
    line = attribute + ": " + text
    if unsafe.any():
        encoded = [base64.b64encode(v.encode("utf-8")).decode("ascii") for v in text[unsafe]]
        line[unsafe] = attribute + ":: " + pd.Series(encoded, index=text[unsafe].index)
    return (_fold(line) + "\n").fillna("")


def _constant(lines: list[str], index: pd.Index) -> pd.Series:
    return pd.Series("".join(f"{line}\n" for line in lines), index=index, dtype="str")


def _multi(attribute: str, owner: np.ndarray, values: pd.Series, index: pd.Index) -> pd.Series:
    """A multi-valued attribute: all lines of each owner row, in order, joined."""
    if not len(values):
        return pd.Series("", index=index, dtype="str")
    lines = _lines(attribute, values.reset_index(drop=True))
    joined = lines.groupby(owner, sort=True).agg("".join)
    return joined.reindex(index, fill_value="").astype("str")


def _generalized(times: pd.Series) -> pd.Series:
    text: pd.Series = times.dt.strftime("%Y%m%d%H%M%S.0Z")
    return text


def _member_dns(org: Organisation) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """Member DN of each membership, and the (group row, member code, member type) codes."""
    users, groups = org.users, org.groups
    all_dns = pd.concat(
        [users["dn"], groups["dn"], pd.Series([cast.FOREIGN_MEMBER])], ignore_index=True
    )
    member_code = org.memberships["member"].cat.codes.to_numpy()
    group_code = org.memberships["group"].cat.codes.to_numpy()
    member_type = org.memberships["member_type"].cat.codes.to_numpy()
    return (
        pd.Series(all_dns.to_numpy()[member_code]),
        group_code,
        member_code,
        member_type,
    )


def _group_entries(org: Organisation) -> pd.Series:
    groups = org.groups
    index = groups.index
    member_dn, group_code, member_code, member_type = _member_dns(org)
    n_users = len(org.users)
    order = np.argsort(group_code, kind="stable")
    members = _multi("member", group_code[order], member_dn[order], index)
    is_group = member_type == 1
    parents = _multi(
        "memberOf",
        member_code[is_group] - n_users,
        pd.Series(groups["dn"].to_numpy()[group_code[is_group]]),
        index,
    )
    user_dn = pd.Series(org.users["dn"].to_numpy(), index=org.users["login"])
    managed = groups["managed_by"].map(user_dn)
    created = org.as_of.normalize() - pd.Timedelta(days=4000) + pd.to_timedelta(index, unit="h")
    return (
        _lines("dn", groups["dn"])
        + _constant(["objectClass: top", "objectClass: group"], index)
        + _lines("cn", groups["name"])
        + _lines("description", groups["description"])
        + members
        + _lines("sAMAccountName", groups["name"])
        + _lines("groupType", groups["group_type"].astype(str))
        + _lines("whenCreated", _generalized(pd.Series(created, index=index)))
        + ("objectSid:: " + _sid_base64(groups["sid"]) + "\n")
        + _lines("managedBy", managed)
        + _lines("adminCount", pd.Series("1", index=index, dtype="str").where(groups["protected"]))
        + parents
        + "\n"
    )


def _user_entries(org: Organisation) -> pd.Series:
    users = org.users
    index = users.index
    _, group_code, member_code, member_type = _member_dns(org)
    is_user = member_type == 0
    memberships = _multi(
        "memberOf",
        member_code[is_user],
        pd.Series(org.groups["dn"].to_numpy()[group_code[is_user]]),
        index,
    )
    kind = users["kind"]
    gmsa = (kind == "gmsa").to_numpy()
    uac = np.where(gmsa, _UAC_WORKSTATION_TRUST, _UAC_NORMAL_ACCOUNT)
    uac = uac | np.where(users["enabled"], 0, _UAC_ACCOUNTDISABLE)
    uac = uac | np.where(users["password_never_expires"], _UAC_DONT_EXPIRE_PASSWORD, 0)
    uac = uac | np.where(users["login"] == "Guest", _UAC_PASSWD_NOTREQD, 0)
    person_like = kind.isin(["user", "admin", "service"])
    upn = (users["login"] + "@" + cast.DOMAIN_DNS).where(person_like)
    # people's accounts keep AD's creation default; cleared expiries read 0 (both mean never)
    never = pd.Series(np.where(kind == "user", NEVER, "0"), index=index)
    expires = filetime(users["account_expires"]).where(users["account_expires"].notna(), never)
    classes = pd.Series(
        np.where(
            gmsa,
            "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n"
            "objectClass: user\nobjectClass: computer\n"
            "objectClass: msDS-GroupManagedServiceAccount\n",
            "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n"
            "objectClass: user\n",
        ),
        index=index,
    )
    shared = pd.Series("4", index=index, dtype="str").where(kind == "shared")
    return (
        _lines("dn", users["dn"])
        + classes
        + _lines("cn", users["cn"])
        + _lines("sn", users["surname"])
        + _lines("givenName", users["given_name"])
        + _lines("title", users["title"])
        + _lines("description", users["description"])
        + _lines("displayName", users["display_name"])
        + _lines("department", users["department"])
        + _lines("employeeID", users["employee_id"])
        + _lines("mail", users["email"])
        + _lines("userPrincipalName", upn)
        + _lines("sAMAccountName", users["login"])
        + _lines("userAccountControl", pd.Series(uac, index=index).astype(str))
        + _lines("accountExpires", expires)
        + _lines("pwdLastSet", filetime(users["pwd_last_set"]))
        + _lines("lastLogonTimestamp", filetime(users["last_logon"]))
        + _lines("whenCreated", _generalized(users["created"]))
        + ("objectSid:: " + _sid_base64(users["sid"]) + "\n")
        + _lines("primaryGroupID", users["primary_group_rid"].astype(str))
        + _lines("msExchRecipientTypeDetails", shared)
        + memberships
        + "\n"
    )


def write_ldif(path: Path, org: Organisation) -> None:
    """Write the organisation's directory (groups, then user objects) as LDIF to ``path``."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for entries in (_group_entries(org), _user_entries(org)):
            for start in range(0, len(entries), _CHUNK):
                out.write("".join(entries.iloc[start : start + _CHUNK].tolist()))
