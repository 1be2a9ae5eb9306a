"""The MySQL grant tables as plain frames: Y/N privilege columns and SET columns to rows,
accounts to ``user@host``, role attributes to pseudo-group words.

>>> privilege_word("Create_tmp_table_priv"), privilege_word("Grant_priv")
('CREATE TMP TABLE', 'GRANT OPTION')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = [
    "account",
    "privilege_word",
    "query_frame",
    "role_rows",
    "set_words",
    "spread",
    "text",
]


def query_frame(connection: Any, sql: str) -> pd.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame(list(cursor.fetchall()), columns=columns, dtype=object)


def text(series: pd.Series) -> pd.Series:
    """Grant-table values come back as str or bytes depending on the column's collation."""
    return series.map(lambda v: v.decode() if isinstance(v, bytes | bytearray) else v)


def account(user: pd.Series, host: pd.Series) -> pd.Series:
    return user + "@" + host


def privilege_word(column: str) -> str:
    """``Create_tmp_table_priv`` -> ``CREATE TMP TABLE``; ``Grant_priv`` -> ``GRANT OPTION``."""
    word = column.removesuffix("_priv").replace("_", " ").upper()
    return "GRANT OPTION" if word == "GRANT" else word


def spread(rows: pd.DataFrame, columns: list[str], object_id: pd.Series) -> pd.DataFrame:
    """One row per 'Y' privilege column: grantee, object_id, privilege, grantable."""
    grantable = rows["Grant_priv"].astype(str).eq("Y") if "Grant_priv" in rows else False
    frames = []
    for column in columns:
        held = rows[column].astype(str).eq("Y")
        frames.append(
            pd.DataFrame(
                {
                    "grantee": rows.loc[held, "grantee"],
                    "object_id": object_id[held],
                    "privilege": privilege_word(column),
                    "grantable": (grantable[held] if isinstance(grantable, pd.Series) else False),
                    "column": None,
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else _empty_privileges()


def _empty_privileges() -> pd.DataFrame:
    return pd.DataFrame(columns=["grantee", "object_id", "privilege", "grantable", "column"])


def set_words(rows: pd.DataFrame, column: str, object_id: pd.Series) -> pd.DataFrame:
    """Explode a SET column (``Select,Insert``) into one privilege row per word."""
    words = text(rows[column]).fillna("").astype(str).str.split(",")
    out = pd.DataFrame(
        {"grantee": rows["grantee"], "object_id": object_id, "privilege": words}
    ).explode("privilege")
    out = out[out["privilege"].astype(str) != ""]
    word = out["privilege"].astype(str).str.upper()
    return pd.DataFrame(
        {
            "grantee": out["grantee"],
            "object_id": out["object_id"],
            "privilege": word.where(word != "GRANT", "GRANT OPTION"),
            "grantable": word == "GRANT",
            "column": rows["Column_name"].reindex(out.index) if "Column_name" in rows else None,
        }
    )


def role_rows(
    users: pd.DataFrame,
    privilege_columns: list[str],
    flags: Mapping[str, tuple[str, bool]],
    as_of: pd.Timestamp,
    last_use: pd.Series | None,
) -> pd.DataFrame:
    held: pd.Series = pd.Series([[] for _ in range(len(users))], index=users.index, dtype=object)

    def add(mask: pd.Series, word: str) -> None:
        nonlocal held
        held = held.where(~mask.to_numpy(dtype=bool), held.map(lambda f: [*f, word]))

    has = {privilege_word(c): users[c].astype(str).eq("Y") for c in privilege_columns}
    for word in flags:
        if word in has:
            add(has[word], word)
    if "ALL PRIVILEGES" in flags and has:
        add(pd.concat(list(has.values()), axis=1).all(axis=1), "ALL PRIVILEGES")
    if "any-host" in flags:
        add(users["Host"].astype(str).eq("%") & ~users["is_role"].astype(bool), "any-host")
    locked = users.get("account_locked", pd.Series(None, index=users.index))
    locked = locked.astype(str).str.lower().isin(["y", "true", "1"])
    can_login = ~users["is_role"].astype(bool)
    seen = (
        users["native_id"].map(last_use)
        if last_use is not None
        else pd.Series(pd.NaT, index=users.index)
    )
    return pd.DataFrame(
        {
            "native_id": users["native_id"].astype(str),
            "login": users["User"].astype(str),
            "can_login": can_login,
            "enabled": can_login & ~locked,
            "expires": pd.NaT,
            "flags": held,
            "description": None,
            "last_sign_in": pd.to_datetime(seen, utc=True),
            "last_sign_in_known": last_use is not None,
        }
    )
