"""The postgresql connector against a real PostgreSQL cluster started for these tests (TLS).

The cluster (tests/servers/postgres.py) holds the organisation of tests/servers/pg_fixture.py.
Without the Debian ``postgresql`` package or psycopg the tests skip with the reason; with
``CI=true`` they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.collection import build_snapshot, collect
from accessaudit.config import load_config
from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.databases import collect_postgresql
from accessaudit.errors import ConfigError, SourceError
from accessaudit.policy import Policy

try:
    from servers import require_binaries, require_module
    from servers.pg_fixture import AUDITOR, AUDITOR_PASSWORD, CLUSTER_SQL, CRM_SQL, HR_SQL
    from servers.postgres import PostgresServer, postgres_bin
except ImportError:  # pragma: no cover - run from the repository root
    from tests.servers import require_binaries, require_module
    from tests.servers.pg_fixture import AUDITOR, AUDITOR_PASSWORD, CLUSTER_SQL, CRM_SQL, HR_SQL
    from tests.servers.postgres import PostgresServer, postgres_bin

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
PASSWORD_VARIABLE = "AA_TEST_PG_PASSWORD"


def _require_postgres() -> None:
    require_module("psycopg", "psycopg (pip install 'accessaudit[postgresql]')")
    if postgres_bin("initdb") is None or postgres_bin("postgres") is None:
        require_binaries("postgresql", "initdb", "postgres")


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """A running cluster holding the fixture organisation."""
    _require_postgres()
    with PostgresServer() as running:
        running.sql(CLUSTER_SQL)
        running.sql(CRM_SQL, dbname="crm")
        running.sql(HR_SQL, dbname="hr")
        yield running


def settings(server: PostgresServer, **extra: object) -> SourceSettings:
    options: dict[str, object] = {
        "host": "127.0.0.1",
        "port": server.port,
        "user": AUDITOR,
        "password_env": PASSWORD_VARIABLE,
        "sslrootcert": str(server.ca_cert),
        **extra,
    }
    return SourceSettings(name="pg", connector="postgresql", options=options)


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, AUDITOR_PASSWORD)


def _collect(source: SourceSettings) -> SourceResult:
    manifest = find_manifests()["postgresql"]
    return collect_postgresql(source, manifest, CollectContext(as_of=AS_OF))


@pytest.fixture(scope="module")
def result(server: PostgresServer) -> SourceResult:
    os.environ[PASSWORD_VARIABLE] = AUDITOR_PASSWORD
    try:
        return _collect(settings(server))
    finally:
        del os.environ[PASSWORD_VARIABLE]


def _grants(result: SourceResult, resource: str) -> set[tuple[str, str]]:
    g = result.tables["grants"]
    rows = g[g["resource_id"] == f"pg:{resource}"]
    return set(zip(rows["principal_id"], rows["right"].astype(str), strict=True))


def test_login_roles_are_accounts_and_the_rest_are_groups(result: SourceResult) -> None:
    accounts = result.tables["accounts"].set_index("login")
    assert {"alice", "bob", "carol", "dave", "erin", "svc_app", "team_lead", AUDITOR} <= set(
        accounts.index
    )
    assert "readers" not in accounts.index
    groups = result.tables["groups"].set_index("name")
    assert {"readers", "analysts", "dba_team", "app_owner", "PUBLIC"} <= set(groups.index)
    # erin's password expired in 2001: the login no longer works, the row says so.
    assert not accounts.loc["erin", "enabled"]
    assert accounts.loc["erin", "expires"].year == 2001
    assert accounts.loc["bob", "enabled"]
    # Logins are not in the catalog: unknown, never "never used".
    assert not accounts["last_sign_in_known"].any()
    assert result.report["last_sign_in"].startswith("unknown")


def test_role_attributes_become_privileged_pseudo_groups(result: SourceResult) -> None:
    groups = result.tables["groups"].set_index("group_id")
    assert groups.loc["pg:@rolsuper", "privileged"]
    assert groups.loc["pg:@rolbypassrls", "privileged"]
    assert groups.loc["pg:@rolcreaterole", "privileged"]
    assert not groups.loc["pg:@rolcreatedb", "privileged"]
    assert groups.loc["pg:pg_read_all_data", "privileged"]
    members = result.tables["memberships"]
    supers = set(members.loc[members["group_id"] == "pg:@rolsuper", "member_id"])
    assert supers == {"pg:alice", "pg:postgres"}
    assert "pg:carol" in set(members.loc[members["group_id"] == "pg:@rolbypassrls", "member_id"])
    # dba_team holds CREATEROLE as a group: carol gets it through nesting.
    assert ("pg:@rolcreaterole", "pg:dba_team", "group") in set(
        zip(members["group_id"], members["member_id"], members["member_type"], strict=True)
    )


def test_nested_memberships_resolve_at_any_depth(result: SourceResult) -> None:
    snapshot = build_snapshot([result], as_of=AS_OF)
    effective = snapshot.effective_memberships
    bob = effective[effective["account_id"] == "pg:bob"].set_index("group_id")
    assert bob.loc["pg:analysts", "depth"] == 1
    assert bob.loc["pg:readers", "depth"] == 2
    # A login role with members (team_lead) is also a group: erin reaches analysts through it.
    erin = effective[effective["account_id"] == "pg:erin"].set_index("group_id")
    assert erin.loc["pg:analysts", "depth"] == 2
    assert result.report["memberships_with_admin_option"] >= 1
    assert result.report["memberships_without_inherit"] >= 1  # dave is NOINHERIT


def test_table_column_public_and_grant_option_privileges(result: SourceResult) -> None:
    assert ("pg:readers", "read") in _grants(result, "crm.sales.customers")
    assert ("pg:app_owner", "owner") in _grants(result, "crm.sales.customers")
    assert ("pg:@public", "read") in _grants(result, "crm.sales.orders")
    assert ("pg:analysts", "admin") in _grants(result, "crm.sales.orders")  # WITH GRANT OPTION
    assert ("pg:svc_app", "read") in _grants(result, "crm.sales.v_orders")
    assert ("pg:@public", "read") in _grants(result, "crm.sales.refund(order_id integer)")
    g = result.tables["grants"]
    column = g[(g["principal_id"] == "pg:bob") & (g["resource_id"] == "pg:crm.sales.customers")]
    assert set(column["path"]) == {
        "crm.sales.customers(email) UPDATE",
        "crm.sales.customers(phone) UPDATE",
    }
    assert set(column["principal_type"].astype(str)) == {"account"}
    # The owner is exempt from RLS unless it is forced; everyone else's rows are filtered.
    rls = g[(g["resource_id"] == "pg:crm.sales.orders") & (g["right"] != "owner")]["path"]
    assert len(rls) == 2
    assert rls.str.contains("row-level security on, 1 policies").all()
    assert result.report["row_level_security"]["tables"] == ["crm.sales.orders"]
    # hr refuses CONNECT to PUBLIC: its database resource is there, its tables are reported.
    assert "hr" in result.report["databases_not_read"]
    resources = set(result.tables["resources"]["resource_id"])
    assert {"pg:hr", "pg:crm", "pg:crm.sales", "pg:crm.sales.customers"} <= resources
    assert not any(r.startswith("pg:hr.") for r in resources)


def test_default_privileges_are_reported_as_future_grants(result: SourceResult) -> None:
    future = result.report["default_privileges"]
    assert {
        "database": "crm",
        "for_objects_created_by": "app_owner",
        "schema": "sales",
        "object_type": "tables",
        "grantee": "readers",
        "privilege": "SELECT",
        "grantable": False,
    } in future["entries"]


def test_excess_privilege_fires_for_an_unapproved_human_superuser(result: SourceResult) -> None:
    snapshot = build_snapshot([result], as_of=AS_OF)
    policy = Policy(approved={"rolsuper": ("postgres",)})
    findings = run_audit(snapshot, policy, rules=["excess-privilege"]).findings
    flagged = set(zip(findings["subject_name"], findings["entitlement"], strict=True))
    assert ("alice", "rolsuper") in flagged
    assert ("postgres", "rolsuper") not in flagged  # approved
    assert ("carol", "rolbypassrls") in flagged
    assert ("carol", "rolcreaterole") in flagged  # through dba_team
    assert ("auditor", "pg_read_all_data") in flagged


def test_login_roles_correlate_to_people_through_the_snapshot(
    server: PostgresServer, tmp_path: Path, password: None
) -> None:
    (tmp_path / "hr.csv").write_text(
        "employee_id,name,email,department,title,manager_id,status,worker_type,start_date,end_date\n"
        "E1,Bob Builder,bob@corp.example,Sales,Analyst,,active,employee,2020-01-01,\n",
        encoding="utf-8",
    )
    (tmp_path / "audit.toml").write_text(
        f"""
