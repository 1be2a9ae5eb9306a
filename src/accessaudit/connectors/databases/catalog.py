"""A database's catalog, read into four plain frames, becomes the snapshot's tables.

PostgreSQL and MySQL/MariaDB name things differently but describe the same facts, so each
flavour module reads its catalog into a :class:`Catalog` of plain frames and this module turns
that into ``accounts``, ``groups``, ``memberships``, ``resources`` and ``grants`` once:

* **roles** — one row per role or user: ``native_id`` (the role name; ``'user'@'host'`` on
  MySQL), ``login`` (the name people type), ``can_login``, ``enabled``, ``expires``,
  ``flags`` (the pseudo-roles the role holds by attribute: ``rolsuper``, ``SUPER`` …),
  ``description``, ``last_sign_in``;
* **edges** — ``group`` ← ``member`` (both ``native_id``), one row per direct membership;
* **objects** — every data store the catalog lists: ``object_id`` (``db.schema.table``),
  ``kind`` (database, schema, table, view, sequence, function …), ``owner``, ``note``;
* **privileges** — ``grantee`` (a ``native_id``, or :data:`PUBLIC`), ``object_id``,
  ``privilege`` (the catalog's word: SELECT, USAGE …), ``grantable``, ``column``.

Login roles become accounts; roles that others are members of (and every role that cannot
log in) become groups. A role that can log in *and* has members is both: its account is made a
member of its own group, so grants to it reach the role itself and its members alike. Role
attributes that give power over the whole server (superuser, bypass row-level security, create
role, replication, SUPER …) become pseudo-groups named after the attribute (``rolsuper``) and
flagged ``privileged``: excess-privilege fires for a human superuser who is not on the approved
list of ``rolsuper`` (or of the pseudo-group's id ``<source>:@rolsuper``). ``PUBLIC`` is a group
whose members are every login role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from accessaudit.connectors.base import Manifest, SourceSettings
from accessaudit.errors import ConfigError
from accessaudit.model import EVERY_ROLE_GROUP, RIGHTS, TABLES

__all__ = ["PSEUDO_PREFIX", "PUBLIC", "Catalog", "catalog_tables", "rights_of", "source_tables"]

#: The grantee name meaning "every role" in the privileges frame.
PUBLIC = "PUBLIC"
#: Pseudo-group native ids start with this, which no role name in a default setup uses.
PSEUDO_PREFIX = "@"

_RIGHT_ORDER = {right: rank for rank, right in enumerate(RIGHTS)}


@dataclass
class Catalog:
    """What one database server's catalog says, as plain frames (see the module docstring)."""

    roles: pd.DataFrame
    edges: pd.DataFrame
    objects: pd.DataFrame
    privileges: pd.DataFrame
    #: Attribute word -> (pseudo-group description, privileged?), from the manifest.
    flags: Mapping[str, tuple[str, bool]] = field(default_factory=dict)


def rights_of(privileges: pd.Series, grantable: pd.Series, rights: Mapping[str, str]) -> pd.Series:
    """Our right (read < write < admin < owner) for each catalog privilege word.

    ``rights`` maps the catalog's words (upper case) to ours; a privilege held WITH GRANT
    OPTION is ``admin`` at least, since its holder can hand it to anyone. Words the map does
    not know are ``write`` — the safer guess for an access review — and the caller reports
    them.
    """
    for word, right in rights.items():
        if right not in _RIGHT_ORDER:
            raise ConfigError(f"right map: {word} = {right!r} is not one of {', '.join(RIGHTS)}")
    upper = privileges.astype(str).str.upper()
    mapped = upper.map(dict(rights)).fillna("write")
    rank = mapped.map(_RIGHT_ORDER).to_numpy()
    rank = np.where(grantable.to_numpy(dtype=bool), np.maximum(rank, _RIGHT_ORDER["admin"]), rank)
    return pd.Series(np.asarray(RIGHTS, dtype=object)[rank], index=privileges.index)


def _ids(source: str, native: pd.Series) -> pd.Series:
    return source + ":" + native.astype(str)


