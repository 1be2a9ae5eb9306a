"""The mysql connector against a real MariaDB server started for these tests (TLS required).

Accounts, roles and grants follow the MariaDB manual (CREATE USER, CREATE ROLE, GRANT role,
GRANT ... ON db.* / db.table / (column), WITH GRANT OPTION). Without the Debian
``mariadb-server`` package or PyMySQL the tests skip with the reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.collection import build_snapshot
from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.databases import collect_mysql
from accessaudit.errors import ConfigError, SourceError
from accessaudit.policy import Policy

try:
    from servers import require_binaries, require_module
    from servers.mariadb import MariaDBServer
except ImportError:  # pragma: no cover - run from the repository root
    from tests.servers import require_binaries, require_module
    from tests.servers.mariadb import MariaDBServer

AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
VARIABLE = "AA_TEST_MARIADB_PASSWORD"
AUDITOR_PASSWORD = "auditor-secret-42"

SETUP = f"""
CREATE DATABASE shop;
CREATE TABLE shop.customers (id int primary key, email varchar(200), phone varchar(40));
INSERT INTO shop.customers VALUES (1, 'ann@example.org', '+1 202 555 0101'),
    (2, 'bob@example.net', '+1 202 555 0102'), (3, 'chloe@example.com', '+1 202 555 0103');
CREATE TABLE shop.orders (id int primary key, amount decimal(10,2));
CREATE USER 'auditor'@'127.0.0.1' IDENTIFIED BY '{AUDITOR_PASSWORD}' REQUIRE SSL;
GRANT SELECT ON mysql.* TO 'auditor'@'127.0.0.1';
GRANT SELECT, SHOW DATABASES ON *.* TO 'auditor'@'127.0.0.1';
CREATE USER 'alice'@'%' IDENTIFIED BY 'alice-pw';
GRANT SUPER ON *.* TO 'alice'@'%';
CREATE USER 'bob'@'10.0.0.%' IDENTIFIED BY 'bob-pw';
CREATE USER 'bob'@'%' IDENTIFIED BY 'bob-pw2';
CREATE USER 'carol'@'localhost' IDENTIFIED BY 'carol-pw' ACCOUNT LOCK;
CREATE USER 'svc_shop'@'10.0.0.5' IDENTIFIED BY 'svc-pw';
CREATE ROLE shop_reader;
CREATE ROLE shop_analyst;
GRANT SELECT ON shop.* TO shop_reader;
GRANT shop_reader TO shop_analyst;
GRANT shop_analyst TO 'bob'@'10.0.0.%';
GRANT shop_reader TO 'carol'@'localhost' WITH ADMIN OPTION;
GRANT INSERT, UPDATE ON shop.orders TO 'svc_shop'@'10.0.0.5' WITH GRANT OPTION;
GRANT UPDATE (email) ON shop.customers TO 'bob'@'%';
GRANT SELECT ON `shop\\_%`.* TO 'carol'@'localhost';
INSERT INTO mysql.tables_priv (Host, Db, User, Table_name, Grantor, Table_priv)
    VALUES ('%', 'shop', 'ghost', 'orders', 'root@localhost', 'Select');
