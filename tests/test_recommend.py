"""The review decision table (review/recommend.py): one test per row, through the items the
workbooks, notebooks and the API all read."""

from __future__ import annotations

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.review._items import build_items
from accessaudit.review.recommend import DECISION_TABLE, decision_table
from accessaudit.snapshot import Snapshot
from test_rules_support import account, grant, group, member, org, person, policy, resource

POLICY = policy(
    peer_min_size=3,
    peer_max_share=0.2,
    privileged={"approved": {"Domain Admins": ["adm.alice", "adm.carol"]}},
    sod=[{"name": "Invoice and payment", "entitlements": ["AP-Entry", "AP-Release"]}],
)
IT = [f"it{n}" for n in range(1, 9)]  # eight colleagues who hold Staff and nothing rare


def _org() -> Snapshot:
    people = [person(p, department="IT") for p in ["alice", "carol", "bob", *IT]]
    people += [
        person("eve", department="IT", status="terminated", end_date="2026-09-30"),
        person("con", department="IT", worker_type="contractor"),
        person("dis", department="IT"),
        person("new", department="IT"),
        person("cat", department="IT"),
        person("dan", department="IT"),
        person("fay", department="IT"),
        person("sam", department="IT"),
    ]
    staff = ["eve", "dis", "new", "cat", "con", "dan", "fay", "sam", *IT]
    accounts = [
        account("adm.alice", person_id="alice", kind="admin", last_sign_in="2026-11-19"),
        account("adm.carol", person_id="carol", kind="admin", last_sign_in="2026-10-07"),
        account("bob", last_sign_in="2026-11-20"),
        account("eve"),
        account("dis", enabled=False),
        account("new", last_sign_in=None),
        account("cat", last_sign_in="2026-06-01"),
        account("con"),
        account("dan"),
        account("fay"),
        account("sam"),
        account("ghost", person_id=None),
        *(account(login) for login in IT),
    ]
    groups = [
        group("Domain Admins", privileged=True),
        group("Staff"),
        group("Rare"),
        group("AP-Entry"),
        group("AP-Release"),
    ]
    memberships = [
        member("Domain Admins", "adm.alice"),
        member("Domain Admins", "adm.carol"),
        member("Domain Admins", "bob"),
        *(member("Staff", login) for login in staff),
        member("Rare", "fay"),
        member("AP-Entry", "sam"),
        member("AP-Release", "sam"),
    ]
    resources = [
        resource("Team", sensitivity="restricted"),
        resource("Config", sensitivity="internal"),
    ]
    grants = [
        grant("Staff", "Team"),
        grant("dan", "Config", principal_type="account", right="admin"),
        grant("ghost", "Config", principal_type="account"),
    ]
    return org(
        people=people,
        accounts=accounts,
        groups=groups,
        memberships=memberships,
        resources=resources,
        grants=grants,
    )


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    snapshot = _org()
    findings = run_audit(snapshot, POLICY).findings
    by_manager = build_items(snapshot, POLICY, findings, by="manager")
    by_owner = build_items(snapshot, POLICY, findings, by="owner")
    return pd.concat([by_manager, by_owner[by_owner["login"] == "ghost"]], ignore_index=True)


def _decided(items: pd.DataFrame, login: str, entitlement: str) -> tuple[str, str, int]:
    row = items[(items["login"] == login) & (items["entitlement"] == entitlement)].iloc[0]
    return row["recommendation"], row["reason"], int(row["decision_row"])


@pytest.mark.parametrize(
    ("login", "entitlement", "expected"),
    [
        ("eve", "Staff", ("revoke", "left on 2026-09-30", 1)),
        ("dis", "Staff", ("revoke", "account is disabled (re-enabling restores access)", 2)),
        ("ghost", "Config", ("revoke", "no HR record for this account (orphan)", 3)),
        ("bob", "Domain Admins", ("revoke", "not on the approved list for Domain Admins", 4)),
        ("new", "Staff", ("revoke", "never signed in", 5)),
        (
            "adm.carol",
            "Domain Admins",
            ("revoke", "no sign-in for 45 days (privileged limit 30)", 6),
        ),
        ("cat", "Staff", ("revoke", "no sign-in for 173 days", 7)),
        (
            "sam",
            "AP-Release",
            ("review", "segregation-of-duties conflict: decide which entitlement to keep", 8),
        ),
        ("adm.alice", "Domain Admins", ("keep", "approved in policy; used 2 day(s) ago", 9)),
        ("dan", "Config", ("review", "unusual for the department: held by 0 of 17 peers", 10)),
        ("fay", "Rare", ("revoke", "unusual for the department: held by 0 of 17 peers", 11)),
        ("con", "Team", ("revoke", "finding: third-party-sensitive (high)", 12)),
        ("it1", "Staff", ("keep", "used 7 day(s) ago; 14 of 17 peers (82%)", 13)),
    ],
)
def test_each_row_of_the_decision_table(
    items: pd.DataFrame, login: str, entitlement: str, expected: tuple[str, str, int]
) -> None:
    assert _decided(items, login, entitlement) == expected


def test_every_row_of_the_table_is_covered_by_a_test() -> None:
    # Rows 14-17 (sharing links and invitations) are tested on the sample SharePoint tenant
    # in test_m365_review.py (test_each_sharing_row_of_the_decision_table).
    tested = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}
    assert {d.row for d in DECISION_TABLE} == tested
    assert list(decision_table()["recommendation"].unique()) == ["revoke", "review", "keep"]


def test_peer_share_alone_never_revokes_privileged_access(items: pd.DataFrame) -> None:
    # Few IT people hold Domain Admins (2 of 17 peers besides Alice, under the 20 % share),
    # but Alice is approved and active: keep.
    alice = items[(items["login"] == "adm.alice") & (items["entitlement"] == "Domain Admins")]
    assert "peer-outlier" in alice["findings"].iloc[0]
    privileged = items[items["privileged"] & items["reason"].str.startswith("unusual")]
    assert len(privileged) and (privileged["recommendation"] == "review").all()


def test_last_sign_in_names_the_system_and_kind_of_sign_in() -> None:
    snapshot = org(accounts=[account("jdoe")], groups=[group("Staff")],
                   memberships=[member("Staff", "jdoe")])  # fmt: skip
    snapshot.sources.append({"source": "corp", "connector": "active-directory"})
    (value,) = build_items(snapshot, POLICY, None, by="manager")["last_sign_in"]
    assert value == "2026-11-14 (corp directory logon)"
