"""peer-outlier: leave-one-out share within an HR department of at least peer_min_size."""

from __future__ import annotations

from typing import Any

from accessaudit.snapshot import Snapshot
from test_rules_support import account, group, member, org, person, policy, run, subjects


def department(size: int, holders: int, name: str = "Finance", **extra: Any) -> Snapshot:
    """``size`` people in ``name``; the first ``holders`` of them are in group SAP-Admin."""
    logins = [f"{name.lower()}{i}" for i in range(size)]
    return org(
        people=[person(login, department=name) for login in logins],
        accounts=[account(login) for login in logins],
        groups=[group("SAP-Admin"), group("All-Staff")],
        memberships=[member("SAP-Admin", login) for login in logins[:holders]]
        + [member("All-Staff", login) for login in logins],
        **extra,
    )


def test_entitlement_only_one_person_in_department_holds_is_outlier() -> None:
    found = run("peer-outlier", department(11, 1))
    # The subject is the person, named by their login; their name is in message and evidence.
    assert subjects(found) == ["finance0"]
    assert found.loc[0, "subject_type"] == "person"
    evidence = found.loc[0, "evidence"]
    assert (evidence["peers"], evidence["peers_holding"]) == (10, 0)
    assert evidence["held_through"] == ["finance0 via SAP-Admin"]
    assert found.loc[0, "entitlement"] == "SAP-Admin"
    assert found.loc[0, "message"] == "Finance0 (Finance) holds SAP-Admin; 0 of 10 peers do (0.0%)"


def test_share_counts_the_other_peers_only() -> None:
    # Two holders among 11: each sees 1 of 10 other peers = 10 %, not below the 10 % line.
    assert subjects(run("peer-outlier", department(11, 2))) == []
    assert len(run("peer-outlier", department(11, 2), policy(peer_max_share=0.15))) == 2


def test_department_smaller_than_peer_min_size_is_not_judged() -> None:
    assert subjects(run("peer-outlier", department(4, 1))) == []
    assert subjects(run("peer-outlier", department(4, 1), policy(peer_min_size=3))) == ["finance0"]


def test_terminated_people_are_not_peers() -> None:
    # A department of 5 of whom 1 left: only 4 count, below peer_min_size 5.
    snapshot = org(
        people=[person(f"p{i}") for i in range(4)]
        + [person("gone", status="terminated", end_date="2026-01-01")],
        accounts=[account(f"p{i}") for i in range(4)] + [account("gone")],
        groups=[group("SAP-Admin")],
        memberships=[member("SAP-Admin", "p0")],
    )
    assert subjects(run("peer-outlier", snapshot)) == []
