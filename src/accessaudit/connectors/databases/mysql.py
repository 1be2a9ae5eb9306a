"""MySQL and MariaDB: accounts, roles and privileges from the ``mysql`` grant tables, over TLS.

The grant tables are read directly (``mysql.user``, ``mysql.db``, ``mysql.tables_priv``,
``mysql.columns_priv``; roles from MariaDB's ``mysql.roles_mapping`` or MySQL 8's
``mysql.role_edges``), never the password columns. An account is ``user@host``: the same user
name from two hosts is two accounts (``login`` is the user name, so both correlate to the same
person). Accounts reachable from any host (``%``) are members of the pseudo-group ``any-host``.

Options of a ``[[sources]]`` table with ``connector = "mysql"``: ``host``, ``port`` (3306),
``user``, ``password_env``, ``ssl_ca`` (or ``ca_bundle``; required unless ``ssl_verify =
false``, which is reported), ``connect_timeout`` (10 s), ``statement_timeout`` (60 s),
``email_domain``, ``last_use_query`` (SQL returning user, host and last login time).
The account needs ``SELECT`` on ``mysql.*`` and, to list every table, ``SHOW DATABASES`` and
some privilege on the tables (``SELECT`` on ``*.*`` also lets discovery sample them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.databases._mysql_grants import (
    account,
    query_frame,
    role_rows,
    set_words,
    spread,
    text,
)
from accessaudit.connectors.databases.catalog import Catalog, source_tables
from accessaudit.errors import ConfigError, SourceError

__all__ = ["collect", "connect", "read_catalog", "resource_path"]

logger = logging.getLogger("accessaudit.connectors.databases.mysql")

#: The pseudo-object every global privilege applies to.
GLOBAL = "*"
_SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")


def _connect_options(settings: SourceSettings) -> dict[str, Any]:
    if "password" in settings.options:
        raise ConfigError(
            f"source {settings.name!r}: passwords never go in the config; set password_env "
            "to the name of an environment variable"
        )
    ca = settings.file_option("ssl_ca") or settings.file_option("ca_bundle")
    verify = bool(settings.option("ssl_verify", True))
    if verify and ca is None:
        raise ConfigError(
            f"source {settings.name!r}: set ssl_ca to the CA that signed the server's "
            "certificate (or ssl_verify = false to encrypt without verifying)"
        )
    options: dict[str, Any] = {
        "host": settings.option("host", "localhost"),
        "port": int(settings.option("port", 3306)),
        "user": settings.option("user"),
        "connect_timeout": int(settings.option("connect_timeout", 10)),
        "autocommit": True,
    }
    if verify:
        options.update(ssl_ca=str(ca), ssl_verify_cert=True, ssl_verify_identity=True)
    else:
        # Encrypted but unverified: PyMySQL turns TLS on when given an ssl mapping.
        options["ssl"] = {"check_hostname": False, "verify_mode": 0}
    if settings.option("password_env"):
        options["password"] = settings.secret("password_env", "MySQL password")
    return options


def _location(settings: SourceSettings) -> str:
    return f"mysql://{settings.option('host', 'localhost')}:{settings.option('port', 3306)}"


def resource_path(settings: SourceSettings, object_id: str) -> str:
    """The ``path`` a resource ``db.table`` gets: ``mysql://host:port/db/table``."""
    return _location(settings) + "/" + object_id.replace(".", "/", 1)


@contextmanager
def connect(settings: SourceSettings) -> Iterator[Any]:
    """A read-only PyMySQL connection over TLS; failures become a :class:`SourceError`."""
    try:
        import pymysql  # noqa: PLC0415  (optional extra, imported when a source uses it)
    except ImportError as error:
        raise ConfigError(
            "the mysql connector needs PyMySQL: pip install 'accessaudit[mysql]'"
        ) from error
    try:
        connection = pymysql.connect(**_connect_options(settings))
        seconds = float(settings.option("statement_timeout", 60))
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("SELECT VERSION()")
            version = str(cursor.fetchone()[0])
            # MariaDB counts max_statement_time in seconds, MySQL max_execution_time in ms.
            if "mariadb" in version.lower():
                cursor.execute(f"SET SESSION max_statement_time = {seconds:.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time = {int(seconds * 1000)}")
    except pymysql.Error as error:
        raise SourceError(str(error), source=settings.name, location=_location(settings)) from error
    try:
        yield connection
    except pymysql.Error as error:
        raise SourceError(str(error), source=settings.name, location=_location(settings)) from error
    finally:
        connection.close()


