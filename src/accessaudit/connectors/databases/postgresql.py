"""PostgreSQL: roles, memberships and privileges from the system catalogs, over verified TLS.

The catalogs are read directly (``pg_roles``, ``pg_auth_members``, ``pg_class.relacl`` …
exploded with ``aclexplode``), not ``information_schema``, whose privilege views show only
what the auditor's own roles can see. Roles are cluster-wide and read once; objects and their
privileges are read in every database the account may connect to, each over its own
read-only connection (``default_transaction_read_only``, a statement timeout).

Options of a ``[[sources]]`` table with ``connector = "postgresql"``:
``host``, ``port`` (5432), ``user``, ``dbname`` (the first database, ``postgres``),
``password_env`` (else ``~/.pgpass`` or the service file, as libpq does), ``service``,
``sslmode`` (``verify-full``; ``verify-ca`` and ``require`` are allowed and reported, anything
that permits plaintext is refused), ``sslrootcert`` (or ``ca_bundle``), ``databases`` /
``exclude_databases`` (names), ``connect_timeout`` (10 s), ``statement_timeout`` (60 s),
``email_domain`` (login roles get ``login@domain`` for correlation), ``last_use_query`` (SQL
returning role name and last login time, e.g. from a login-event table).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pandas as pd

from accessaudit.connectors.base import CollectContext, Manifest, SourceResult, SourceSettings
from accessaudit.connectors.databases._pg_sql import (
    DATABASES_SQL,
    DEFAULT_PRIVILEGES_SQL,
    ENCRYPTED_MODES,
    FUNCTIONS_SQL,
    MEMBERS_SQL,
    RELATION_KINDS,
    RELATION_PRIVILEGES_SQL,
    RELATIONS_SQL,
    ROLES_SQL,
    SCHEMAS_SQL,
    VERIFIED_MODES,
)
from accessaudit.connectors.databases.catalog import Catalog, source_tables
from accessaudit.errors import ConfigError, SourceError

__all__ = ["collect", "connect", "list_databases", "read_catalog", "resource_path"]

logger = logging.getLogger("accessaudit.connectors.databases.postgresql")

_BOOLEAN_OID = 16
_INTEGER_OIDS = frozenset({20, 21, 23})  # int8, int2, int4


def _connect_options(settings: SourceSettings) -> dict[str, Any]:
    """libpq keywords for this source, checked: TLS on, certificate verified by default."""
    sslmode = str(settings.option("sslmode", "verify-full"))
    if sslmode not in ENCRYPTED_MODES:
        raise ConfigError(
            f"source {settings.name!r}: sslmode {sslmode!r} allows an unencrypted connection; "
            f"use one of {', '.join(ENCRYPTED_MODES)}"
        )
    if "password" in settings.options:
        raise ConfigError(
            f"source {settings.name!r}: passwords never go in the config; set password_env "
            "to the name of an environment variable, or use ~/.pgpass"
        )
    statement_ms = int(float(settings.option("statement_timeout", 60)) * 1000)
    options: dict[str, Any] = {
        "host": settings.option("host"),
        "port": settings.option("port"),
        "user": settings.option("user"),
        "service": settings.option("service"),
        "sslmode": sslmode,
        "connect_timeout": int(settings.option("connect_timeout", 10)),
        "application_name": "accessaudit",
        "options": f"-c default_transaction_read_only=on -c statement_timeout={statement_ms}",
    }
    root = settings.file_option("sslrootcert") or settings.file_option("ca_bundle")
    if root is not None:
        options["sslrootcert"] = str(root)
    if settings.option("password_env"):
        options["password"] = settings.secret("password_env", "PostgreSQL password")
    return {key: value for key, value in options.items() if value not in (None, "")}


def _location(settings: SourceSettings, dbname: str) -> str:
    host = settings.option("host") or settings.option("service") or "localhost"
    return f"postgresql://{host}:{settings.option('port', 5432)}/{dbname}"


def resource_path(settings: SourceSettings, object_id: str) -> str:
    """The ``path`` a resource ``db.schema.table`` gets: ``postgresql://host:port/db/schema/table``."""
    db, _, inside = object_id.partition(".")
    base = _location(settings, db)
    return base + "/" + inside.replace(".", "/", 1) if inside else base


