"""Characters XML 1.0 cannot hold (U+FFFE, U+FFFF, lone surrogates, C0 control characters
other than tab, newline and carriage return; https://www.w3.org/TR/xml/#charsets) in a source
value: every Excel output replaces each with U+FFFD, visibly, and nothing crashes. Tested only
through the public writers, so it holds whatever writer module sits behind them."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from accessaudit.analysis import diff_snapshots
from accessaudit.audit import run_audit
from accessaudit.policy import Policy
from accessaudit.reports.diff_excel import write_diff_workbook
from accessaudit.reports.excel import write_report
from accessaudit.review import create_campaign
from accessaudit.snapshot import Snapshot

# One of each kind: a non-character, a lone surrogate (JSON may carry "\ud800"), two C0
# controls, the other non-character; tab and newline are legal and stay.
HOSTILE = "Ann\uffff\ud800\x01\x1b\ufffe\tend"
SHOWN = "Ann\ufffd\ufffd\ufffd\ufffd\ufffd\tend"


def _snapshot(display_name: str = HOSTILE) -> Snapshot:
    people = pd.DataFrame(
        {
            "person_id": ["E1", "E2"],
            # object dtype, as a connector builds it: pandas' own str dtype refuses a lone
            # surrogate outright (connectors must pass such values as objects).
            "name": pd.Series([display_name, "Bob Boss"], dtype=object),
            "email": ["ann@example.com", "bob@example.com"],
            "department": ["Fin\x00ance", "Finance"],
            "manager_id": ["E2", None],
            "status": ["active", "active"],
            "worker_type": ["employee", "employee"],
            "system": ["hr", "hr"],
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": ["corp:ann"],
            "system": ["corp"],
            "native_id": ["ann"],
            "login": ["ann"],
            "display_name": pd.Series([display_name], dtype=object),
            "person_id": ["E1"],
            "kind": ["user"],
            "enabled": [True],
        }
    )
    groups = pd.DataFrame(
        {
            "group_id": ["corp:admins"],
            "system": ["corp"],
            "native_id": ["admins"],
            "name": ["Admins\uffff"],
            "kind": ["group"],
            "privileged": [True],
        }
    )
    memberships = pd.DataFrame(
        {
            "group_id": ["corp:admins"],
            "member_id": ["corp:ann"],
            "member_type": ["account"],
            "assignment": ["active"],
        }
    )
    return Snapshot.from_tables(
        {"people": people, "accounts": accounts, "groups": groups, "memberships": memberships},
        as_of="2026-11-21",
    )


def _texts(path: Path) -> set[str]:
    book = openpyxl.load_workbook(path)
    try:
        return {
            value
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if isinstance(value, str)
        }
    finally:
        book.close()


def test_a_lone_surrogate_in_a_source_value_becomes_u_fffd_in_the_snapshot(
    tmp_path: Path,
) -> None:
    snapshot = _snapshot()
    assert snapshot.accounts["display_name"].iloc[0] == "Ann\uffff\ufffd\x01\x1b\ufffe\tend"
    # And it can be saved and read back (Parquet holds UTF-8 only).
    loaded = Snapshot.load(snapshot.save(tmp_path / "snap"))
    assert loaded.accounts["display_name"].iloc[0] == snapshot.accounts["display_name"].iloc[0]


def test_audit_report_shows_each_impossible_character_as_u_fffd(tmp_path: Path) -> None:
    snapshot = _snapshot()
    path = tmp_path / "report.xlsx"
    write_report(path, run_audit(snapshot, Policy()), snapshot)
    texts = _texts(path)
    assert SHOWN in texts
    assert "Fin\ufffdance" in texts


def test_diff_workbook_shows_each_impossible_character_as_u_fffd(tmp_path: Path) -> None:
    path = tmp_path / "changes.xlsx"
    before = Snapshot.from_tables({}, as_of="2026-08-31")
    write_diff_workbook(diff_snapshots(before, _snapshot()), path)
    texts = _texts(path)
    assert "Admins\ufffd" in texts


def test_review_workbook_shows_each_impossible_character_as_u_fffd(tmp_path: Path) -> None:
    snapshot = _snapshot()
    campaign = create_campaign(
        snapshot, Policy(), None, by="manager", out=tmp_path / "campaign", scope="privileged"
    )
    texts: set[str] = set()
    for workbook in (campaign.folder / "workbooks").glob("*.xlsx"):
        texts |= _texts(workbook)
    assert any("\ufffd" in text for text in texts)