def read_catalog(
    settings: SourceSettings, manifest: Manifest, as_of: pd.Timestamp
) -> tuple[Catalog, dict[str, Any]]:
    """Read the server's grant tables; returns the catalog and report details."""
    attributes = manifest.section("role_attributes")
    flags = {
        str(word): (str(spec.get("description", word)), bool(spec.get("privileged", False)))
        for word, spec in attributes.items()
    }
    report: dict[str, Any] = {}
    with connect(settings) as connection:
        version = str(query_frame(connection, "SELECT VERSION() AS v")["v"].iloc[0])
        mariadb = "mariadb" in version.lower()
        user_columns = list(query_frame(connection, "SHOW COLUMNS FROM mysql.user")["Field"])
        privilege_columns = [c for c in user_columns if c.endswith("_priv")]
        extra = [c for c in ("is_role", "password_expired", "account_locked") if c in user_columns]
        wanted = ", ".join(f"`{c}`" for c in ["Host", "User", *privilege_columns, *extra])
        users = query_frame(connection, f"SELECT {wanted} FROM mysql.user")
        if mariadb:
            locked = query_frame(
                connection,
                "SELECT Host, User, JSON_VALUE(Priv, '$.account_locked') AS account_locked "
                "FROM mysql.global_priv",
            )
            users = users.merge(locked, on=["Host", "User"], how="left")
            edges = query_frame(
                connection, "SELECT Host, User, Role, Admin_option FROM mysql.roles_mapping"
            )
        else:
            edges = query_frame(
                connection,
                "SELECT TO_HOST AS Host, TO_USER AS User, FROM_USER AS Role, "
                "FROM_HOST AS RoleHost, WITH_ADMIN_OPTION AS Admin_option FROM mysql.role_edges",
            )
        db_columns = list(query_frame(connection, "SHOW COLUMNS FROM mysql.db")["Field"])
        db_privilege_columns = [c for c in db_columns if c.endswith("_priv")]
        db_wanted = ", ".join(f"`{c}`" for c in ["Host", "Db", "User", *db_privilege_columns])
        dbs = query_frame(connection, f"SELECT {db_wanted} FROM mysql.db")
        tables_priv = query_frame(
            connection, "SELECT Host, Db, User, Table_name, Table_priv FROM mysql.tables_priv"
        )
        columns_priv = query_frame(
            connection,
            "SELECT Host, Db, User, Table_name, Column_name, Column_priv FROM mysql.columns_priv",
        )
        system = ", ".join(f"'{s}'" for s in _SYSTEM_SCHEMAS)
        listed = query_frame(
            connection,
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA NOT IN ({system})",
        )
        schemata = query_frame(
            connection,
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
            f"WHERE SCHEMA_NAME NOT IN ({system})",
        )
        last_use = _last_use(settings, connection, report)
    report["server_version"] = version

    for frame in (users, edges, dbs, tables_priv, columns_priv, listed, schemata):
        for column in frame.columns:
            frame[column] = text(frame[column])
    is_role = (
        users["is_role"].astype(str).eq("Y")
        if "is_role" in users
        else pd.Series(False, index=users.index)
    )
    if not mariadb:
        # MySQL 8 roles are locked accounts that appear as the source of a role edge.
        role_keys = set(account(edges["Role"], edges["RoleHost"])) if len(edges) else set()
        is_role = account(users["User"], users["Host"]).isin(role_keys)
    users = users.assign(is_role=is_role)
    # MariaDB roles have no host: their id is the bare role name.
    users["native_id"] = users["User"].where(
        users["is_role"], account(users["User"], users["Host"])
    )
    roles = role_rows(users, privilege_columns, flags, as_of, last_use)

    role_id = edges["Role"] if mariadb else account(edges["Role"], edges["RoleHost"])
    member_is_role = edges["Host"].astype(str).eq("") & mariadb
    member_id = edges["User"].where(member_is_role, account(edges["User"], edges["Host"]))
    edge_frame = pd.DataFrame({"group": role_id.astype(str), "member": member_id.astype(str)})

    grantee = users.set_index(["User", "Host"])["native_id"]

    def named(frame: pd.DataFrame) -> pd.DataFrame:
        keys = pd.MultiIndex.from_frame(frame[["User", "Host"]].astype(str))
        found = grantee.reindex(keys).to_numpy()
        fallback = account(frame["User"].astype(str), frame["Host"].astype(str))
        return frame.assign(grantee=pd.Series(found, index=frame.index).fillna(fallback))

    users_named = users.assign(grantee=users["native_id"])
    dbs = named(dbs)
    tables_priv = named(tables_priv)
    columns_priv = named(columns_priv)
    global_privs = spread(
        users_named,
        [c for c in privilege_columns if c != "Grant_priv"],
        pd.Series(GLOBAL, index=users_named.index),
    )
    privileges = pd.concat(
        [
            global_privs,
            spread(dbs, [c for c in db_privilege_columns if c != "Grant_priv"], dbs["Db"]),
            set_words(
                tables_priv, "Table_priv", tables_priv["Db"] + "." + tables_priv["Table_name"]
            ),
            set_words(
                columns_priv, "Column_priv", columns_priv["Db"] + "." + columns_priv["Table_name"]
            ),
        ],
        ignore_index=True,
    )
    base = _location(settings)
    table_ids = pd.concat(
        [
            listed["TABLE_SCHEMA"] + "." + listed["TABLE_NAME"],
            tables_priv["Db"] + "." + tables_priv["Table_name"],
        ],
        ignore_index=True,
    )
    kinds = pd.concat(
        [
            listed["TABLE_TYPE"].astype(str).str.lower().replace({"base table": "table"}),
            pd.Series("table", index=tables_priv.index),
        ],
        ignore_index=True,
    )
    database_ids = pd.concat([schemata["SCHEMA_NAME"], dbs["Db"]], ignore_index=True)
    objects = pd.concat(
        [
            pd.DataFrame(
                {
                    "object_id": [GLOBAL],
                    "kind": ["server (global privileges)"],
                    "resource_type": ["database"],
                    "path": [base],
                    "owner": [None],
                    "note": ["applies to every database"],
                }
            ),
            pd.DataFrame(
                {
                    "object_id": database_ids,
                    "kind": database_ids.str.contains(r"[%_]", regex=True).map(
                        {True: "database or pattern", False: "database"}
                    ),
                    "resource_type": "database",
                    "path": base + "/" + database_ids,
                    "owner": None,
                    "note": "",
                }
            ),
            pd.DataFrame(
                {
                    "object_id": table_ids,
                    "kind": kinds,
                    "resource_type": "database",
                    "path": base + "/" + table_ids.str.replace(".", "/", n=1, regex=False),
                    "owner": None,
                    "note": "",
                }
            ),
        ],
        ignore_index=True,
    )
    report.update(
        {
            "flavour": "mariadb" if mariadb else "mysql",
            "accounts_from_any_host": int(
                (users["Host"].astype(str).eq("%") & ~users["is_role"]).sum()
            ),
            "database_patterns": sorted(
                set(dbs["Db"][dbs["Db"].astype(str).str.contains(r"%|(?<!\\)_", regex=True)])
            ),
            "role_grants_with_admin_option": int(
                edges["Admin_option"].astype(str).isin(["Y", "1"]).sum()
            )
            if len(edges)
            else 0,
        }
    )
    return (
        Catalog(roles=roles, edges=edge_frame, objects=objects, privileges=privileges, flags=flags),
        report,
    )


