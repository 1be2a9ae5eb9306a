"""public-database-grant: sensitive tables granted to PUBLIC, or reached from any host ('%').

The live cases at the end run the real connectors against the test PostgreSQL and MariaDB
servers (tests/servers); PUBLIC is PostgreSQL's "all roles" grantee (GRANT in the PostgreSQL
manual, "The key word PUBLIC indicates that the privileges are to be granted to all roles"),
and '%' is MySQL's any-host wildcard (MySQL manual, "Specifying Account Names").
"""

from __future__ import annotations

from accessaudit.model import ANY_HOST_GROUP, EVERY_ROLE_GROUP
from test_rules_support import account, grant, group, member, org, resource, run, subjects


def _db_group(native_id: str) -> dict[str, object]:
    return {**group(native_id), "name": native_id.lstrip("@").upper(), "kind": "directory-role"}


def test_public_grant_on_sensitive_table_is_flagged_and_near_misses_are_not() -> None:
    snapshot = org(
        accounts=[account("ann")],
        groups=[_db_group(EVERY_ROLE_GROUP), group("readers")],
        memberships=[member(EVERY_ROLE_GROUP, "ann"), member("readers", "ann")],
        resources=[
            resource("crm.customers", type="database", data_categories="pii"),
            resource("crm.pricing", type="database", sensitivity="restricted"),
            resource("crm.countries", type="database", sensitivity="public"),
            resource("crm.secrets", type="database", sensitivity="restricted"),
        ],
        grants=[
            grant(EVERY_ROLE_GROUP, "crm.customers"),
            grant(EVERY_ROLE_GROUP, "crm.pricing", right="write"),
            grant(EVERY_ROLE_GROUP, "crm.countries"),  # not sensitive
            grant(EVERY_ROLE_GROUP, "crm.secrets", deny=True),  # a deny entry
            grant("readers", "crm.secrets"),  # a reviewed role, not PUBLIC
        ],
    )
    found = run("public-database-grant", snapshot)
    assert subjects(found) == ["crm.customers", "crm.pricing"]
    assert set(found["subject_type"]) == {"resource"}
    by_name = found.set_index("subject_name")
    assert by_name.loc["crm.pricing", "entitlement"] == "PUBLIC: write"
    assert by_name.loc["crm.customers", "message"] == (
        "every role on files can read crm.customers (internal; pii): granted to PUBLIC"
    )
    assert by_name.loc["crm.customers", "evidence"]["grantee"] == "PUBLIC"


def test_any_host_account_reaching_sensitive_data_is_flagged() -> None:
    snapshot = org(
        accounts=[
            account("bob@%"),
            account("bob@10.0.0.%"),
            account("old@%", enabled=False),
            account("svc@%"),
        ],
        groups=[_db_group(ANY_HOST_GROUP), group("shop_reader")],
        memberships=[
            member(ANY_HOST_GROUP, "bob@%"),
            member(ANY_HOST_GROUP, "old@%"),
            member(ANY_HOST_GROUP, "svc@%"),
            member("shop_reader", "bob@%"),
            member("shop_reader", "bob@10.0.0.%"),
            member("shop_reader", "old@%"),
        ],
        resources=[
            resource("shop.customers", type="database", data_categories="pii"),
            resource("shop.orders", type="database"),
        ],
        grants=[
            grant("shop_reader", "shop.customers"),
            grant("shop_reader", "shop.orders"),
            grant("svc@%", "shop.orders", "account", right="write"),
        ],
    )
    found = run("public-database-grant", snapshot)
    # bob@10.0.0.% is restricted to one network, old@% is disabled, svc@% only reaches
    # non-sensitive orders.
    assert subjects(found) == ["bob@%"]
    row = found.iloc[0]
    assert row["subject_type"] == "account"
    assert row["entitlement"] == "shop.customers"
    assert row["evidence"]["via"] == "shop_reader"
    assert "from any host ('%') and can read shop.customers (internal; pii)" in row["message"]


def test_no_database_sources_means_no_findings_and_the_right_columns() -> None:
    snapshot = org(
        accounts=[account("ann")],
        groups=[group("Staff")],
        memberships=[member("Staff", "ann")],
        resources=[resource("Payroll", sensitivity="restricted")],
        grants=[grant("Staff", "Payroll")],
    )
    found = run("public-database-grant", snapshot)
    assert found.empty
    assert {"rule", "severity", "subject_id", "evidence"} <= set(found.columns)
