"""Hostile and broken files: nothing lost, nothing silently wrong, no traceback (issue 11).

Workbooks are written by openpyxl and then altered the way other tools write them: a
``<dimension ref>`` that understates the data (openpyxl's "Optimised Modes" documentation,
"Worksheet dimensions": "Some applications set this incorrectly"), a document type
declaration with entities (ECMA-376 parts never carry one). The encrypted workbook
(fixtures/files/hr_encrypted.xlsx) was written by msoffcrypto-tool's OOXML encryption (MS-OFFCRYPTO
"Agile Encryption": an OLE2 compound file holding EncryptionInfo and EncryptedPackage).
"""

from __future__ import annotations

import io
import re
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from accessaudit.collection import build_snapshot
from accessaudit.config import AuditConfig, parse_config
from accessaudit.connectors import CollectContext, SourceResult, SourceSettings, find_manifests
from accessaudit.connectors.files import _xlsx, collect_hr
from accessaudit.errors import ConfigError, SourceError
from accessaudit.model import TABLES

FIXTURES = Path(__file__).parent / "fixtures" / "files"
AS_OF = pd.Timestamp("2026-11-21", tz="UTC")


def _hr(path: Path, **options: Any) -> SourceResult:
    settings = SourceSettings(
        name="hr", connector="hr-csv", path=path, options=options, base_dir=path.parent
    )
    return collect_hr(settings, find_manifests()["hr-csv"], CollectContext(as_of=AS_OF))