@contextmanager
def connect(settings: SourceSettings, dbname: str | None = None) -> Iterator[Any]:
    """A read-only psycopg connection to ``dbname`` (default: the ``dbname`` option).

    Connection failures (refused, TLS, authentication) become a :class:`SourceError` naming
    the source and the server.
    """
    try:
        import psycopg  # noqa: PLC0415  (optional extra, imported when a source uses it)
    except ImportError as error:
        raise ConfigError(
            "the postgresql connector needs psycopg: pip install 'accessaudit[postgresql]'"
        ) from error
    name = dbname or str(settings.option("dbname", "postgres"))
    try:
        connection = psycopg.connect(dbname=name, autocommit=True, **_connect_options(settings))
    except psycopg.Error as error:
        raise SourceError(
            str(error).strip(), source=settings.name, location=_location(settings, name)
        ) from error
    try:
        yield connection
    except psycopg.Error as error:
        raise SourceError(
            str(error).strip(), source=settings.name, location=_location(settings, name)
        ) from error
    finally:
        connection.close()


def _frame(connection: Any, sql: str) -> pd.DataFrame:
    """The rows of ``sql`` as a DataFrame, read with ``COPY (...) TO STDOUT`` as CSV.

    A million ACL entries fetched row by row through the pure-Python driver cost a ctypes
    call per cell; COPY streams the same rows as text that pandas' C parser reads at once.
    Column types come from the query's description (an empty ``LIMIT 0`` run): booleans
    (``t``/``f``) and integers are converted, everything else stays text (NULL is NaN).
    """
    query = sql.strip().rstrip(";")
    shape = connection.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
    columns = [(d.name, d.type_code) for d in shape.description]
    names = [name for name, _ in columns]
    buffer = io.BytesIO()
    with connection.cursor().copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            buffer.write(block)
    if not buffer.getbuffer().nbytes:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in names})
    buffer.seek(0)
    frame = pd.read_csv(
        buffer, header=None, names=names, dtype=str, keep_default_na=False, na_values=[""]
    )
    for name, type_oid in columns:
        if type_oid == _BOOLEAN_OID:
            frame[name] = frame[name].map({"t": True, "f": False})
        elif type_oid in _INTEGER_OIDS:
            frame[name] = pd.to_numeric(frame[name])
    return frame


def list_databases(settings: SourceSettings, connection: Any) -> tuple[pd.DataFrame, list[str]]:
    """The databases' privilege rows, and the names of those to read (connectable, selected)."""
    databases = _frame(connection, DATABASES_SQL)
    wanted = settings.option("databases")
    excluded = set(settings.option("exclude_databases", ()))
    names = sorted(set(databases["datname"]))
    if wanted:
        names = [n for n in names if n in set(wanted)]
    names = [n for n in names if n not in excluded]
    return databases, names


def read_catalog(
    settings: SourceSettings, manifest: Manifest, as_of: pd.Timestamp
) -> tuple[Catalog, dict[str, Any]]:
    """Read the whole cluster's catalog; returns it and the collection report's details."""
    report: dict[str, Any] = {}
    flags = {
        str(word): (str(spec.get("description", word)), bool(spec.get("privileged", False)))
        for word, spec in manifest.section("role_attributes").items()
    }
    with connect(settings) as connection:
        version = int(connection.info.server_version)
        roles = _frame(connection, ROLES_SQL)
        inherit = "am.inherit_option" if version >= 160000 else "m.rolinherit"
        edges = _frame(connection, MEMBERS_SQL.format(inherit=inherit))
        databases, names = list_databases(settings, connection)
        last_use = _last_use(settings, connection, report)
    report["server_version"] = version
    can_connect = databases.drop_duplicates("datname").set_index("datname")["can_connect"]
    objects: list[pd.DataFrame] = []
    privileges: list[pd.DataFrame] = []
    default_rows: list[pd.DataFrame] = []
    unreadable: dict[str, str] = {}
    for db in names:
        owner_row = databases[databases["datname"] == db].iloc[0]
        objects.append(_objects(settings, db, None, str(owner_row["owner"]), "database"))
        rows = databases[(databases["datname"] == db) & databases["grantee"].notna()]
        rows = rows[rows["grantee"] != rows["owner"]]
        privileges.append(_privileges(rows, db))
        if not bool(can_connect.get(db, False)):
            unreadable[db] = "no CONNECT privilege for the audit account"
            continue
        try:
            with connect(settings, db) as connection:
                db_objects, db_privileges, defaults = _read_database(settings, connection, db)
        except SourceError as error:
            unreadable[db] = str(error)
            continue
        objects.append(db_objects)
        privileges.append(db_privileges)
        default_rows.append(defaults.assign(database=db))
    role_frame = _roles(roles, flags, as_of, last_use)
    edge_frame = pd.DataFrame(
        {"group": edges["group"].astype(str), "member": edges["member"].astype(str)}
    )
    report.update(
        {
            "databases_read": [n for n in names if n not in unreadable],
            "databases_not_read": unreadable,
            "memberships_with_admin_option": int(edges["admin_option"].astype(bool).sum()),
            "memberships_without_inherit": int((~edges["inherit"].astype(bool)).sum()),
            "row_level_security": _rls_report(objects),
            "default_privileges": _future_grants(default_rows),
        }
    )
    catalog = Catalog(
        roles=role_frame,
        edges=edge_frame,
        objects=pd.concat(objects, ignore_index=True),
        privileges=pd.concat(privileges, ignore_index=True),
        flags=flags,
    )
    return catalog, report