FLUSH PRIVILEGES;
"""


@pytest.fixture(scope="module")
def server() -> Iterator[MariaDBServer]:
    require_module("pymysql", "PyMySQL (pip install 'accessaudit[mysql]')")
    require_binaries("mariadb-server", "mariadbd", "mariadb-install-db")
    with MariaDBServer() as running:
        running.sql(SETUP)
        yield running


def settings(server: MariaDBServer, **extra: object) -> SourceSettings:
    return SourceSettings(
        name="shopdb",
        connector="mysql",
        options={
            "host": "127.0.0.1",
            "port": server.port,
            "user": "auditor",
            "password_env": VARIABLE,
            "ssl_ca": str(server.ca_cert),
            **extra,
        },
    )


def _collect(source: SourceSettings) -> SourceResult:
    return collect_mysql(source, find_manifests()["mysql"], CollectContext(as_of=AS_OF))


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, AUDITOR_PASSWORD)


@pytest.fixture
def result(server: MariaDBServer, password: None) -> SourceResult:
    return _collect(settings(server))


def _grants(result: SourceResult, resource: str) -> set[tuple[str, str]]:
    g = result.tables["grants"]
    rows = g[g["resource_id"] == f"shopdb:{resource}"]
    return set(zip(rows["principal_id"], rows["right"].astype(str), strict=True))


def test_accounts_are_user_at_host_and_roles_are_groups(result: SourceResult) -> None:
    accounts = result.tables["accounts"].set_index("native_id")
    assert {"alice@%", "bob@10.0.0.%", "bob@%", "carol@localhost", "svc_shop@10.0.0.5"} <= set(
        accounts.index
    )
    assert accounts.loc["bob@%", "login"] == "bob"
    assert not accounts.loc["carol@localhost", "enabled"]  # ACCOUNT LOCK
    assert accounts.loc["alice@%", "enabled"]
    assert not accounts["last_sign_in_known"].any()
    groups = result.tables["groups"].set_index("group_id")
    assert {"shopdb:shop_reader", "shopdb:shop_analyst"} <= set(groups.index)
    assert groups.loc["shopdb:@SUPER", "privileged"]
    assert not groups.loc["shopdb:@any-host", "privileged"]
    assert "shop\\_%" in result.report["database_patterns"]
    assert result.report["flavour"] == "mariadb"


def test_roles_nest_and_privileges_land_on_database_table_and_column(
    result: SourceResult,
) -> None:
    snapshot = build_snapshot([result], as_of=AS_OF)
    effective = snapshot.effective_memberships
    bob = effective[effective["account_id"] == "shopdb:bob@10.0.0.%"].set_index("group_id")
    assert bob.loc["shopdb:shop_reader", "depth"] == 2
    assert ("shopdb:shop_reader", "read") in _grants(result, "shop")
    assert ("shopdb:svc_shop@10.0.0.5", "admin") in _grants(result, "shop.orders")
    assert ("shopdb:auditor@127.0.0.1", "read") in _grants(result, "*")
    g = result.tables["grants"]
    column = g[g["principal_id"] == "shopdb:bob@%"]
    assert set(column["path"]) == {"shop.customers(email) UPDATE"}
    access = snapshot.access
    reach = access[(access["account_id"] == "shopdb:bob@10.0.0.%")]
    assert "shopdb:shop" in set(reach["resource_id"])
    # carol's, and root's on both roles: MariaDB grants a new role to its creator WITH ADMIN
    # OPTION (CREATE ROLE in the MariaDB manual).
    assert result.report["role_grants_with_admin_option"] == 3
    # A grant whose account is gone (left in tables_priv) is kept, unresolved, and counted.
    ghost = g[g["principal_id"] == "ghost@%"]
    assert ghost["principal_type"].astype(str).tolist() == ["unresolved"]
    assert result.report["unknown_roles_examples"] == ["ghost@%"]


def test_super_and_any_host_feed_the_privilege_rules(result: SourceResult) -> None:
    members = result.tables["memberships"]
    supers = set(members.loc[members["group_id"] == "shopdb:@SUPER", "member_id"])
    assert "shopdb:alice@%" in supers
    anywhere = set(members.loc[members["group_id"] == "shopdb:@any-host", "member_id"])
    assert {"shopdb:alice@%", "shopdb:bob@%"} <= anywhere
    assert "shopdb:bob@10.0.0.%" not in anywhere
    snapshot = build_snapshot([result], as_of=AS_OF)
    policy = Policy(approved={"SUPER": ("root",)})
    findings = run_audit(snapshot, policy, rules=["excess-privilege"]).findings
    flagged = set(zip(findings["subject_name"], findings["entitlement"], strict=True))
    assert ("alice", "SUPER") in flagged
    assert ("root", "SUPER") not in flagged


def test_tls_is_verified_and_secrets_stay_out_of_the_config(
    server: MariaDBServer, password: None
) -> None:
    assert server.pki is not None
    with pytest.raises(SourceError, match=r"shopdb: mysql://127\.0\.0\.1"):
        _collect(settings(server, ssl_ca=str(server.pki.other_ca_cert)))
    with pytest.raises(ConfigError, match="ssl_ca"):
        _collect(settings(server, ssl_ca=""))
    with pytest.raises(ConfigError, match="never go in the config"):
        _collect(settings(server, password="x"))


def test_discover_puts_the_sampled_categories_on_the_tables(
    server: MariaDBServer, password: None
) -> None:
    result = _collect(settings(server, discover=True, sample_rows=10))
    resources = result.tables["resources"].set_index("resource_id")
    assert resources.loc["shopdb:shop.customers", "data_categories"] == "pii"
    assert pd.isna(resources.loc["shopdb:shop.orders", "data_categories"])
    found = result.report["discovery"]["columns_by_category"]
    assert found == {"email": 1, "phone": 1}


def test_an_any_host_account_on_a_table_found_to_hold_pii_is_a_finding(
    server: MariaDBServer, password: None
) -> None:
    # 'bob'@'%' may connect from any host ('%' in "Specifying Account Names", MySQL manual)
    # and may UPDATE shop.customers.email; 'bob'@'10.0.0.%' reads shop through a role but is
    # bound to one network, and alice@% holds SUPER but no table: near misses.
    result = _collect(settings(server, discover=True, sample_rows=10))
    snapshot = build_snapshot([result], as_of=AS_OF)
    findings = run_audit(snapshot, Policy(), rules=["public-database-grant"]).findings
    flagged = set(zip(findings["subject_name"], findings["entitlement"], strict=True))
    assert ("bob", "shop.customers") in flagged
    assert {account for account, _ in flagged} == {"bob"}
    assert set(findings["subject_id"]) == {"shopdb:bob@%"}
