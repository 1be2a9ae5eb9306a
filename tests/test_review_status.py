"""`review status` shows workbooks that came back rejected, and the deadline as given."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import openpyxl
import pytest

from accessaudit.cli import main
from accessaudit.review import REVIEW_SHEET, Campaign, campaign_status
from accessaudit.schemas import load_schema
from test_review import _workbook, campaign, fill, snapshot  # noqa: F401 (fixtures)


def test_returned_but_rejected_workbook_is_shown_with_its_rejected_rows(
    campaign: Campaign,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Bob (E2) returns his workbook with every row decided, then edits two data cells.
    returned = fill(
        _workbook(campaign, "E2"),
        campaign.folder / "returned" / "bob.xlsx",
        {},
        default=("revoke", "no longer needed"),
    )
    book = openpyxl.load_workbook(returned)
    sheet = book[REVIEW_SHEET]
    sheet.cell(2, 2).value = "Someone Else"
    sheet.cell(3, 8).value = "Another group"
    book.save(returned)

    status = campaign_status(campaign, as_of="2026-12-01")
    bob = status.reviewers.set_index("reviewer_id").loc["E2"]
    assert (bob["returned"], bob["rejected"]) == (1, 2)
    assert bob["decided"] == 0  # nothing collected yet: status only checks, never logs
    assert status.rejected == 2

    assert main(["review", "status", str(campaign.folder), "--as-of", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "deadline 2026-12-15" in out  # the date the workbooks show, not the day after
    assert "Returned but rejected: Bob Fin (E2): 2 row(s)" in out

    assert main(["review", "status", str(campaign.folder), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, load_schema("status"))
    assert document["deadline"] == "2026-12-15" and document["rejected"] == 2


def test_workbook_of_another_campaign_counts_every_row_as_rejected(
    campaign: Campaign,  # noqa: F811
    tmp_path: Path,
) -> None:
    sent = _workbook(campaign, "E2")
    book = openpyxl.load_workbook(sent)
    book.custom_doc_props["accessaudit.campaign"].value = "rc-other"
    target = campaign.folder / "returned" / "other.xlsx"
    book.save(target)
    rows = openpyxl.load_workbook(target)[REVIEW_SHEET].max_row - 1
    status = campaign_status(campaign)
    assert status.reviewers.set_index("reviewer_id").loc["E2", "rejected"] == rows


def test_workbook_file_names_keep_accented_names_readable(tmp_path: Path) -> None:
    from accessaudit.audit import run_audit
    from accessaudit.review import create_campaign
    from test_review import POLICY, build_org

    org = build_org()
    people = org.people.copy()
    people["name"] = people["name"].astype(object)
    people.loc[people["person_id"] == "E2", "name"] = "François Rogers"
    renamed = type(org).from_tables({**org.tables, "people": people}, as_of=org.as_of)
    made = create_campaign(
        renamed, POLICY, run_audit(renamed, POLICY), by="manager", out=tmp_path / "c",
        fallback_reviewer="E1",
    )  # fmt: skip
    assert (
        made.manifest["reviewers"]["E2"]["workbook"] == "workbooks/review-francois-rogers-e2.xlsx"
    )
