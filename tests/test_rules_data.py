"""third-party-sensitive, direct-grant, unowned-, unclassified-resource, retention-overdue."""

from __future__ import annotations

from test_rules_support import account, grant, group, member, org, person, run, subjects


def test_contractor_and_guest_reaching_sensitive_data_are_flagged() -> None:
    snapshot = org(
        people=[person("ctr", worker_type="contractor"), person("emp")],
        accounts=[
            account("ctr"),
            account("emp"),
            account("ext.bob", kind="guest", person_id=None),
        ],
        groups=[group("Payroll-Readers")],
        memberships=[member("Payroll-Readers", m) for m in ("ctr", "emp", "ext.bob")],
        resources=[
            {
                "resource_id": "files:Payroll",
                "system": "files",
                "name": "Payroll",
                "type": "database",
                "sensitivity": "internal",
                "data_categories": "pci;pii",
            },
            {
                "resource_id": "files:Wiki",
                "system": "files",
                "name": "Wiki",
                "type": "site",
                "sensitivity": "internal",
            },
        ],
        grants=[grant("Payroll-Readers", "Payroll"), grant("Payroll-Readers", "Wiki")],
    )
    found = run("third-party-sensitive", snapshot)
    assert subjects(found) == ["ctr", "ext.bob"]
    assert set(found["entitlement"]) == {"Payroll"}
    assert found.set_index("subject_name").loc["ctr", "evidence"]["via"] == "Payroll-Readers"
    assert "contractor ctr can read Payroll (internal; pci;pii)" in found["message"].tolist()[0]


def test_direct_grant_to_account_is_flagged_with_highest_right_and_paths() -> None:
    snapshot = org(
        accounts=[account("jdoe")],
        groups=[group("Staff")],
        resources=[
            {
                "resource_id": "files:Share",
                "system": "files",
                "name": "Share",
                "type": "share",
                "sensitivity": "internal",
            }
        ],
        grants=[
            grant("jdoe", "Share", "account", right="read", path="\\\\fs\\Share\\a"),
            grant("jdoe", "Share", "account", right="write", path="\\\\fs\\Share\\b"),
            grant("jdoe", "Share", "account", right="owner", path="\\\\fs\\Share\\c", deny=True),
            grant("Staff", "Share"),
        ],
    )
    found = run("direct-grant", snapshot)
    assert subjects(found) == ["jdoe"]
    assert found.loc[0, "evidence"]["right"] == "write"
    assert found.loc[0, "evidence"]["grant_paths"] == ["\\\\fs\\Share\\a", "\\\\fs\\Share\\b"]


def test_confidential_resource_without_owner_or_with_leaver_owner_is_unowned() -> None:
    snapshot = org(
        people=[person("boss"), person("gone", status="terminated", end_date="2026-01-01")],
        resources=[
            {
                "resource_id": "r:a",
                "system": "r",
                "name": "NoOwner",
                "type": "share",
                "sensitivity": "confidential",
            },
            {
                "resource_id": "r:b",
                "system": "r",
                "name": "LeftOwner",
                "type": "share",
                "sensitivity": "restricted",
                "owner_id": "gone",
            },
            {
                "resource_id": "r:c",
                "system": "r",
                "name": "Owned",
                "type": "share",
                "sensitivity": "restricted",
                "owner_id": "boss",
            },
            {
                "resource_id": "r:d",
                "system": "r",
                "name": "Internal",
                "type": "share",
                "sensitivity": "internal",
            },
        ],
    )
    found = run("unowned-resource", snapshot)
    assert subjects(found) == ["LeftOwner", "NoOwner"]
    left = found.set_index("subject_name").loc["LeftOwner"]
    assert left["evidence"]["owner_hr_status"] == "terminated"
    assert "who has left" in left["message"]


def test_resource_with_grants_but_not_inventoried_is_unclassified() -> None:
    snapshot = org(
        accounts=[account("jdoe")],
        resources=[
            {
                "resource_id": "files:Loose",
                "system": "files",
                "name": "Loose",
                "type": "share",
                "inventoried": False,
            },
            {
                "resource_id": "files:Empty",
                "system": "files",
                "name": "Empty",
                "type": "share",
                "inventoried": False,
            },
            {"resource_id": "files:Known", "system": "files", "name": "Known", "type": "share"},
        ],
        grants=[grant("jdoe", "Loose", "account"), grant("jdoe", "Known", "account")],
    )
    found = run("unclassified-resource", snapshot)
    assert subjects(found) == ["Loose"]
    assert found.loc[0, "evidence"]["grant_count"] == 1


def test_retention_overdue_counts_from_last_modified() -> None:
    snapshot = org(
        resources=[
            {
                "resource_id": "r:old",
                "system": "r",
                "name": "Old",
                "type": "share",
                "retention_days": 365,
                "last_modified": "2025-11-01",
            },
            {
                "resource_id": "r:kept",
                "system": "r",
                "name": "Kept",
                "type": "share",
                "retention_days": 365,
                "last_modified": "2025-12-01",
            },
            {
                "resource_id": "r:none",
                "system": "r",
                "name": "NoPeriod",
                "type": "share",
                "last_modified": "2001-01-01",
            },
        ],
    )
    found = run("retention-overdue", snapshot)
    assert subjects(found) == ["Old"]
    assert found.loc[0, "evidence"]["days_overdue"] == 20
