"""stale-account, leaver-active, orphan-account, password-never-expires: fire and near misses."""

from __future__ import annotations

from test_rules_support import account, org, person, policy, run, subjects


def test_account_unused_past_stale_days_is_flagged_with_days_and_last_sign_in() -> None:
    found = run("stale-account", org(accounts=[account("jdoe", last_sign_in="2026-07-01")]))
    assert subjects(found) == ["jdoe"]
    assert found.loc[0, "message"] == "jdoe has not signed in for 143 days (last 2026-07-01)"
    assert found.loc[0, "evidence"]["days_since_sign_in"] == 143
    assert found.loc[0, "subject_type"] == "account"


def test_stale_days_comes_from_the_policy() -> None:
    snapshot = org(accounts=[account("jdoe", last_sign_in="2026-10-01")])
    assert subjects(run("stale-account", snapshot)) == []
    assert subjects(run("stale-account", snapshot, policy(stale_days=30))) == ["jdoe"]


def test_never_used_account_counts_after_grace_but_new_hire_in_grace_does_not() -> None:
    snapshot = org(
        accounts=[
            account("old", last_sign_in=None, created="2026-01-01"),
            account("newhire", last_sign_in=None, created="2026-11-15"),
        ]
    )
    found = run("stale-account", snapshot)
    assert subjects(found) == ["old"]
    assert "has never signed in" in found.loc[0, "message"]


def test_disabled_and_sign_in_unknown_accounts_are_never_stale() -> None:
    snapshot = org(
        accounts=[
            account("off", enabled=False, last_sign_in="2020-01-01"),
            account("nolog", last_sign_in=None, last_sign_in_known=False),
        ]
    )
    assert subjects(run("stale-account", snapshot)) == []


def test_enabled_account_of_terminated_person_is_a_leaver() -> None:
    snapshot = org(
        people=[person("gone", status="terminated", end_date="2026-10-01")],
        accounts=[account("gone", last_sign_in="2026-10-05")],
    )
    found = run("leaver-active", snapshot)
    assert subjects(found) == ["gone"]
    evidence = found.loc[0, "evidence"]
    assert evidence["hr_status"] == "terminated"
    assert str(evidence["hr_end_date"].date()) == "2026-10-01"
    assert evidence["signed_in_after_end"] is True
    assert found.loc[0, "severity"] == "critical"


def test_disabled_leaver_and_future_end_date_are_not_leaver_findings() -> None:
    snapshot = org(
        people=[
            person("gone", status="terminated", end_date="2026-10-01"),
            person("soon", status="terminated", end_date="2026-12-31"),
        ],
        accounts=[account("gone", enabled=False), account("soon")],
    )
    assert subjects(run("leaver-active", snapshot)) == []


def test_human_account_without_person_is_orphan_but_service_and_guest_are_not() -> None:
    snapshot = org(
        accounts=[
            account("ghost", person_id=None),
            account("adm.ghost", kind="admin", person_id=None),
            account("svc-backup", kind="service", person_id=None),
            account("ext.bob", kind="guest", person_id=None),
            account("off", person_id=None, enabled=False),
            account("jdoe"),
        ]
    )
    assert subjects(run("orphan-account", snapshot)) == ["adm.ghost", "ghost"]


def test_password_never_expires_on_humans_only() -> None:
    snapshot = org(
        accounts=[
            account("jdoe", password_never_expires=True, password_last_set="2025-11-21"),
            account("svc-sql", kind="service", person_id=None, password_never_expires=True),
            account("off", enabled=False, password_never_expires=True),
            account("ok"),
        ]
    )
    found = run("password-never-expires", snapshot)
    assert subjects(found) == ["jdoe"]
    assert found.loc[0, "evidence"]["password_age_days"] == 365