def _workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "People"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(workbook: bytes, part: str, change: Any) -> bytes:
    """The workbook with one part's XML passed through ``change``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                data = change(data)
            target.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


ROSTER = [["employee_id", "name", "status"], *[[1000 + i, f"P{i}", "active"] for i in range(5)]]
SHEET = "xl/worksheets/sheet1.xml"


# ----------------------------------------------------------------------------- xlsx


def test_xlsx_whose_dimension_understates_the_data_reads_every_row(tmp_path: Path) -> None:
    data = _rewrite(
        _workbook(ROSTER), SHEET, lambda xml: xml.replace(b'ref="A1:C6"', b'ref="A1:C2"')
    )
    (tmp_path / "hr.xlsx").write_bytes(data)
    # The file really is one that read-only openpyxl cuts short when it trusts the dimension.
    trusting = load_workbook(tmp_path / "hr.xlsx", read_only=True).worksheets[0]
    assert len(list(trusting.iter_rows(values_only=True))) == 2
    people = _hr(tmp_path / "hr.xlsx").tables["people"]
    assert people["person_id"].tolist() == ["1000", "1001", "1002", "1003", "1004"]


def test_encrypted_workbook_says_save_it_without_a_password() -> None:
    with pytest.raises(SourceError, match="encrypted workbook: save it without a password"):
        _hr(FIXTURES / "hr_encrypted.xlsx")


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>',
        b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    ],
    ids=["external-entity", "billion-laughs"],
)
def test_xlsx_with_a_dtd_is_refused_without_resolving_entities(
    tmp_path: Path, doctype: bytes
) -> None:
    def inject(xml: bytes) -> bytes:
        entity = b"&xxe;" if b"xxe" in doctype else b"&d;"
        return doctype + xml.replace(b"<t>P0</t>", b"<t>" + entity + b"</t>")

    (tmp_path / "hr.xlsx").write_bytes(_rewrite(_workbook(ROSTER), SHEET, inject))
    with pytest.raises(SourceError, match="document type declaration") as caught:
        _hr(tmp_path / "hr.xlsx")
    assert caught.value.location == f"hr.xlsx (part {SHEET})"


def test_xlsx_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    # As in the report that prompted this: 3 million empty rows packed into under a megabyte.
    rows = b"<row/>" * 3_000_000

    def inflate(xml: bytes) -> bytes:
        return xml.replace(b"</sheetData>", rows + b"</sheetData>")

    data = _rewrite(_workbook(ROSTER), SHEET, inflate)
    assert len(data) < 1_000_000
    (tmp_path / "hr.xlsx").write_bytes(data)
    started = time.perf_counter()
    with pytest.raises(SourceError, match="refused as a zip bomb"):
        _hr(tmp_path / "hr.xlsx")
    assert time.perf_counter() - started < 5


def test_xlsx_past_the_row_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Excel's own limit is 1,048,576 rows; a smaller limit proves the refusal quickly.
    monkeypatch.setattr(_xlsx, "MAX_ROWS", 4)
    (tmp_path / "hr.xlsx").write_bytes(_workbook(ROSTER))
    with pytest.raises(SourceError, match="has more than Excel's 4 rows; refused"):
        _hr(tmp_path / "hr.xlsx")


def test_xlsx_repeated_header_is_refused_naming_both(tmp_path: Path) -> None:
    rows = [["employee_id", "name", "status", "Status"], [1, "Ann", "active", "terminated"]]
    (tmp_path / "hr.xlsx").write_bytes(_workbook(rows))
    with pytest.raises(SourceError, match="repeats column 'status' and 'Status'"):
        _hr(tmp_path / "hr.xlsx")


# ----------------------------------------------------------------------------- csv


def test_csv_repeated_header_exact_or_in_another_case_is_refused(tmp_path: Path) -> None:
    for header, named in (
        ("employee_id,name,status,STATUS", "'status' and 'STATUS'"),
        ("employee_id,name,name,status", "'name' and 'name'"),
    ):
        (tmp_path / "hr.csv").write_text(f"{header}\n1,Ann,Ann,active\n")
        with pytest.raises(SourceError, match=f"hr.csv:1: the header repeats column {named}"):
            _hr(tmp_path / "hr.csv")
    # A repeated column we do not read is no ambiguity.
    (tmp_path / "hr.csv").write_text("employee_id,name,status,note,NOTE\n1,Ann,active,a,b\n")
    assert len(_hr(tmp_path / "hr.csv").tables["people"]) == 1


def test_csv_with_cr_only_line_ends_is_read_with_real_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "mac.csv").write_bytes(b"employee_id,name,status\r1,Ann,active\r2,Bo,gone\r")
    with pytest.raises(SourceError) as caught:
        _hr(tmp_path / "mac.csv")
    assert caught.value.location == "mac.csv:3"
    (tmp_path / "mac.csv").write_bytes(b"employee_id,name,status\r1,Ann,active\r2,Bo,leave\r")
    assert _hr(tmp_path / "mac.csv").tables["people"]["person_id"].tolist() == ["1", "2"]


def test_semicolon_csv_is_recognised_and_read_with_the_delimiter_option(tmp_path: Path) -> None:
    (tmp_path / "eu.csv").write_text("employee_id;name;status\n1;Ann;active\n")
    with pytest.raises(SourceError, match=r'eu\.csv:1: .*set delimiter = ";" for this source'):
        _hr(tmp_path / "eu.csv")
    people = _hr(tmp_path / "eu.csv", delimiter=";").tables["people"]
    assert people.loc[0, "name"] == "Ann"
    with pytest.raises(ConfigError, match="delimiter must be one character"):
        _hr(tmp_path / "eu.csv", delimiter=";;")


def test_utf16_without_bom_gets_a_hint_and_reads_with_the_encoding_option(
    tmp_path: Path,
) -> None:
    (tmp_path / "u16.csv").write_bytes(
        "employee_id,name,status\n1,Zoë,active\n".encode("utf-16-le")
    )
    with pytest.raises(SourceError, match='UTF-16 text without a byte-order mark.*"utf-16-le"'):
        _hr(tmp_path / "u16.csv")
    people = _hr(tmp_path / "u16.csv", encoding="utf-16-le").tables["people"]
    assert people.loc[0, "name"] == "Zoë"


# ----------------------------------------------------------------------------- rows


def test_ten_thousand_rows_with_one_id_give_a_bounded_error_quickly(tmp_path: Path) -> None:
    rows = 10_000
    frame = pd.DataFrame({"employee_id": "1001", "name": "Ann", "status": ["active"] * rows})
    frame.to_csv(tmp_path / "hr.csv", index=False)
    started = time.perf_counter()
    with pytest.raises(SourceError) as caught:
        _hr(tmp_path / "hr.csv")
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert len(message) < 500
    assert "hr.csv:2" in message
    assert f"and {rows - 3} more" in message
    failures = caught.value.failures
    assert failures is not None
    assert len(failures) == rows
    assert failures["location"].iloc[-1] == f"hr.csv:{rows + 1}"


def test_far_hr_dates_are_stored_as_no_date_and_audited(tmp_path: Path) -> None:
    from accessaudit.audit import run_audit
    from accessaudit.policy import Policy

    (tmp_path / "hr.csv").write_text(
        "employee_id,name,email,status,start_date,end_date\n"
        "1,Ann,ann@corp.example,active,0001-01-01,9999-12-31\n"
        "2,Bo,bo@corp.example,terminated,2020-01-01,2026-01-31\n"
    )
    hr = _hr(tmp_path / "hr.csv")
    people = hr.tables["people"].set_index("person_id")
    assert pd.isna(people.loc["1", "start_date"])
    assert pd.isna(people.loc["1", "end_date"])  # "no end"
    assert hr.report["dates_stored_empty"] == {"start_date": 1, "end_date": 1}
    accounts = TABLES["accounts"].conform(
        pd.DataFrame(
            {
                "account_id": ["corp:ann", "corp:bo"],
                "system": "corp",
                "native_id": ["1", "2"],
                "login": ["ann", "bo"],
                "email": ["ann@corp.example", "bo@corp.example"],
                "kind": "user",
                "enabled": True,
                "last_sign_in": AS_OF - pd.Timedelta(days=1),
            }
        )
    )
    snapshot = build_snapshot(
        [hr, SourceResult("corp", "active-directory", {"accounts": accounts})], as_of=AS_OF
    )
    findings = run_audit(snapshot, Policy()).findings
    leavers = findings[findings["rule"] == "leaver-active"]
    assert leavers["subject_id"].tolist() == ["corp:bo"]


# ----------------------------------------------------------------------------- config


def _config(source: str) -> AuditConfig:
    text = f'[[sources]]\nname = "hr"\nconnector = "hr-csv"\npath = "hr.csv"\n{source}'
    return parse_config(tomllib.loads(text), base_dir=Path("."), origin="a.toml")


def test_unknown_source_key_is_refused_with_the_connectors_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        _config('sheets = "People"\n')
    message = str(caught.value)
    assert "unknown key(s) sheets for connector 'hr-csv'" in message
    assert re.search(r"known: .*\bsheet\b.*\bstatus_map\b", message)


@pytest.mark.parametrize(
    "source",
    [
        'password = "hunter2"\n',
        "api_token = 12345\n",
        '[sources.columns]\nname = "n"\n[sources.columns.more]\nclient_secret = "x"\n',
        'extra = [{ private_key = "-----BEGIN" }]\n',
    ],
    ids=["plain", "any-type", "nested-table", "inside-a-list"],
)
def test_secret_looking_key_is_refused_whatever_its_nesting(source: str) -> None:
    with pytest.raises(ConfigError, match="looks like a secret"):
        _config(source)


def test_names_of_secrets_and_word_maps_are_not_secrets() -> None:
    config = _config('status_map = { "Secret" = "terminated", "token" = "leave" }\n')
    assert config.sources[0].option("status_map")["Secret"] == "terminated"
    parse_config(
        {
            "sources": [
                {
                    "name": "corp",
                    "connector": "active-directory",
                    "url": "ldaps://dc1",
                    "base_dn": "DC=corp",
                    "password_env": "CORP_PW",
                }
            ]
        },
        base_dir=Path("."),
        origin="a.toml",
    )
