"""Group nesting and effective access: any depth, cycles tolerated, deny and highest right."""

from __future__ import annotations

import tracemalloc

import pandas as pd

from accessaudit.entitlements import effective_access, effective_memberships
from accessaudit.model import TABLES


def _groups(names: list[str]) -> pd.DataFrame:
    return TABLES["groups"].conform(
        pd.DataFrame(
            {
                "group_id": [f"d:{n}" for n in names],
                "system": "d",
                "native_id": names,
                "name": names,
                "kind": "group",
            }
        )
    )


def _edges(rows: list[tuple[str, str, str]], assignment: str = "active") -> pd.DataFrame:
    return TABLES["memberships"].conform(
        pd.DataFrame(
            {
                "group_id": [f"d:{g}" for g, _, _ in rows],
                "member_id": [f"d:{m}" for _, m, _ in rows],
                "member_type": [t for _, _, t in rows],
                "assignment": assignment,
            }
        )
    )


def test_twenty_levels_of_nesting_resolve_with_depth_and_path() -> None:
    names = [f"L{i}" for i in range(20)]
    rows = [("L0", "alice", "account")] + [(names[i + 1], names[i], "group") for i in range(19)]
    table = effective_memberships(_groups(names), _edges(rows))
    assert len(table) == 20
    deepest = table.set_index("group_id").loc["d:L19"]
    assert deepest["depth"] == 20
    assert str(deepest["path"]) == " > ".join(names)


def test_a_two_thousand_deep_chain_costs_memory_in_proportion_to_its_result() -> None:
    # Issue 11: every (group, ancestor) pair carried its whole path, so a 2,000-deep chain
    # held ~2 million paths of up to 2,000 names (24 GB). Only the paths used are built now.
    names = [f"L{i}" for i in range(2000)]
    rows = [("L0", "alice", "account")] + [(names[i + 1], names[i], "group") for i in range(1999)]
    groups, edges = _groups(names), _edges(rows)
    tracemalloc.start()
    table = effective_memberships(groups, edges)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(table) == 2000
    assert table["depth"].tolist() == list(range(1, 2001))
    assert table["group_id"].astype(str).tolist() == [f"d:{n}" for n in names]
    assert str(table["path"].iloc[-1]) == " > ".join(names)
    # The result's own paths are ~2,000 strings of up to 14 kB (~14 MB in all).
    assert peak < 100 * 2**20


def test_a_cycle_is_walked_once_and_every_group_in_it_is_reached() -> None:
    # A contains B, B contains C, C contains A; bob is in B.
    rows = [("B", "bob", "account"), ("A", "B", "group"), ("C", "A", "group"), ("B", "C", "group")]
    table = effective_memberships(_groups(["A", "B", "C"]), _edges(rows))
    by_group = table.set_index("group_id")
    assert sorted(by_group.index) == ["d:A", "d:B", "d:C"]
    assert by_group.loc["d:B", "depth"] == 1
    assert by_group.loc["d:A", "depth"] == 2
    assert by_group.loc["d:C", "depth"] == 3
    assert str(by_group.loc["d:C", "path"]) == "B > A > C"


def test_shortest_path_wins_and_active_beats_eligible() -> None:
    rows = [("Top", "Mid", "group"), ("Mid", "Low", "group"), ("Low", "carol", "account")]
    active = _edges(rows)
    eligible = _edges([("Top", "carol", "account")], assignment="eligible")
    table = effective_memberships(
        _groups(["Top", "Mid", "Low"]), pd.concat([active, eligible], ignore_index=True)
    )
    top = table.set_index("group_id").loc["d:Top"]
    # The direct path is eligible only; the nested one is active, so active wins.
    assert top["assignment"] == "active"
    assert top["depth"] == 3


def test_eligible_only_membership_stays_eligible() -> None:
    table = effective_memberships(
        _groups(["Admins"]), _edges([("Admins", "dave", "account")], assignment="eligible")
    )
    assert table["assignment"].tolist() == ["eligible"]


def _grants(rows: list[tuple[str, str, str, str, bool]]) -> pd.DataFrame:
    return TABLES["grants"].conform(
        pd.DataFrame(
            {
                "principal_id": [f"d:{p}" for p, _, _, _, _ in rows],
                "principal_type": [t for _, t, _, _, _ in rows],
                "resource_id": [f"files:{r}" for _, _, r, _, _ in rows],
                "right": [right for _, _, _, right, _ in rows],
                "deny": [deny for *_, deny in rows],
                "system": "files",
            }
        )
    )


def test_access_takes_the_highest_right_and_tells_how_it_is_held() -> None:
    groups = _groups(["Readers", "Writers"])
    members = _edges([("Readers", "erin", "account"), ("Writers", "erin", "account")])
    grants = _grants(
        [
            ("Readers", "group", "share", "read", False),
            ("Writers", "group", "share", "write", False),
        ]
    )
    access = effective_access(grants, effective_memberships(groups, members), groups)
    row = access.iloc[0]
    assert (row["account_id"], row["right"], row["via"]) == ("d:erin", "write", "Writers")


def test_deny_write_leaves_read_and_unresolved_principals_reach_nobody() -> None:
    groups = _groups(["Staff"])
    members = _edges([("Staff", "frank", "account")])
    grants = _grants(
        [
            ("Staff", "group", "share", "write", False),
            ("frank", "account", "share", "read", False),
            ("frank", "account", "share", "write", True),
            ("BUILTIN\\Administrators", "unresolved", "share", "admin", False),
        ]
    )
    access = effective_access(grants, effective_memberships(groups, members), groups)
    assert access[["account_id", "right", "via"]].values.tolist() == [["d:frank", "read", "direct"]]


def test_categorical_member_ids_give_the_accounts_they_name() -> None:
    # Snapshots may store ids as categoricals whose category list holds ids absent from this
    # table, in any order; the result must name the accounts of the rows, not of the codes.
    rows = [("A", "zed", "account"), ("B", "bob", "account"), ("A", "B", "group")]
    edges = _edges(rows)
    stored = edges.assign(
        member_id=pd.Categorical(edges["member_id"], categories=["d:aaa", "d:B", "d:zed", "d:bob"]),
        group_id=pd.Categorical(edges["group_id"], categories=["d:Z", "d:B", "d:A"]),
    )
    expected = effective_memberships(_groups(["A", "B"]), edges)
    table = effective_memberships(_groups(["A", "B"]), stored)
    assert _pairs(table) == [("d:bob", "d:A"), ("d:bob", "d:B"), ("d:zed", "d:A")]
    assert _pairs(table) == _pairs(expected)


def _pairs(table: pd.DataFrame) -> list[tuple[str, str]]:
    return sorted(zip(table["account_id"].astype(str), table["group_id"].astype(str), strict=True))
