"""The file connectors: hr-csv, data-inventory, ntfs-acl and grants-csv.

Fixtures in tests/fixtures/files/ are hand-written; XLSX and byte-level cases (BOM, cp1252)
are written by the test itself into tmp_path. The directory that ntfs-acl and grants-csv
name is built from real conformed tables; what they name is resolved by the snapshot stage
(accessaudit.resolve), as collect does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from accessaudit.connectors import PROTOCOLS, find_manifests, load_protocol
from accessaudit.connectors.base import CollectContext, SourceResult, SourceSettings
from accessaudit.connectors.files import (
    collect_grants,
    collect_hr,
    collect_inventory,
    collect_ntfs_acl,
    right_from_ntfs_rights,
)
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import TABLES
from accessaudit.resolve import normalise_paths, resolve_references

FIXTURES = Path(__file__).parent / "fixtures" / "files"
AS_OF = pd.Timestamp("2026-11-21", tz="UTC")
ALICE_SID = "S-1-5-21-1000-2000-3000-1105"
FINANCE_SID = "S-1-5-21-1000-2000-3000-2201"


def _settings(name: str, connector: str, path: Path | str, **options: Any) -> SourceSettings:
    return SourceSettings(
        name=name, connector=connector, path=Path(path), options=options, base_dir=FIXTURES
    )


def _context() -> CollectContext:
    return CollectContext(as_of=AS_OF)


def _resolved(result: SourceResult, *others: SourceResult) -> SourceResult:
    """``result`` after the snapshot stage resolved it against ``others``."""
    return {r.source: r for r in resolve_references([*others, result])}[result.source]


def _hr(path: Path | str = "hr.csv", **options: Any) -> SourceResult:
    return collect_hr(
        _settings("hr", "hr-csv", path, **options), find_manifests()["hr-csv"], _context()
    )


def _directory() -> SourceResult:
    accounts = TABLES["accounts"].conform(
        pd.DataFrame(
            {
                "account_id": ["corp:alice", "corp:bob", "corp:carol"],
                "system": "corp",
                "native_id": [ALICE_SID, "S-1-5-21-1000-2000-3000-1106", "S-1-5-21-1-2-3-1107"],
                "login": ["alice", "bob", "carol"],
                "sid": [ALICE_SID, "S-1-5-21-1000-2000-3000-1106", "S-1-5-21-1-2-3-1107"],
                "kind": "user",
                "enabled": True,
            }
        )
    )
    groups = TABLES["groups"].conform(
        pd.DataFrame(
            {
                "group_id": ["corp:finance-rw", "corp:domain-users"],
                "system": "corp",
                "native_id": [FINANCE_SID, "S-1-5-21-1000-2000-3000-513"],
                "name": ["Finance-RW", "Domain Users"],
                "kind": "group",
                "sid": [FINANCE_SID, "S-1-5-21-1000-2000-3000-513"],
            }
        )
    )
    return SourceResult("corp", "active-directory", {"accounts": accounts, "groups": groups})


def _inventory(**options: Any) -> SourceResult:
    return collect_inventory(
        _settings("inventory", "data-inventory", "inventory.csv", **options),
        find_manifests()["data-inventory"],
        _context(),
    )


def _acl(path: Path | str = "acl.csv", **options: Any) -> SourceResult:
    options = {"domain": "CORP", "directory": "corp", **options}
    result = collect_ntfs_acl(
        _settings("fsacl", "ntfs-acl", path, **options), find_manifests()["ntfs-acl"], _context()
    )
    return _resolved(result, _directory(), _hr(), _inventory())


def _grants(path: Path | str = "grants.csv", **options: Any) -> SourceResult:
    result = collect_grants(
        _settings("erp", "grants-csv", path, **options), find_manifests()["grants-csv"], _context()
    )
    return _resolved(result, _directory(), _hr(), _inventory())


def _grant(result: SourceResult, principal: str, resource: str, **where: Any) -> pd.Series:
    grants = result.tables["grants"]
    mask = (grants["principal_id"] == principal) & (grants["resource_id"] == resource)
    for column, value in where.items():
        mask &= grants[column] == value
    assert mask.sum() == 1, grants[mask]
    return grants[mask].iloc[0]


# ----------------------------------------------------------------------------- registry


def test_each_file_protocol_is_registered_and_has_a_manifest_with_columns() -> None:
    manifests = find_manifests()
    for connector, function in (
        ("hr-csv", collect_hr),
        ("data-inventory", collect_inventory),
        ("ntfs-acl", collect_ntfs_acl),
        ("grants-csv", collect_grants),
    ):
        assert manifests[connector].protocol == connector
        assert manifests[connector].section("columns")
        assert connector in PROTOCOLS
        assert load_protocol(connector) is function


def test_every_source_key_a_protocol_reads_is_declared_in_the_registry() -> None:
    """A key the code reads but the registry lacks would be refused in every config."""
    import inspect
    import re

    from accessaudit.connectors import source_keys

    reads = re.compile(r'(?:option|required|secret)\(\s*(?:settings,\s*)?"([a-z_]+)"')
    for protocol in PROTOCOLS:
        origin = Path(inspect.getfile(load_protocol(protocol)))
        # A package's collect reads through the whole package; a module, through itself and
        # the private helpers beside it.
        if origin.name == "__init__.py":
            files = sorted(origin.parent.glob("*.py"))
        else:
            files = [origin, *sorted(origin.parent.glob("_*.py"))]
        # …and through the shared private packages beside the connectors it imports
        # (connectors/_graph for entra-id and m365).
        shared = {
            name
            for file in files
            for name in re.findall(r"accessaudit\.connectors\.(_\w+)", file.read_text("utf-8"))
        }
        connectors = Path(inspect.getfile(source_keys)).parent
        files += [
            file for name in sorted(shared) for file in sorted((connectors / name).glob("*.py"))
        ]
        read = {key for file in files for key in reads.findall(file.read_text(encoding="utf-8"))}
        assert read, protocol
        assert read <= source_keys(protocol), (protocol, read - source_keys(protocol))


# ----------------------------------------------------------------------------- hr-csv


def test_hr_roster_becomes_conformed_people_with_lower_case_emails() -> None:
    result = _hr()
    people = result.tables["people"]
    TABLES["people"].check(people)
    assert people["person_id"].tolist() == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert people.loc[0, "email"] == "carol.chief@example.com"
    assert (people["system"] == "hr").all()
    assert people.loc[2, "end_date"] == pd.Timestamp("2026-09-30", tz="UTC")
    assert people.loc[4, "worker_type"] == "employee"  # blank → default_worker_type


def test_hr_report_counts_statuses_unknown_managers_and_active_past_end_date() -> None:
    report = _hr().report
    assert report["rows"] == 6
    assert report["by_status"] == {"active": 4, "leave": 1, "terminated": 1}
    assert report["by_worker_type"] == {"contractor": 1, "employee": 4, "vendor": 1}
    assert report["unknown_managers"] == {"count": 1, "examples": ["1099"]}
    assert report["active_with_past_end_date"] == 1
    assert any("1 people active with a past end date" in w for w in report["warnings"])


def test_hr_column_renames_and_status_map_read_a_local_roster() -> None:
    result = _hr(
        "hr_renamed.csv",
        columns={
            "employee_id": "Personnel No",
            "name": "Full Name",
            "email": "Mail",
            "department": "Org Unit",
            "title": "Job",
            "manager_id": "Supervisor",
            "status": "Employment Status",
            "worker_type": "Type",
            "start_date": "Hire Date",
            "end_date": "Leave Date",
        },
        status_map={"Withdrawn": "terminated"},
        worker_type_map={"agency": "contractor"},
    )
    people = result.tables["people"].set_index("person_id")
    assert people["status"].astype(str).to_dict() == {
        "A-1": "active",
        "A-2": "terminated",
        "A-3": "leave",  # LOA from the manifest's status_map
    }
    assert people.loc["A-3", "worker_type"] == "contractor"
    assert people.loc["A-2", "manager_id"] == "A-1"


def test_hr_reads_xlsx_and_names_sheet_and_row_in_errors(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "People"
    sheet.append(["employee_id", "name", "email", "status", "start_date"])
    sheet.append([1001, "Carol", "CAROL@example.com", "Active", pd.Timestamp("2020-01-02")])
    sheet.append([1002, "Dan", None, "gone", None])
    workbook.save(tmp_path / "hr.xlsx")
    with pytest.raises(SourceError) as caught:
        _hr(tmp_path / "hr.xlsx")
    assert caught.value.location == "hr.xlsx!People:3"
    assert "gone" in str(caught.value)

    sheet.delete_rows(3)
    workbook.save(tmp_path / "hr.xlsx")
    people = _hr(tmp_path / "hr.xlsx", sheet="People").tables["people"]
    assert people.loc[0, "person_id"] == "1001"  # a number cell, not "1001.0"
    assert people.loc[0, "email"] == "carol@example.com"
    assert people.loc[0, "start_date"] == pd.Timestamp("2020-01-02", tz="UTC")


def test_hr_accepts_a_utf8_bom_and_an_explicit_cp1252_encoding(tmp_path: Path) -> None:
    text = "employee_id,name,status\n7,Zoë Ångström,active\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    people = _hr(tmp_path / "bom.csv").tables["people"]
    assert people.loc[0, "person_id"] == "7"
    assert people.loc[0, "name"] == "Zoë Ångström"

    (tmp_path / "ansi.csv").write_bytes(text.encode("cp1252"))
    people = _hr(tmp_path / "ansi.csv", encoding="cp1252").tables["people"]
    assert people.loc[0, "name"] == "Zoë Ångström"


def test_hr_non_utf8_bytes_name_the_line_and_suggest_utf8(tmp_path: Path) -> None:
    text = "employee_id,name,status\n1,Ann,active\n2,Zoë,active\n3,Bo,active\n4,Åsa,active\n"
    (tmp_path / "ansi.csv").write_bytes(text.encode("cp1252"))
    with pytest.raises(SourceError) as caught:
        _hr(tmp_path / "ansi.csv")
    message = str(caught.value)
    assert "ansi.csv:3" in message
    assert "UTF-8" in message
    assert "encoding" in message
    assert caught.value.failures is not None
    assert caught.value.failures["location"].tolist() == ["ansi.csv:3", "ansi.csv:5"]


def test_hr_unknown_status_words_are_all_listed_and_point_at_status_map() -> None:
    with pytest.raises(SourceError) as caught:
        _hr("hr_bad_status.csv")
    message = str(caught.value)
    assert message.startswith("hr: hr_bad_status.csv:3: status 'Withdrawn'")
    assert "[sources.status_map]" in message
    failures = caught.value.failures
    assert failures is not None
    assert failures["location"].tolist() == ["hr_bad_status.csv:3", "hr_bad_status.csv:5"]
    assert failures["value"].tolist() == ["Withdrawn", "Retired"]


def test_hr_duplicate_employee_id_names_both_lines() -> None:
    with pytest.raises(SourceError) as caught:
        _hr("hr_duplicate.csv")
    assert "hr_duplicate.csv:3" in str(caught.value)
    assert "hr_duplicate.csv:5" in str(caught.value)
    failures = caught.value.failures
    assert failures is not None
    assert failures["location"].tolist() == ["hr_duplicate.csv:3", "hr_duplicate.csv:5"]


def test_hr_missing_column_is_named_with_the_columns_found() -> None:
    with pytest.raises(SourceError) as caught:
        _hr("hr_missing_column.csv")
    message = str(caught.value)
    assert "hr_missing_column.csv:1" in message
    assert "'name'" in message
    assert "'employee_id', 'full_name', 'status'" in message


def test_hr_empty_file_and_missing_file_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"hr_empty\.csv:1: the file is empty"):
        _hr("hr_empty.csv")
    (tmp_path / "header.csv").write_text("employee_id,name,status\n\n")
    with pytest.raises(SourceError, match=r"header\.csv:1: has a header but no data rows"):
        _hr(tmp_path / "header.csv")
    with pytest.raises(SourceError, match="nowhere.csv: file not found"):
        _hr(tmp_path / "nowhere.csv")


def test_hr_dates_are_iso_only_unless_date_format_is_given(tmp_path: Path) -> None:
    (tmp_path / "eu.csv").write_text("employee_id,name,status,end_date\n1,Ann,active,31/01/2026\n")
    with pytest.raises(SourceError, match=r"eu\.csv:2: end_date '31/01/2026' is not an ISO"):
        _hr(tmp_path / "eu.csv")
    people = _hr(tmp_path / "eu.csv", date_format="%d/%m/%Y").tables["people"]
    assert people.loc[0, "end_date"] == pd.Timestamp("2026-01-31", tz="UTC")


def test_bad_map_target_in_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'Gone' maps to 'fired'"):
        _hr(status_map={"Gone": "fired"})


# ----------------------------------------------------------------------------- inventory


def test_inventory_ids_owners_categories_and_sensitivity_map() -> None:
    result = _resolved(_inventory(), _hr())
    resources = result.tables["resources"].set_index("name")
    TABLES["resources"].check(result.tables["resources"])
    assert resources.loc["Payroll", "resource_id"] == "inventory:Payroll"
    assert resources.loc["Finance share", "owner_id"] == "1001"  # by email, any case
    assert resources.loc["Payroll", "owner_id"] == "1002"  # by employee id
    assert resources["owner_id"].isna()["HR site"]
    assert resources.loc["HR site", "owner"] == "nobody@example.com"
    assert resources.loc["Finance share", "data_categories"] == "pci;pii"
    assert resources.loc["Payroll", "data_categories"] == "phi;pii"
    assert resources["data_categories"].isna()["Public"]
    assert resources.loc["Payroll", "sensitivity"] == "restricted"  # "Highly Confidential"
    assert resources.loc["HR site", "type"] == "site"  # "SharePoint" via type_map
    assert resources.loc["Payroll", "retention_days"] == 3650
    assert resources["inventoried"].all()
    assert result.report["unknown_owners"] == {"count": 1, "examples": ["nobody@example.com"]}


def test_inventory_unknown_sensitivity_label_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "inv.csv").write_text("resource,sensitivity\nA,internal\nB,Top Secret\n")
    with pytest.raises(SourceError) as caught:
        collect_inventory(
            _settings("inv", "data-inventory", tmp_path / "inv.csv"),
            find_manifests()["data-inventory"],
            _context(),
        )
    assert caught.value.location == "inv.csv:3"
    assert "sensitivity_map" in str(caught.value)
    result = collect_inventory(
        _settings(
            "inv",
            "data-inventory",
            tmp_path / "inv.csv",
            sensitivity_map={"top secret": "restricted"},
        ),
        find_manifests()["data-inventory"],
        _context(),
    )
    assert result.tables["resources"]["sensitivity"].tolist() == ["internal", "restricted"]


# ----------------------------------------------------------------------------- ntfs-acl


def test_ntfs_rights_words_and_masks_map_onto_our_rights() -> None:
    assert right_from_ntfs_rights("Modify, Synchronize") == "write"
    assert right_from_ntfs_rights("ReadAndExecute, Synchronize") == "read"
    assert right_from_ntfs_rights("FullControl") == "admin"
    assert right_from_ntfs_rights("TakeOwnership") == "admin"
    assert right_from_ntfs_rights("268435456") == "admin"  # GENERIC_ALL
    assert right_from_ntfs_rights("-536805376") == "write"  # GENERIC_READ|WRITE|EXECUTE|DELETE
    assert right_from_ntfs_rights("1179817") == "read"  # ReadAndExecute, Synchronize
    assert right_from_ntfs_rights("Synchronize") is None
    with pytest.raises(ValueError, match="Fly"):
        right_from_ntfs_rights("Read, Fly")


def test_ntfs_paths_normalise_prefix_case_separators_and_trailing_slash() -> None:
    paths = pd.Series(
        [
            "Microsoft.PowerShell.Core\\FileSystem::\\\\FS01\\Finance\\",
            "//fs01/finance",
            "\\\\?\\UNC\\fs01\\finance",
        ]
    )
    assert set(normalise_paths(paths)) == {"\\\\fs01\\finance"}


def test_ntfs_acl_export_becomes_collapsed_grants() -> None:
    result = _acl()
    grants = result.tables["grants"]
    TABLES["grants"].check(grants)
    assert len(grants) == 14
    assert (grants["system"] == "fsacl").all()
    finance = "inventory:Finance share"
    payroll = "inventory:Payroll"
    # "Modify, Synchronize" on a group resolved by name
    direct = _grant(result, "corp:finance-rw", finance, inherited=False)
    assert direct["right"] == "write"
    assert direct["principal_type"] == "group"
    # read + write inherited ACEs collapse to write, on the most specific path holding it
    inherited = _grant(result, "corp:finance-rw", finance, inherited=True)
    assert inherited["right"] == "write"
    assert inherited["path"] == "\\\\fs01\\finance\\reports\\q3"
    # a raw SID resolves to the account; FullControl → admin
    by_sid = _grant(result, "corp:alice", payroll, inherited=False)
    assert (by_sid["right"], by_sid["principal_type"]) == ("admin", "account")
    # GENERIC_ALL as a number, CORP\alice by login
    assert _grant(result, "corp:alice", payroll, inherited=True)["right"] == "admin"
    # Deny, domain compared case-insensitively
    denied = _grant(result, "corp:bob", payroll)
    assert (denied["right"], denied["deny"]) == ("read", True)
    # TakeOwnership on a path written in another case with a trailing separator
    assert _grant(result, "corp:finance-rw", payroll)["right"] == "admin"
    assert _grant(result, "corp:domain-users", "inventory:Public")["right"] == "read"


def test_ntfs_subfolder_with_its_own_inventory_entry_wins_over_its_parent() -> None:
    grants = _acl().tables["grants"]
    on_payroll = grants[grants["path"].str.lower().str.contains("payroll")]
    assert set(on_payroll["resource_id"]) == {"inventory:Payroll"}
    on_reports = grants[grants["path"].str.contains("reports")]
    assert set(on_reports["resource_id"]) == {"inventory:Finance share"}


def test_icacls_output_gives_the_same_grants_as_the_get_acl_csv() -> None:
    """fixtures/files/acl_icacls.txt is acl.csv as ``icacls /T /C`` prints it (UTF-16 via
    PowerShell's ``>``; layout in tests/test_files_icacls.py)."""
    from_csv = _acl()
    from_icacls = _acl("acl_icacls.txt")
    columns = ["principal_id", "resource_id", "right", "inherited", "deny", "path"]

    def grants(result: SourceResult) -> pd.DataFrame:
        table = result.tables["grants"][columns].astype("str")
        table["path"] = table["path"].str.lower().str.rstrip("\\")
        return table.sort_values(columns).reset_index(drop=True)

    pd.testing.assert_frame_equal(grants(from_icacls), grants(from_csv))
    assert from_icacls.report["aces"] == from_csv.report["aces"] == 16
    assert from_icacls.report["icacls_summary"] == {"processed": 9, "failed": 0}
    assert (
        from_icacls.report["unresolved"]["by_identity"]
        == (from_csv.report["unresolved"]["by_identity"])
    )
    assert (FIXTURES / "acl_icacls.txt").read_bytes().startswith(b"\xff\xfe")


def test_ntfs_unresolved_identities_are_kept_and_counted() -> None:
    result = _acl()
    unresolved = result.tables["grants"].query("principal_type == 'unresolved'")
    expected = {
        "BUILTIN\\Administrators",
        "NT AUTHORITY\\SYSTEM",
        "CREATOR OWNER",
        "S-1-5-21-9999-8888-7777-1234",
        "OTHERDOM\\carol",
    }
    assert set(unresolved["principal_id"]) == expected
    assert _grant(result, "S-1-5-21-9999-8888-7777-1234", "inventory:Finance share")["right"] == (
        "write"
    )
    report = result.report["unresolved"]
    assert report["identities"] == 6  # and Everyone, whose only ACE gives no data right
    assert report["by_identity"]["BUILTIN\\Administrators"] == 1
    assert report["by_identity"]["Everyone"] == 1
    assert result.report["aces_without_data_right"] == 1
    assert result.report["aces"] == 16


def test_ntfs_uncovered_paths_become_non_inventoried_share_resources() -> None:
    result = _acl()
    resources = result.tables["resources"]
    TABLES["resources"].check(resources)
    assert sorted(resources["resource_id"]) == [
        "fsacl:\\\\fs01\\finance-archive",  # not inside \\fs01\finance: whole components
        "fsacl:\\\\fs01\\scratch",
    ]
    assert not resources["inventoried"].any()
    assert (resources["type"] == "share").all()
    scratch = _grant(result, "corp:bob", "fsacl:\\\\fs01\\scratch")
    assert (scratch["right"], scratch["path"]) == ("write", "\\\\fs01\\scratch\\tmp")


def test_ntfs_bad_rights_word_names_the_real_line_after_the_type_line(tmp_path: Path) -> None:
    (tmp_path / "acl.csv").write_text(
        "#TYPE System.Management.Automation.PSCustomObject\n"
        '"Path","IdentityReference","FileSystemRights","AccessControlType","IsInherited"\n'
        '"\\\\fs01\\a","CORP\\bob","Read","Allow","False"\n'
        '"\\\\fs01\\a","CORP\\bob","Fly","Allow","False"\n'
        '"\\\\fs01\\a","CORP\\bob","Read","Permit","maybe"\n'
    )
    with pytest.raises(SourceError) as caught:
        _acl(tmp_path / "acl.csv")
    assert caught.value.location == "acl.csv:4"
    failures = caught.value.failures
    assert failures is not None
    assert sorted(failures["location"]) == ["acl.csv:4", "acl.csv:5", "acl.csv:5"]


def test_ntfs_directory_must_be_a_configured_source() -> None:
    with pytest.raises(ConfigError, match="directory 'nope'"):
        _acl(directory="nope")


def test_ntfs_a_million_aces_collapse_in_seconds(tmp_path: Path) -> None:
    rows = 1_000_000
    rng = np.random.default_rng(7)
    folders = np.array([f"\\\\fs01\\finance\\d{i}\\sub{i % 7}" for i in range(20_000)])
    identities = np.array(
        ["CORP\\alice", "CORP\\bob", "CORP\\Finance-RW", ALICE_SID, "BUILTIN\\Administrators"]
        + [f"S-1-5-21-5-5-5-{i}" for i in range(200)]
    )
    rights = np.array(["Modify, Synchronize", "ReadAndExecute, Synchronize", "FullControl"])
    frame = pd.DataFrame(
        {
            "Path": folders[rng.integers(0, len(folders), rows)],
            "IdentityReference": identities[rng.integers(0, len(identities), rows)],
            "FileSystemRights": rights[rng.integers(0, len(rights), rows)],
            "AccessControlType": "Allow",
            "IsInherited": np.where(rng.random(rows) < 0.8, "True", "False"),
        }
    )
    frame.to_csv(tmp_path / "big.csv", index=False)
    started = time.perf_counter()
    result = _acl(tmp_path / "big.csv")
    elapsed = time.perf_counter() - started
    assert result.report["aces"] == rows
    assert set(result.tables["grants"]["resource_id"]) == {"inventory:Finance share"}
    assert elapsed < 20, f"{rows} ACEs took {elapsed:.1f} s"


# ----------------------------------------------------------------------------- grants-csv


def test_grants_csv_resolves_principals_resources_and_right_synonyms() -> None:
    result = _grants()
    grants = result.tables["grants"]
    TABLES["grants"].check(grants)
    assert len(grants) == 5
    # "select" then "modify" for the same pair collapse to the higher right
    alice = _grant(result, "corp:alice", "inventory:Finance share")
    assert (alice["right"], alice["principal_type"]) == ("write", "account")
    finance = _grant(result, "corp:finance-rw", "inventory:Payroll")
    assert (finance["right"], finance["inherited"], finance["principal_type"]) == (
        "write",
        True,
        "group",
    )
    assert _grant(result, "corp:bob", "erp:ERP Ledger")["right"] == "owner"  # dbo
    assert _grant(result, "corp:bob", "inventory:Payroll")["deny"]
    ghost = _grant(result, "ghost", "erp:ERP Ledger")
    assert (ghost["principal_type"], ghost["right"]) == ("unresolved", "read")
    assert result.report["unresolved"] == {"identities": 1, "rows": 1, "by_identity": {"ghost": 1}}
    resources = result.tables["resources"]
    assert resources["resource_id"].tolist() == ["erp:ERP Ledger"]
    assert not resources["inventoried"].any()


def test_grants_csv_malformed_rows_are_all_reported_with_lines() -> None:
    with pytest.raises(SourceError) as caught:
        _grants("grants_bad.csv")
    assert caught.value.location == "grants_bad.csv:3"
    assert "superuser" in str(caught.value)
    failures = caught.value.failures
    assert failures is not None
    assert sorted(zip(failures["location"], failures["column"], strict=True)) == [
        ("grants_bad.csv:3", "right"),
        ("grants_bad.csv:5", "deny"),
        ("grants_bad.csv:6", "principal"),
    ]


def test_grants_csv_login_in_two_directories_is_ambiguous_unless_narrowed(
    tmp_path: Path,
) -> None:
    cloud = TABLES["accounts"].conform(
        pd.DataFrame(
            {
                "account_id": ["cloud:1"],
                "system": "cloud",
                "native_id": ["1"],
                "login": ["Alice"],
                "kind": "user",
                "enabled": True,
            }
        )
    )
    (tmp_path / "g.csv").write_text("principal,resource,right\nalice,Finance share,read\n")
    others = (_directory(), SourceResult("cloud", "entra-id", {"accounts": cloud}), _inventory())
    manifest = find_manifests()["grants-csv"]
    read = collect_grants(_settings("erp", "grants-csv", tmp_path / "g.csv"), manifest, _context())
    with pytest.raises(SourceError, match=r"g\.csv:2: principal 'alice' matches several"):
        _resolved(read, *others)
    read = collect_grants(
        _settings("erp", "grants-csv", tmp_path / "g.csv", directory="cloud"), manifest, _context()
    )
    result = _resolved(read, *others)
    assert result.tables["grants"]["principal_id"].tolist() == ["cloud:1"]


def test_grants_csv_row_with_extra_fields_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "g.csv").write_text(
        "principal,resource,right\nalice,Finance share,read\nbob,Payroll,read,extra\n"
    )
    with pytest.raises(SourceError) as caught:
        _grants(tmp_path / "g.csv")
    assert caught.value.location == "g.csv:3"
    assert "has 4 fields where the header has 3" in str(caught.value)


def test_inventory_owner_naming_a_group_resolves_and_an_unknown_one_is_kept_as_written(
    tmp_path: Path,
) -> None:
    (tmp_path / "inv.csv").write_text(
        "resource,owner,sensitivity\nA,Finance-RW,confidential\nB,IT Department,restricted\n"
    )
    read = collect_inventory(
        _settings("inv", "data-inventory", tmp_path / "inv.csv"),
        find_manifests()["data-inventory"],
        _context(),
    )
    assert read.tables["resources"]["owner_id"].isna().all()  # the connector resolves nothing
    result = _resolved(read, _directory(), _hr())
    resources = result.tables["resources"].set_index("name")
    assert resources.loc["A", "owner_id"] == "corp:finance-rw"
    assert pd.isna(resources.loc["B", "owner_id"])
    assert resources.loc["B", "owner"] == "IT Department"  # what rules quote in their message
    assert result.report["owners"] == {"person": 0, "group": 1, "unresolved": 1}
    assert result.report["unknown_owners"] == {"count": 1, "examples": ["IT Department"]}
