"""excess-privilege, stale-privilege, disabled-privileged, mfa-missing, sod-conflict."""

from __future__ import annotations

from accessaudit.snapshot import Snapshot
from test_rules_support import (
    account,
    grant,
    group,
    member,
    org,
    policy,
    resource,
    run,
    subjects,
)


def nested_admins(*logins_and_values: tuple[str, dict[str, object]]) -> Snapshot:
    """Domain Admins (built-in privileged) ← Tier1 (nested) ← each account."""
    accounts = [account(login, **values) for login, values in logins_and_values]
    return org(
        accounts=accounts,
        groups=[group("Domain Admins", privileged=True), group("Tier1")],
        memberships=[member("Domain Admins", "Tier1", "group")]
        + [member("Tier1", login) for login, _ in logins_and_values],
    )


def test_nested_member_of_builtin_privileged_group_is_excess_with_path() -> None:
    found = run("excess-privilege", nested_admins(("jdoe", {})))
    found = found[found["entitlement"] == "Domain Admins"].reset_index(drop=True)
    assert subjects(found) == ["jdoe"]
    assert found.loc[0, "evidence"]["depth"] == 2
    assert found.loc[0, "evidence"]["group_path"] == "Tier1 > Domain Admins"
    assert "through Tier1 > Domain Admins" in found.loc[0, "message"]


def test_approved_admin_is_not_excess_and_login_case_does_not_matter() -> None:
    found = run(
        "excess-privilege",
        nested_admins(("adm.alice", {}), ("jdoe", {})),
        policy(privileged={"approved": {"Domain Admins": ["ADM.Alice"]}}),
    )
    assert subjects(found) == ["jdoe"]
    assert found.loc[0, "evidence"]["approved_logins"] == ["ADM.Alice"]


def test_policy_can_name_more_privileged_groups() -> None:
    snapshot = org(
        accounts=[account("jdoe")], groups=[group("Tier0")], memberships=[member("Tier0", "jdoe")]
    )
    assert subjects(run("excess-privilege", snapshot)) == []
    flagged = run("excess-privilege", snapshot, policy(privileged={"groups": ["tier0"]}))
    assert subjects(flagged) == ["jdoe"]


def test_privileged_member_without_recent_sign_in_is_stale_privilege() -> None:
    snapshot = nested_admins(
        ("idle", {"last_sign_in": "2026-09-01"}),
        ("busy", {}),
        ("newadm", {"last_sign_in": None, "created": "2026-11-18"}),
        ("nolog", {"last_sign_in": None, "last_sign_in_known": False}),
    )
    found = run("stale-privilege", snapshot)
    assert set(found["subject_name"]) == {"idle"}
    assert found["entitlement"].tolist() == ["Domain Admins"]


def test_disabled_account_in_privileged_group_is_disabled_privileged_not_excess() -> None:
    snapshot = nested_admins(("old.admin", {"enabled": False}))
    assert set(run("disabled-privileged", snapshot)["subject_name"]) == {"old.admin"}
    assert subjects(run("excess-privilege", snapshot)) == []


def test_mfa_missing_fires_only_where_mfa_is_reported() -> None:
    snapshot = org(
        accounts=[
            account("adm.nomfa", mfa=False),
            account("adm.unknown"),
            account("adm.mfa", mfa=True),
            account("pii.nomfa", mfa=False),
            account("plain.nomfa", mfa=False),
        ],
        groups=[group("Domain Admins", privileged=True), group("HR")],
        memberships=[
            member("Domain Admins", "adm.nomfa"),
            member("Domain Admins", "adm.unknown"),
            member("Domain Admins", "adm.mfa"),
            member("HR", "pii.nomfa"),
        ],
        resources=[resource("Personnel", data_categories="pii")],
        grants=[grant("HR", "Personnel")],
    )
    found = run("mfa-missing", snapshot)
    assert subjects(found) == ["adm.nomfa", "pii.nomfa"]
    by_login = found.set_index("subject_name")["evidence"]
    assert by_login["pii.nomfa"]["sensitive_resources"] == ["Personnel"]


SOD = {"sod": [{"name": "AP", "entitlements": ["AP-Entry", "AP-Release"]}]}


def test_sod_conflict_across_two_accounts_of_one_person_through_nesting() -> None:
    snapshot = org(
        accounts=[
            account("jdoe", person_id="jdoe"),
            account("jdoe", system="erp", person_id="jdoe"),
            account("clerk"),
        ],
        groups=[group("AP-Entry"), group("AP-Clerks"), group("AP-Release", system="erp")],
        memberships=[
            member("AP-Clerks", "jdoe"),
            member("AP-Entry", "AP-Clerks", "group"),
            member("AP-Clerks", "clerk"),
            {
                "group_id": "erp:AP-Release",
                "member_id": "erp:jdoe",
                "member_type": "account",
                "assignment": "active",
            },
        ],
    )
    found = run("sod-conflict", snapshot, policy(**SOD))
    assert found["subject_id"].tolist() == ["jdoe"]
    assert found.loc[0, "subject_type"] == "person"
    assert found.loc[0, "entitlement"] == "AP"
    held = found.loc[0, "evidence"]["held_through"]
    assert held["AP-Entry"] == ["jdoe via AP-Clerks > AP-Entry"]
    assert held["AP-Release"] == ["jdoe via AP-Release"]


def test_sod_entitlement_can_be_a_resource_and_disabled_accounts_do_not_count() -> None:
    snapshot = org(
        accounts=[account("jdoe"), account("jdoe2", person_id="jdoe", enabled=False)],
        groups=[group("AP-Entry"), group("AP-Release")],
        memberships=[member("AP-Entry", "jdoe"), member("AP-Release", "jdoe2")],
        resources=[resource("Payments")],
        grants=[grant("jdoe", "Payments", "account", right="write")],
    )
    assert subjects(run("sod-conflict", snapshot, policy(**SOD))) == []
    found = run(
        "sod-conflict",
        snapshot,
        policy(sod=[{"name": "Pay", "entitlements": ["AP-Entry", "payments"]}]),
    )
    assert found["subject_id"].tolist() == ["jdoe"]