def _roles(
    roles: pd.DataFrame,
    flags: Mapping[str, tuple[str, bool]],
    as_of: pd.Timestamp,
    last_use: pd.Series | None,
) -> pd.DataFrame:
    held: pd.Series = pd.Series([[] for _ in range(len(roles))], index=roles.index, dtype=object)
    for word in flags:
        if word in roles.columns:
            has = roles[word].astype(bool)
            held = held.where(~has, held.map(lambda f, w=word: [*f, w]))
    expires = pd.to_datetime(roles["rolvaliduntil"], utc=True)
    can_login = roles["rolcanlogin"].astype(bool)
    name = roles["rolname"].astype(str)
    seen = name.map(last_use) if last_use is not None else pd.Series(pd.NaT, index=roles.index)
    return pd.DataFrame(
        {
            "native_id": name,
            "login": name,
            "can_login": can_login,
            # A password past rolvaliduntil no longer authenticates: the login is disabled.
            "enabled": can_login & ~(expires < as_of).fillna(False).astype(bool),
            "expires": expires,
            "flags": held,
            "description": roles["description"],
            "last_sign_in": pd.to_datetime(seen, utc=True),
            "last_sign_in_known": last_use is not None,
        }
    )


def _last_use(
    settings: SourceSettings, connection: Any, report: dict[str, Any]
) -> pd.Series | None:
    """Last login per role from ``last_use_query``, when configured and readable; else
    None: PostgreSQL's catalog does not record logins, so sign-ins are unknown."""
    query = settings.option("last_use_query")
    if not query:
        report["last_sign_in"] = "unknown: the catalog does not record logins"
        return None
    try:
        frame = _frame(connection, str(query))
    except Exception as error:  # psycopg.Error: the driver is imported lazily
        if type(error).__module__.startswith("psycopg"):
            report["last_sign_in"] = f"unknown: last_use_query failed ({error})"
            return None
        raise
    if frame.shape[1] < 2:
        raise ConfigError(
            f"source {settings.name!r}: last_use_query must return role name and login time"
        )
    times = pd.to_datetime(frame.iloc[:, 1], utc=True, errors="coerce")
    last = times.groupby(frame.iloc[:, 0].astype(str)).max()
    report["last_sign_in"] = f"from last_use_query ({len(last)} roles seen)"
    return last


def _objects(
    settings: SourceSettings, db: str, frame: pd.DataFrame | None, owner: str, kind: str
) -> pd.DataFrame:
    base = _location(settings, db)
    if frame is None:
        return pd.DataFrame(
            {
                "object_id": [db],
                "kind": [kind],
                "resource_type": ["database"],
                "path": [base],
                "owner": [owner],
                "note": [""],
            }
        )
    inside = frame["object_id"].str.split(".", n=1).str[1]
    return frame.assign(path=base + "/" + inside.str.replace(".", "/", n=1, regex=False))


def _privileges(rows: pd.DataFrame, object_id: str | pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "grantee": rows["grantee"].astype(str),
            "object_id": object_id,
            "privilege": rows["privilege_type"].astype(str),
            "grantable": rows["is_grantable"].astype(bool),
            "column": rows["attname"] if "attname" in rows.columns else None,
        }
    )


