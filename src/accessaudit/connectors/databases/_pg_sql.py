"""The SQL the postgresql connector sends: catalog reads only, never information_schema.

Every privilege comes from ``aclexplode`` over a catalog ACL (``pg_database.datacl``,
``pg_namespace.nspacl``, ``pg_class.relacl``, ``pg_attribute.attacl``, ``pg_proc.proacl``,
``pg_default_acl.defaclacl``); grantee 0 is ``PUBLIC``.
"""

from __future__ import annotations

__all__ = [
    "DATABASES_SQL",
    "DEFAULT_PRIVILEGES_SQL",
    "ENCRYPTED_MODES",
    "FUNCTIONS_SQL",
    "MEMBERS_SQL",
    "RELATIONS_SQL",
    "RELATION_KINDS",
    "RELATION_PRIVILEGES_SQL",
    "ROLES_SQL",
    "SCHEMAS_SQL",
    "VERIFIED_MODES",
]

VERIFIED_MODES = ("verify-full", "verify-ca")
ENCRYPTED_MODES = (*VERIFIED_MODES, "require")
_USER_SCHEMA = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
_GRANTEE = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"

ROLES_SQL = """
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls,
       CASE WHEN isfinite(r.rolvaliduntil) THEN r.rolvaliduntil END AS rolvaliduntil,
       shobj_description(r.oid, 'pg_authid') AS description
FROM pg_catalog.pg_roles r
ORDER BY r.rolname
"""

MEMBERS_SQL = """
SELECT g.rolname AS "group", m.rolname AS member, am.admin_option, {inherit} AS inherit
FROM pg_catalog.pg_auth_members am
JOIN pg_catalog.pg_roles g ON g.oid = am.roleid
JOIN pg_catalog.pg_roles m ON m.oid = am.member
"""

DATABASES_SQL = f"""
SELECT d.datname, pg_get_userbyid(d.datdba) AS owner,
       has_database_privilege(d.datname, 'CONNECT') AS can_connect,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_database d
LEFT JOIN LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a ON true
WHERE d.datallowconn AND NOT d.datistemplate
"""

SCHEMAS_SQL = f"""
SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_namespace n
LEFT JOIN LATERAL aclexplode(n.nspacl) a ON a.grantee <> n.nspowner
WHERE {_USER_SCHEMA}
"""

RELATIONS_SQL = f"""
SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner) AS owner,
       c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid) AS policies
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {_USER_SCHEMA}
"""

# An object whose ACL is NULL has the built-in default: everything for the owner (the owner
# grant covers it) and nothing for anyone else, so only explicit ACLs are exploded.
RELATION_PRIVILEGES_SQL = f"""
SELECT n.nspname, c.relname, NULL::text AS attname,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a
WHERE c.relacl IS NOT NULL AND a.grantee <> c.relowner
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {_USER_SCHEMA}
UNION ALL
SELECT n.nspname, c.relname, att.attname,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_attribute att
JOIN pg_catalog.pg_class c ON c.oid = att.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(att.attacl) a
WHERE att.attacl IS NOT NULL AND att.attnum > 0 AND NOT att.attisdropped
  AND {_USER_SCHEMA}
"""

# Functions keep the built-in default (EXECUTE for PUBLIC) when their ACL is NULL, so that
# default is exploded too: a SECURITY DEFINER function anyone may call is an access path.
FUNCTIONS_SQL = f"""
SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
       AS signature, pg_get_userbyid(p.proowner) AS owner, p.prosecdef,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
  ON a.grantee <> p.proowner
WHERE {_USER_SCHEMA}
"""

DEFAULT_PRIVILEGES_SQL = f"""
SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema,
       CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
            WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas'
            ELSE d.defaclobjtype::text END AS object_type,
       {_GRANTEE} AS grantee, a.privilege_type, a.is_grantable
FROM pg_catalog.pg_default_acl d
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
"""

RELATION_KINDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
}
