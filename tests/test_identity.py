"""Correlating accounts to HR people, and classifying account kinds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from accessaudit import SourceError
from accessaudit.identity import correlate_accounts, read_identity_map
from accessaudit.model import TABLES


@pytest.fixture
def people() -> pd.DataFrame:
    return TABLES["people"].conform(
        pd.DataFrame(
            {
                "person_id": ["E1", "E2", "E3", "E4"],
                "name": ["Ann", "Bob", "Cai", "Dee"],
                "email": ["ann@corp.example", "bob@corp.example", "cai@corp.example", None],
                "status": "active",
                "worker_type": "employee",
                "system": "hr",
            }
        )
    )


def _accounts(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["account_id"] = "corp:" + frame["login"].astype(str)
    frame["native_id"] = frame["login"]
    frame["system"] = frame.get("system", "corp")
    frame["enabled"] = True
    frame["kind"] = frame["kind"].fillna("user") if "kind" in frame else "user"
    return TABLES["accounts"].conform(frame)


def test_employee_id_then_email_then_upn_then_owner_of_admin_account(people: pd.DataFrame) -> None:
    accounts = _accounts(
        [
            {"login": "ann", "employee_id": "E1", "email": "someone-else@corp.example"},
            {"login": "bob", "email": "BOB@corp.example"},
            {"login": "cai", "upn": "cai@corp.example"},
            {"login": "adm.bob"},
            {"login": "ghost", "email": "ghost@corp.example"},
        ]
    )
    resolved, report = correlate_accounts(accounts, people)
    by_login = resolved.set_index("login")
    assert by_login.loc["ann", ["person_id", "correlated_by"]].tolist() == ["E1", "employee-id"]
    assert by_login.loc["bob", ["person_id", "correlated_by"]].tolist() == ["E2", "email"]
    assert by_login.loc["cai", ["person_id", "correlated_by"]].tolist() == ["E3", "upn"]
    assert by_login.loc["adm.bob", ["person_id", "correlated_by", "kind"]].tolist() == [
        "E2",
        "owner-login",
        "admin",
    ]
    assert pd.isna(by_login.loc["ghost", "person_id"])
    assert report["unmatched_human_accounts"] == 1
    assert report["unmatched_examples"] == ["corp:ghost"]
    assert report["matched"] == {"employee-id": 1, "email": 1, "upn": 1, "owner-login": 1}


def test_manual_map_wins_and_reports_unknown_names(people: pd.DataFrame, tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("account,person_id\ncorp:ann,E4\nnobody,E1\nbob,E99\n", encoding="utf-8")
    accounts = _accounts([{"login": "ann", "employee_id": "E1"}, {"login": "bob"}])
    resolved, report = correlate_accounts(accounts, people, identity_map=read_identity_map(mapping))
    assert resolved.set_index("login").loc["ann", "person_id"] == "E4"
    assert resolved.set_index("login").loc["ann", "correlated_by"] == "manual"
    assert report["manual_problems"] == {"unknown_people": ["E99"], "unknown_accounts": ["nobody"]}


def test_service_patterns_match_login_globs_and_dn_fragments(people: pd.DataFrame) -> None:
    accounts = _accounts(
        [
            {"login": "svc-backup"},
            {"login": "app01", "dn": "CN=app01,OU=Service Accounts,DC=corp"},
            {"login": "gmsa-web$"},
            {"login": "partner", "kind": "guest"},
        ]
    )
    resolved, report = correlate_accounts(
        accounts, people, service_patterns=["svc-*", "*$", "OU=Service Accounts", "part*"]
    )
    assert resolved["kind"].tolist() == ["service", "service", "service", "guest"]
    assert report["service_accounts"] == 3
    assert report["unmatched_human_accounts"] == 0


def test_an_email_shared_by_two_people_matches_nobody(people: pd.DataFrame) -> None:
    twins = pd.concat([people, people.iloc[[0]].assign(person_id="E9")], ignore_index=True)
    resolved, _ = correlate_accounts(
        _accounts([{"login": "ann", "email": "ann@corp.example"}]), twins
    )
    assert resolved["correlated_by"].tolist() == ["unmatched"]


def test_identity_map_with_missing_column_names_the_file(tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("login,person\nann,E1\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"map\.csv.*missing column"):
        read_identity_map(mapping)


def test_collecting_sources_in_reverse_order_gives_an_identical_snapshot(tmp_path: Path) -> None:
    import dataclasses
    import json

    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.sample import write_sample_organisation

    config = load_config(write_sample_organisation(tmp_path / "org", size=300))
    assert len({s.connector for s in config.sources}) >= 5  # directory, HR, inventory, ACL, grants
    reverse = dataclasses.replace(config, sources=tuple(reversed(config.sources)))
    forward = collect(config).save(tmp_path / "forward")
    backward = collect(reverse).save(tmp_path / "backward")
    manifests = [json.loads((f / "manifest.json").read_text()) for f in (forward, backward)]
    assert manifests[0]["tables"]["grants"]["rows"] > 0
    assert manifests[0] == manifests[1]


def test_ids_that_differ_only_by_leading_zeros_are_said_never_matched() -> None:
    """Excel reads an id column of digits as numbers and drops leading zeros when the file is
    saved ("Keeping leading zeros and large numbers", Microsoft Support): HR's 00123 becomes
    123 while the directory keeps 00123. Such accounts stay unmatched (two ids may be two
    people) and the report and warnings say which ones would match."""
    from accessaudit.coverage import collection_warnings

    people = TABLES["people"].conform(
        pd.DataFrame(
            {
                "person_id": ["123", "77", "0450", "450", "9"],
                "name": ["Ann", "Bob", "Cai", "Dee", "Eve"],
                "status": "active",
                "worker_type": "employee",
                "system": "hr",
            }
        )
    )
    accounts = _accounts(
        [
            {"login": "ann", "employee_id": "00123"},  # 123 with its zeros: said
            {"login": "bob", "employee_id": "77"},  # matches as it is
            {"login": "cai", "employee_id": "00450"},  # HR has 0450 and 450: nobody in particular
            {"login": "dan", "employee_id": "00124"},  # no HR 124: a plain orphan
            {"login": "eve", "employee_id": "E9"},  # not digits
        ]
    )
    resolved, report = correlate_accounts(accounts, people)

    assert resolved.set_index("login")["correlated_by"].astype(str).to_dict() == {
        "ann": "unmatched",
        "bob": "employee-id",
        "cai": "unmatched",
        "dan": "unmatched",
        "eve": "unmatched",
    }
    assert report["leading_zero_mismatches"] == {
        "count": 1,
        "examples": [{"account_id": "corp:ann", "employee_id": "00123", "person_id": "123"}],
    }
    said = collection_warnings([{"tables": {"people": 5}}], report)
    assert said[-1].startswith(
        "correlation: 1 of them would match an HR person but for leading zeros (e.g. corp:ann "
        "with employee id 00123 and HR person 123)"
    )