def _read_database(
    settings: SourceSettings, connection: Any, db: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """One database's schemas, relations, functions, their privileges, its default ACLs."""
    schemas = _frame(connection, SCHEMAS_SQL)
    relations = _frame(connection, RELATIONS_SQL)
    relation_privileges = _frame(connection, RELATION_PRIVILEGES_SQL)
    functions = _frame(connection, FUNCTIONS_SQL)
    defaults = _frame(connection, DEFAULT_PRIVILEGES_SQL)

    schema_list = schemas.drop_duplicates("nspname")
    policies = relations["policies"].astype(int)
    rls = relations["relrowsecurity"].astype(bool)
    note = pd.Series("", index=relations.index, dtype=object)
    note = note.where(~rls, "row-level security on, " + policies.astype(str) + " policies").where(
        ~(rls & relations["relforcerowsecurity"].astype(bool)), note + ", forced for owner"
    )
    function_list = functions.drop_duplicates(["nspname", "signature"])
    objects = pd.concat(
        [
            pd.DataFrame(
                {
                    "object_id": db + "." + schema_list["nspname"],
                    "kind": "schema",
                    "resource_type": "database",
                    "owner": schema_list["owner"],
                    "note": "",
                }
            ),
            pd.DataFrame(
                {
                    "object_id": db + "." + relations["nspname"] + "." + relations["relname"],
                    "kind": relations["relkind"].map(RELATION_KINDS),
                    "resource_type": (relations["relkind"] == "S").map(
                        {True: "other", False: "database"}
                    ),
                    "owner": relations["owner"],
                    "note": note,
                    "rls": rls,
                }
            ),
            pd.DataFrame(
                {
                    "object_id": db
                    + "."
                    + function_list["nspname"]
                    + "."
                    + function_list["signature"],
                    "kind": function_list["prosecdef"].map(
                        {True: "function (security definer)", False: "function"}
                    ),
                    "resource_type": "other",
                    "owner": function_list["owner"],
                    "note": "",
                }
            ),
        ],
        ignore_index=True,
    )
    objects = _objects(settings, db, objects, "", "")
    schema_grants = schemas[schemas["grantee"].notna()]
    function_grants = functions[functions["grantee"].notna()]
    privileges = pd.concat(
        [
            _privileges(schema_grants, db + "." + schema_grants["nspname"]),
            _privileges(
                relation_privileges,
                db + "." + relation_privileges["nspname"] + "." + relation_privileges["relname"],
            ),
            _privileges(
                function_grants,
                db + "." + function_grants["nspname"] + "." + function_grants["signature"],
            ),
        ],
        ignore_index=True,
    )
    return objects, privileges, defaults


def _rls_report(objects: list[pd.DataFrame]) -> dict[str, Any]:
    frames = [f for f in objects if "rls" in f.columns]
    if not frames:
        return {"tables_with_rls": 0}
    relations = pd.concat(frames, ignore_index=True)
    on = relations[relations["rls"].fillna(False).astype(bool)]
    return {"tables_with_rls": len(on), "tables": on["object_id"].head(100).tolist()}


def _future_grants(frames: list[pd.DataFrame]) -> dict[str, Any]:
    """``ALTER DEFAULT PRIVILEGES`` entries: grants every future object will carry."""
    if not frames:
        return {"count": 0, "entries": []}
    rows = pd.concat(frames, ignore_index=True)
    entries = [
        {
            "database": str(r.database),
            "for_objects_created_by": str(r.role),
            "schema": r.schema if isinstance(r.schema, str) else None,
            "object_type": str(r.object_type),
            "grantee": str(r.grantee),
            "privilege": str(r.privilege_type),
            "grantable": bool(r.is_grantable),
        }
        for r in rows.head(1000).itertuples()
    ]
    return {"count": len(rows), "entries": entries}


def collect(
    settings: SourceSettings,
    manifest: Manifest,
    context: CollectContext,
    *,
    discovered: tuple[pd.Series, dict[str, Any]] | None = None,
) -> SourceResult:
    """Read one PostgreSQL cluster into accounts, groups, memberships, resources, grants.

    >>> # [[sources]] name = "pg" connector = "postgresql" host = "db1" user = "auditor"
    >>> # password_env = "PG_AUDIT_PASSWORD" sslrootcert = "ca.pem"
    """
    catalog, details = read_catalog(settings, manifest, context.as_of)
    tables, counts = source_tables(settings, manifest, catalog, details, discovered)
    if settings.option("sslmode", "verify-full") not in VERIFIED_MODES:
        details["warnings"] = ["sslmode=require: the server's certificate is not verified"]
    details["note"] = (
        "superusers and rolbypassrls roles reach every table; they appear as members of the "
        "privileged pseudo-groups, not as a grant on each table"
    )
    report = {**counts, **details, "mfa_known": False}
    logger.info(
        "%s: %s login roles, %s grants", settings.name, counts["login_roles"], len(tables["grants"])
    )
    return SourceResult(settings.name, settings.connector, tables, report)