def _last_use(
    settings: SourceSettings, connection: Any, report: dict[str, Any]
) -> pd.Series | None:
    """Last login per ``user@host`` from ``last_use_query`` (user, host, time); else None."""
    query = settings.option("last_use_query")
    if not query:
        report["last_sign_in"] = "unknown: the grant tables do not record logins"
        return None
    import pymysql  # noqa: PLC0415  (already imported by connect)

    try:
        frame = query_frame(connection, str(query))
    except pymysql.Error as error:
        report["last_sign_in"] = f"unknown: last_use_query failed ({error})"
        return None
    if frame.shape[1] < 3:
        raise ConfigError(
            f"source {settings.name!r}: last_use_query must return user, host and login time"
        )
    key = account(text(frame.iloc[:, 0]).astype(str), text(frame.iloc[:, 1]).astype(str))
    times = pd.to_datetime(frame.iloc[:, 2], utc=True, errors="coerce")
    last = times.groupby(key).max()
    report["last_sign_in"] = f"from last_use_query ({len(last)} accounts seen)"
    return last


def collect(
    settings: SourceSettings,
    manifest: Manifest,
    context: CollectContext,
    *,
    discovered: tuple[pd.Series, dict[str, Any]] | None = None,
) -> SourceResult:
    """Read one MySQL or MariaDB server into accounts, groups, memberships, resources, grants.

    >>> # [[sources]] name = "shop" connector = "mysql" host = "db2" user = "auditor"
    >>> # password_env = "SHOP_DB_PASSWORD" ssl_ca = "ca.pem"
    """
    catalog, details = read_catalog(settings, manifest, context.as_of)
    tables, counts = source_tables(settings, manifest, catalog, details, discovered)
    if not settings.option("ssl_verify", True):
        details["warnings"] = ["ssl_verify = false: the server's certificate is not verified"]
    details["note"] = (
        "global privileges are grants on the resource '*' (every database); SUPER, global "
        "GRANT OPTION and ALL PRIVILEGES also appear as privileged pseudo-groups"
    )
    report = {**counts, **details, "mfa_known": False}
    logger.info(
        "%s: %s accounts, %s grants", settings.name, counts["login_roles"], len(tables["grants"])
    )
    return SourceResult(settings.name, settings.connector, tables, report)
