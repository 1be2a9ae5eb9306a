"""Snapshot diff on hand-built snapshots: accounts, memberships and access that changed."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from accessaudit.analysis.diff import diff_snapshots
from accessaudit.cli import main
from accessaudit.reports.diff_excel import write_diff_workbook
from accessaudit.reports.json import diff_document
from accessaudit.snapshot import Snapshot


def _snapshot(
    as_of: str,
    accounts: list[tuple[str, str, bool, str | None]],
    memberships: list[tuple[str, str]],
    grants: list[tuple[str, str, str]],
) -> Snapshot:
    """accounts: (login, kind, enabled, person); memberships: (group, login);
    grants: (principal, resource, right) where a principal is a group name or a login."""
    groups = ["Staff", "Domain Admins", "=cmd|' /C calc'!A0"]
    group_id = {name: f"corp:g{i}" for i, name in enumerate(groups)}
    return Snapshot.from_tables(
        {
            "accounts": pd.DataFrame(
                {
                    "account_id": [f"corp:{a[0]}" for a in accounts],
                    "system": "corp",
                    "native_id": [a[0] for a in accounts],
                    "login": [a[0] for a in accounts],
                    "kind": [a[1] for a in accounts],
                    "enabled": [a[2] for a in accounts],
                    "person_id": [a[3] for a in accounts],
                }
            ),
            "groups": pd.DataFrame(
                {
                    "group_id": list(group_id.values()),
                    "system": "corp",
                    "native_id": list(group_id),
                    "name": groups,
                    "kind": "group",
                    "privileged": [False, True, False],
                }
            ),
            "memberships": pd.DataFrame(
                {
                    "group_id": [group_id[g] for g, _ in memberships],
                    "member_id": [f"corp:{login}" for _, login in memberships],
                    "member_type": "account",
                    "assignment": "active",
                }
            ),
            "resources": pd.DataFrame(
                {
                    "resource_id": ["files:wiki", "files:payroll"],
                    "system": "files",
                    "name": ["Wiki", "Payroll"],
                    "type": "share",
                    "sensitivity": ["internal", "restricted"],
                    "data_categories": [None, "pii"],
                }
            ),
            "grants": pd.DataFrame(
                {
                    "principal_id": [group_id.get(p, f"corp:{p}") for p, _, _ in grants],
                    "principal_type": [
                        "group" if p in group_id else "account" for p, _, _ in grants
                    ],
                    "resource_id": [f"files:{r}" for _, r, _ in grants],
                    "right": [g[2] for g in grants],
                    "system": "files",
                }
            ),
        },
        as_of=as_of,
    )


OLD = _snapshot(
    "2026-08-31",
    [("alice", "user", True, "E1"), ("bob", "user", True, "E2"), ("carol", "user", True, "E3")],
    [("Staff", "alice"), ("Staff", "bob"), ("Staff", "carol")],
    [("Staff", "wiki", "read"), ("carol", "payroll", "read")],
)
NEW = _snapshot(
    "2026-11-30",
    [
        ("alice", "admin", True, "E1"),
        ("bob", "user", False, "E2"),
        ("dave", "user", True, None),
    ],
    [
        ("Staff", "alice"),
        ("Staff", "bob"),
        ("Staff", "dave"),
        ("Domain Admins", "alice"),
        ("=cmd|' /C calc'!A0", "dave"),
    ],
    [("Staff", "wiki", "write"), ("alice", "payroll", "owner")],
)


def test_accounts_added_removed_and_changed_fields() -> None:
    change = diff_snapshots(OLD, NEW)
    assert change.accounts_added["login"].tolist() == ["dave"]
    assert change.accounts_removed["login"].tolist() == ["carol"]
    changed = {(r.login, r.field): (r.old, r.new) for r in change.accounts_changed.itertuples()}
    assert changed == {("alice", "kind"): ("user", "admin"), ("bob", "enabled"): (True, False)}


def test_new_privileged_membership_comes_first() -> None:
    added = diff_snapshots(OLD, NEW).memberships_added
    assert added.iloc[0][["login", "name", "privileged"]].tolist() == [
        "alice",
        "Domain Admins",
        True,
    ]
    assert set(zip(added["login"], added["name"], strict=True)) == {
        ("alice", "Domain Admins"),
        ("dave", "Staff"),
        ("dave", "=cmd|' /C calc'!A0"),
    }


def test_memberships_of_a_removed_account_are_removed() -> None:
    removed = diff_snapshots(OLD, NEW).memberships_removed
    assert removed[["login", "name"]].values.tolist() == [["carol", "Staff"]]


def test_access_added_removed_and_changed_right() -> None:
    change = diff_snapshots(OLD, NEW)
    added = change.access_added
    assert added.iloc[0][["login", "resource", "right"]].tolist() == ["alice", "Payroll", "owner"]
    assert bool(added.iloc[0]["privileged"])
    assert change.access_removed[["login", "resource"]].values.tolist() == [
        ["carol", "Payroll"],
        ["carol", "Wiki"],
    ]
    changed = change.access_changed
    assert set(zip(changed["login"], changed["old_right"], changed["new_right"], strict=True)) == {
        ("alice", "read", "write"),
        ("bob", "read", "write"),
    }


def test_identical_snapshots_have_no_changes() -> None:
    assert diff_snapshots(OLD, OLD).is_empty
    assert not diff_snapshots(OLD, NEW).is_empty


def test_diff_json_is_serialisable_with_both_dates() -> None:
    data = json.loads(json.dumps(diff_document(diff_snapshots(OLD, NEW)), default=str))
    assert data["old_as_of"].startswith("2026-08-31")
    assert data["accounts_added"][0]["login"] == "dave"


def test_diff_workbook_keeps_formula_looking_names_as_text(tmp_path: Path) -> None:
    path = write_diff_workbook(diff_snapshots(OLD, NEW), tmp_path / "diff.xlsx")
    book = openpyxl.load_workbook(path)
    assert "Summary" in book.sheetnames and "memberships_added" in book.sheetnames
    cells = [
        c
        for row in book["memberships_added"].iter_rows()
        for c in row
        if c.value == "=cmd|' /C calc'!A0"
    ]
    assert cells and all(c.data_type == "s" for c in cells)


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path]:
    return OLD.save(tmp_path / "q3"), NEW.save(tmp_path / "q4")


def test_cli_diff_prints_changes_and_writes_excel(
    saved: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = saved
    excel = tmp_path / "out.xlsx"
    assert main(["diff", str(old), str(new), "--excel", str(excel)]) == 0
    out = capsys.readouterr().out
    assert "memberships_added" in out and "Domain Admins" in out
    assert excel.is_file()
    assert main(["diff", str(old), str(new), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["accounts_removed"][0]["login"] == "carol"
