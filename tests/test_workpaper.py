"""The audit workbook as a workpaper: the Summary header says what was audited, against
what, and what was not checked; the Rules sheet explains every rule and prints on one page
width."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import accessaudit
from accessaudit.reports.excel import write_report
from accessaudit.rules import RULES
from accessaudit.snapshot import Snapshot


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, accessaudit.AuditResult]:
    folder = tmp_path_factory.mktemp("wp")
    config_path = accessaudit.write_sample_organisation(folder / "org", size=200)
    text = config_path.read_text(encoding="utf-8")
    hr = '[[sources]]\nname = "hr"\nconnector = "hr-csv"\npath = "exports/hr.csv"\n'
    no_hr = config_path.with_name("no-hr.toml")
    no_hr.write_text(text.replace(hr, ""), encoding="utf-8")
    config = accessaudit.load_config(no_hr)
    snapshot = Snapshot.load(accessaudit.collect(config).save(folder / "snap"))
    result = accessaudit.run_audit(snapshot, config.policy)
    path = folder / "report.xlsx"
    write_report(path, result, snapshot)
    return path, result


def test_summary_is_a_workpaper_header(workbook: tuple[Path, accessaudit.AuditResult]) -> None:
    path, result = workbook
    sheet = openpyxl.load_workbook(path)["Summary"]
    rows: dict[str, object] = {}
    for r in sheet.iter_rows(values_only=True):
        if r and r[0] is not None and len(r) > 1:
            rows.setdefault(str(r[0]), r[1])  # the first row of a label: "corp" is a source

    assert str(next(sheet.iter_rows(values_only=True))[0]).startswith("Access audit workpaper")
    assert rows["Snapshot digest (SHA-256)"] == result.snapshot_digest
    assert rows["Tool"] == f"accessaudit {accessaudit.__version__}"
    assert str(rows["corp"]).startswith("active-directory: accounts ")
    assert rows["stale_days"] == 90 and rows["peer_max_share"] == 0.1
    assert rows["approved for Domain Admins"] == "adm.praman, adm.twojcik, adm.ogrant"
    assert rows["leaver-active"] == "not checked: no HR source"
    assert rows["Findings shown"] == len(result.findings)
    by_rule = {
        r[0]: r[3] for r in sheet.iter_rows(values_only=True) if r and r[0] in RULES and len(r) > 3
    }
    assert by_rule["leaver-active"] == "not checked"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


def test_rules_sheet_explains_every_rule_on_one_page_width(
    workbook: tuple[Path, accessaudit.AuditResult],
) -> None:
    path, _ = workbook
    sheet = openpyxl.load_workbook(path)["Rules"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "id", "severity", "title", "data it needs", "rationale", "remediation", "controls"
    ]  # fmt: skip
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == set(RULES)
    spec = RULES["excess-privilege"]
    assert rows[spec.id][4] == spec.rationale and rows[spec.id][5] == spec.remediation
    assert rows[spec.id][6] == "; ".join(spec.controls)
    assert sheet["E2"].alignment.wrap_text
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.print_title_rows == "$1:$1"


def test_review_workbook_prints_one_page_wide_and_lets_reviewers_resize(
    tmp_path: Path,
) -> None:
    config = accessaudit.load_config(
        accessaudit.write_sample_organisation(tmp_path / "org", size=200)
    )
    snapshot = accessaudit.collect(config)
    campaign = accessaudit.create_campaign(
        snapshot, config.policy, accessaudit.run_audit(snapshot, config.policy),
        by="manager", scope="privileged", out=tmp_path / "c", fallback_reviewer="E10007",
    )  # fmt: skip
    book = openpyxl.load_workbook(campaign.folder / campaign.reviewers["workbook"].iloc[0])
    sheet = book["Review"]
    header = [c.value for c in sheet[1]]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 8
    # fitToWidth 1 is the file format's default (xlsxwriter leaves it out); 0 pages high.
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"
    # Person … Comment are all inside the one-page-wide print area.
    area_end = sheet.print_area.split(":")[-1].lstrip("$").split("$")[0]
    assert openpyxl.utils.column_index_from_string(area_end) == header.index("Comment") + 1
    # Cells protected, layout not: columns and rows may be resized.
    assert sheet.protection.sheet and not sheet.protection.formatColumns
    assert not sheet.protection.formatRows
    reason = sheet.cell(2, header.index("Reason") + 1)
    assert reason.alignment.wrap_text and reason.protection.locked
    comment = sheet.cell(2, header.index("Comment") + 1)
    assert comment.alignment.wrap_text and not comment.protection.locked