[audit]
as_of = "2026-11-21"
[[sources]]
name = "hr"
connector = "hr-csv"
path = "hr.csv"
[[sources]]
name = "pg"
connector = "postgresql"
host = "127.0.0.1"
port = {server.port}
user = "{AUDITOR}"
password_env = "{PASSWORD_VARIABLE}"
sslrootcert = "{server.ca_cert}"
email_domain = "corp.example"
[policy.service_accounts]
patterns = ["svc_*"]
""",
        encoding="utf-8",
    )
    snapshot = collect(load_config(tmp_path / "audit.toml"))
    accounts = snapshot.accounts.set_index("account_id")
    assert accounts.loc["pg:bob", "person_id"] == "E1"
    assert accounts.loc["pg:bob", "correlated_by"] == "email"
    assert accounts.loc["pg:svc_app", "kind"] == "service"
    orphans = run_audit(snapshot, Policy(), rules=["orphan-account"]).findings
    assert "alice" in set(orphans["subject_name"])


def test_password_from_pgpass_when_no_variable_is_named(
    server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{server.port}:*:{AUDITOR}:{AUDITOR_PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    source = settings(server)
    options = {k: v for k, v in source.options.items() if k != "password_env"}
    result = _collect(SourceSettings(name="pg", connector="postgresql", options=options))
    assert len(result.tables["accounts"]) >= 8


def test_a_server_certificate_from_another_ca_is_refused(
    server: PostgresServer, password: None
) -> None:
    assert server.pki is not None
    with pytest.raises(SourceError, match=r"pg: postgresql://127\.0\.0\.1:\d+/postgres"):
        _collect(settings(server, sslrootcert=str(server.pki.other_ca_cert)))


def test_plaintext_modes_and_passwords_in_the_config_are_refused(
    server: PostgresServer, password: None
) -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        _collect(settings(server, sslmode="prefer"))
    with pytest.raises(ConfigError, match="never go in the config"):
        _collect(settings(server, password="hunter2"))


def test_wrong_password_is_a_source_error(
    server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "wrong")
    with pytest.raises(SourceError, match="password authentication failed"):
        _collect(settings(server))


def test_last_use_from_a_configured_login_table(server: PostgresServer, password: None) -> None:
    server.sql(
        "CREATE TABLE IF NOT EXISTS public.login_events (role_name text, at timestamptz);\n"
        "TRUNCATE public.login_events;\n"
        "INSERT INTO public.login_events VALUES ('bob', '2026-11-01T08:00:00Z'),"
        "('bob', '2026-11-20T08:00:00Z');\n"
        "GRANT SELECT ON public.login_events TO auditor;\n"
    )
    result = _collect(
        settings(server, last_use_query="SELECT role_name, at FROM public.login_events")
    )
    accounts = result.tables["accounts"].set_index("login")
    assert accounts.loc["bob", "last_sign_in"] == pd.Timestamp("2026-11-20T08:00:00Z")
    assert accounts["last_sign_in_known"].all()
    assert pd.isna(accounts.loc["alice", "last_sign_in"])  # known and never seen


def test_public_grant_on_a_table_found_to_hold_pii_is_a_finding(
    server: PostgresServer, password: None
) -> None:
    # "The key word PUBLIC indicates that the privileges are to be granted to all roles,
    # including those that might be created later" (PostgreSQL manual, GRANT).
    server.sql(
        "CREATE TABLE sales.subscribers (id int, email text);"
        "INSERT INTO sales.subscribers SELECT n, 'reader' || n || '@example.org' "
        "FROM generate_series(1, 20) AS n;"
        "GRANT SELECT ON sales.subscribers TO PUBLIC;",
        dbname="crm",
    )
    try:
        result = _collect(settings(server, discover=True, sample_rows=10))
    finally:
        server.sql("DROP TABLE sales.subscribers;", dbname="crm")
    snapshot = build_snapshot([result], as_of=AS_OF)
    findings = run_audit(snapshot, Policy(), rules=["public-database-grant"]).findings
    public = findings[findings["subject_type"] == "resource"]
    assert public["subject_id"].tolist() == ["pg:crm.sales.subscribers"]
    assert public["entitlement"].tolist() == ["PUBLIC: read"]
    # sales.orders is granted to PUBLIC too, but holds no personal data: a near miss.
    assert "pg:crm.sales.orders" not in set(findings["subject_id"])