def source_tables(
    settings: SourceSettings,
    manifest: Manifest,
    catalog: Catalog,
    details: dict[str, Any],
    discovered: tuple[pd.Series, dict[str, Any]] | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """:func:`catalog_tables` for one configured source, as both flavours call it: the
    categories found by sampling (``discover = true``) put on the tables' resources first
    (where unclassified-sensitive-data compares them with the inventory), rights and
    privileged role names from the manifest. ``details`` (the source's report) gains the
    discovery summary."""
    if discovered is not None:
        categories, details["discovery"] = discovered
        catalog.objects["data_categories"] = catalog.objects["object_id"].map(categories)
    return catalog_tables(
        settings.name,
        catalog,
        rights={str(k): str(v) for k, v in manifest.section("rights").items()},
        privileged_names=[str(n) for n in manifest.section("privileged").get("names", [])],
        email_domain=settings.option("email_domain"),
    )


def catalog_tables(
    source: str,
    catalog: Catalog,
    *,
    rights: Mapping[str, str],
    privileged_names: Sequence[str] = (),
    email_domain: str | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The snapshot tables for one database server, and the counts for its report.

    ``privileged_names`` are role names flagged privileged (the manifest's predefined roles,
    like ``pg_read_all_data``); ``email_domain``, when set, gives each login role the address
    ``login@domain`` so identity correlation can match it to the directory's person.
    """
    roles = catalog.roles.reset_index(drop=True)
    edges = catalog.edges.drop_duplicates(["group", "member"]).reset_index(drop=True)
    objects = catalog.objects.drop_duplicates("object_id").reset_index(drop=True)
    privileges = catalog.privileges.reset_index(drop=True)

    has_members = roles["native_id"].isin(edges["group"])
    can_login = roles["can_login"].to_numpy(dtype=bool)
    is_group = ~can_login | has_members.to_numpy(dtype=bool)

    login_roles = roles[can_login]
    accounts = pd.DataFrame(
        {
            "account_id": _ids(source, login_roles["native_id"]),
            "system": source,
            "native_id": login_roles["native_id"],
            "login": login_roles["login"],
            "display_name": login_roles["native_id"],
            "email": (login_roles["login"] + "@" + email_domain) if email_domain else None,
            "kind": "user",
            "enabled": login_roles["enabled"].to_numpy(dtype=bool),
            "expires": login_roles["expires"],
            "last_sign_in": login_roles["last_sign_in"],
            "last_sign_in_known": login_roles["last_sign_in_known"].to_numpy(dtype=bool),
        }
    )

    group_roles = roles[is_group]
    privileged_lower = {name.casefold() for name in privileged_names}
    pseudo = [
        (PSEUDO_PREFIX + word, word, description, privileged)
        for word, (description, privileged) in catalog.flags.items()
    ]
    groups = pd.concat(
        [
            pd.DataFrame(
                {
                    "group_id": _ids(source, group_roles["native_id"]),
                    "native_id": group_roles["native_id"],
                    "name": group_roles["native_id"],
                    "kind": "group",
                    "privileged": group_roles["native_id"]
                    .str.casefold()
                    .isin(privileged_lower)
                    .to_numpy(dtype=bool),
                    "description": group_roles["description"],
                }
            ),
            pd.DataFrame(
                {
                    "group_id": [f"{source}:{p[0]}" for p in pseudo],
                    "native_id": [p[0] for p in pseudo],
                    "name": [p[1] for p in pseudo],
                    "kind": "directory-role",
                    "privileged": [p[3] for p in pseudo],
                    "description": [p[2] for p in pseudo],
                }
            ),
            pd.DataFrame(
                {
                    "group_id": [f"{source}:{EVERY_ROLE_GROUP}"],
                    "native_id": [EVERY_ROLE_GROUP],
                    "name": [PUBLIC],
                    "kind": "group",
                    "privileged": [False],
                    "description": ["every role: privileges granted to PUBLIC"],
                }
            ),
        ],
        ignore_index=True,
    ).assign(system=source)

    login_names = set(login_roles["native_id"])
    group_names = set(group_roles["native_id"])
    member_is_account = edges["member"].isin(login_names) & ~edges["member"].isin(group_names)
    flag_rows = roles[["native_id", "flags"]].explode("flags").dropna(subset=["flags"])
    flag_edges = pd.DataFrame(
        {"group": PSEUDO_PREFIX + flag_rows["flags"].astype(str), "member": flag_rows["native_id"]}
    )
    flag_is_account = flag_edges["member"].isin(login_names) & ~flag_edges["member"].isin(
        group_names
    )
    both = login_roles[login_roles["native_id"].isin(group_names)]
    memberships = pd.concat(
        [
            pd.DataFrame(
                {
                    "group_id": _ids(source, edges["group"]),
                    "member_id": _ids(source, edges["member"]),
                    "member_type": np.where(member_is_account, "account", "group"),
                }
            ),
            pd.DataFrame(
                {
                    "group_id": _ids(source, flag_edges["group"]),
                    "member_id": _ids(source, flag_edges["member"]),
                    "member_type": np.where(flag_is_account, "account", "group"),
                }
            ),
            # A login role with members: its account belongs to its own group.
            pd.DataFrame(
                {
                    "group_id": _ids(source, both["native_id"]),
                    "member_id": _ids(source, both["native_id"]),
                    "member_type": "account",
                }
            ),
            pd.DataFrame(
                {
                    "group_id": f"{source}:{EVERY_ROLE_GROUP}",
                    "member_id": _ids(source, login_roles["native_id"]),
                    "member_type": "account",
                }
            ),
        ],
        ignore_index=True,
    ).assign(assignment="active")

    resources = pd.DataFrame(
        {
            "resource_id": _ids(source, objects["object_id"]),
            "system": source,
            "name": objects["object_id"],
            "type": objects["resource_type"],
            "path": objects["path"],
            "owner": objects["owner"],
            "data_categories": objects.get("data_categories"),
            "inventoried": False,
        }
    )

    grantee_known = privileges["grantee"].isin(login_names | group_names) | (
        privileges["grantee"] == PUBLIC
    )
    # A grant to a name the role tables do not hold (a MySQL grant left behind by DROP USER,
    # a user@host spelled differently) is kept as "unresolved" with its raw name, and counted.
    held = privileges
    column_note = held["column"].fillna("")
    detail: pd.Series = (
        held["object_id"]
        + np.where(column_note != "", "(" + column_note + ")", "")
        + " "
        + held["privilege"].astype(str)
        + np.where(held["grantable"].to_numpy(dtype=bool), " WITH GRANT OPTION", "")
    )
    note = held["object_id"].map(objects.set_index("object_id")["note"]).fillna("")
    grantee_id = np.select(
        [held["grantee"] == PUBLIC, grantee_known],
        [f"{source}:{EVERY_ROLE_GROUP}", source + ":" + held["grantee"].astype(str)],
        held["grantee"].astype(str),
    )
    grantee_group = held["grantee"].isin(group_names) | (held["grantee"] == PUBLIC)
    grants = pd.DataFrame(
        {
            "principal_id": grantee_id,
            "principal_type": np.select(
                [grantee_group, grantee_known], ["group", "account"], "unresolved"
            ),
            "resource_id": _ids(source, held["object_id"]),
            "right": rights_of(held["privilege"], held["grantable"], rights),
            "path": detail + np.where(note != "", " (" + note + ")", ""),
            "system": source,
        }
    )
    owned = objects[objects["owner"].isin(login_names | group_names)]
    owner_group = owned["owner"].isin(group_names)
    grants = pd.concat(
        [
            grants,
            pd.DataFrame(
                {
                    "principal_id": _ids(source, owned["owner"]),
                    "principal_type": np.where(owner_group, "group", "account"),
                    "resource_id": _ids(source, owned["object_id"]),
                    "right": "owner",
                    "path": owned["object_id"] + " OWNER",
                    "system": source,
                }
            ),
        ],
        ignore_index=True,
    ).drop_duplicates(["principal_id", "resource_id", "path"])

    unknown_words = sorted(
        set(privileges["privilege"].astype(str).str.upper()) - {w.upper() for w in rights}
    )
    tables = {
        "accounts": TABLES["accounts"].conform(accounts, source=source),
        "groups": TABLES["groups"].conform(groups, source=source),
        "memberships": TABLES["memberships"].conform(
            memberships.drop_duplicates(["group_id", "member_id"]), source=source
        ),
        "resources": TABLES["resources"].conform(resources, source=source),
        "grants": TABLES["grants"].conform(grants, source=source),
    }
    report: dict[str, Any] = {
        "login_roles": len(login_roles),
        "group_roles": int(is_group.sum()),
        "login_roles_with_members": len(both),
        "role_attributes": {
            word: int((flag_edges["group"] == PSEUDO_PREFIX + word).sum()) for word in catalog.flags
        },
        "objects": {str(k): int(v) for k, v in objects["kind"].value_counts().items()},
        "privileges": len(privileges),
        "public_privileges": int((privileges["grantee"] == PUBLIC).sum()),
        "column_privileges": int(privileges["column"].notna().sum()),
        "privileges_of_unknown_roles": int((~grantee_known).sum()),
        "unknown_roles_examples": sorted(set(privileges.loc[~grantee_known, "grantee"]))[:10],
        "privilege_words_mapped_to_write": unknown_words,
    }
    return tables, report
