"""decisions.jsonl as evidence: every line sealed with the campaign key and chained to the one
before, whole-line writes that survive a full disk, one rule for decisions that change between
collections, and returned workbooks read whatever Excel called them."""

from __future__ import annotations

import itertools
import json
import logging
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from accessaudit.audit import run_audit
from accessaudit.cli import main
from accessaudit.errors import ReviewError
from accessaudit.policy import Policy
from accessaudit.review import (
    Campaign,
    campaign_status,
    collect_decisions,
    create_campaign,
    current_decisions,
    read_decision_log,
    write_remediation,
)
from accessaudit.snapshot import Snapshot
from test_review import _item, _returned, _workbook, build_org, fill

POLICY = Policy(peer_min_size=2)


@pytest.fixture
def campaign(tmp_path: Path) -> Campaign:
    snapshot = Snapshot.load(build_org().save(tmp_path / "snapshot"))
    rules = ["leaver-active", "stale-account", "excess-privilege"]
    return create_campaign(
        snapshot,
        POLICY,
        run_audit(snapshot, POLICY, rules=rules),
        by="manager",
        out=tmp_path / "campaign",
        fallback_reviewer="bob@example.com",
    )


@pytest.fixture
def logged(campaign: Campaign) -> Campaign:
    """A campaign whose log holds Gus's decisions (several lines)."""
    fill(_workbook(campaign, "E7"), _returned(campaign) / "gus.xlsx", {}, default=("keep", "ok"))
    assert collect_decisions(campaign).logged >= 3
    return campaign


def _lines(campaign: Campaign) -> list[bytes]:
    return campaign.decisions_log.read_bytes().splitlines(keepends=True)


def _every_reader_refuses(campaign: Campaign, message: str, tmp_path: Path) -> None:
    for read in (
        lambda: read_decision_log(campaign),
        lambda: collect_decisions(campaign),
        lambda: campaign_status(campaign),
        lambda: write_remediation(campaign, tmp_path / "plan"),
    ):
        with pytest.raises(ReviewError, match=message):
            read()
    assert not (tmp_path / "plan").exists()


# -- tampering -------------------------------------------------------------------------


def test_every_line_carries_a_seal_and_the_previous_seal(logged: Campaign) -> None:
    records = [json.loads(line) for line in _lines(logged)]
    assert records[0]["chain"] == ""
    assert all(b["chain"] == a["seal"] for a, b in itertools.pairwise(records))
    assert len(read_decision_log(logged)) == len(records)


def test_an_edited_line_is_named_by_collect_status_and_remediate(
    logged: Campaign, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _lines(logged)
    lines[1] = lines[1].replace(b'"decision": "keep"', b'"decision": "revoke"')
    logged.decisions_log.write_bytes(b"".join(lines))
    _every_reader_refuses(logged, r"decisions\.jsonl:2: the line was altered", tmp_path)
    for command in (["collect"], ["status"], ["remediate", "--out", str(tmp_path / "plan")]):
        assert main(["review", command[0], str(logged.folder), *command[1:]]) == 2
        assert "decisions.jsonl:2: the line was altered" in capsys.readouterr().err


def test_a_removed_line_breaks_the_chain_at_the_next_line(logged: Campaign, tmp_path: Path) -> None:
    lines = _lines(logged)
    del lines[1]
    logged.decisions_log.write_bytes(b"".join(lines))
    _every_reader_refuses(logged, r"decisions\.jsonl:2: the line does not follow line 1", tmp_path)


def test_a_removed_first_line_is_detected(logged: Campaign, tmp_path: Path) -> None:
    logged.decisions_log.write_bytes(b"".join(_lines(logged)[1:]))
    _every_reader_refuses(logged, r"decisions\.jsonl:1: the first line does not start", tmp_path)


def test_reordered_lines_are_detected(logged: Campaign, tmp_path: Path) -> None:
    lines = _lines(logged)
    lines[0], lines[1] = lines[1], lines[0]
    logged.decisions_log.write_bytes(b"".join(lines))
    _every_reader_refuses(logged, r"decisions\.jsonl:1:", tmp_path)


def test_a_line_resealed_without_the_campaign_key_is_detected(
    logged: Campaign, tmp_path: Path
) -> None:
    import hashlib

    lines = _lines(logged)
    record = json.loads(lines[2])
    record["decision"] = "revoke"
    body = json.dumps({k: v for k, v in record.items() if k != "seal"}, sort_keys=True)
    record["seal"] = hashlib.sha256(body.encode()).hexdigest()  # a guess at the scheme
    lines[2] = (json.dumps(record, sort_keys=True) + "\n").encode()
    logged.decisions_log.write_bytes(b"".join(lines))
    _every_reader_refuses(logged, r"decisions\.jsonl:3: the line was altered", tmp_path)


def test_an_unsealed_line_written_by_hand_is_refused(logged: Campaign, tmp_path: Path) -> None:
    extra = {k: v for k, v in json.loads(_lines(logged)[0]).items() if k not in ("seal", "chain")}
    with logged.decisions_log.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(extra) + "\n")
    number = len(_lines(logged))
    _every_reader_refuses(logged, rf"decisions\.jsonl:{number}: not a sealed decision", tmp_path)


# -- torn tails and full disks ---------------------------------------------------------


def test_a_torn_last_line_is_ignored_with_a_warning_and_removed_at_the_next_collect(
    logged: Campaign, caplog: pytest.LogCaptureFixture
) -> None:
    before = logged.decisions_log.read_bytes()
    decided = len(read_decision_log(logged))
    with logged.decisions_log.open("ab") as stream:
        stream.write(b'{"campaign_id": "rc-2026')  # the disk filled mid-line
    with caplog.at_level(logging.WARNING, logger="accessaudit"):
        assert len(read_decision_log(logged)) == decided
        assert campaign_status(logged).decided == decided
    assert f"decisions.jsonl:{decided + 1}: ignoring a torn last line" in caplog.text

    fill(
        _workbook(logged, "E7"),
        _returned(logged) / "gus-2.xlsx",
        {("hal", "IT"): ("revoke", "")},
        default=("keep", "ok"),
    )
    with caplog.at_level(logging.WARNING, logger="accessaudit"):
        assert collect_decisions(logged).logged >= 1
    assert "removed a torn last line" in caplog.text
    assert logged.decisions_log.read_bytes().startswith(before)
    assert logged.decisions_log.read_bytes().endswith(b"\n")
    assert current_decisions(logged).set_index("item_id").loc[
        _item(logged, "hal", "IT")["item_id"], "decision"
    ] == ("revoke")


def test_a_full_disk_during_review_collect_adds_nothing_and_exits_2(logged: Campaign) -> None:
    fill(
        _workbook(logged, "E7"),
        _returned(logged) / "gus-2.xlsx",
        {},
        default=("revoke", ""),
    )
    before = logged.decisions_log.read_bytes()
    limit = len(before) + 300  # room for less than one collection of new lines

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-m", "accessaudit", "review", "collect", str(logged.folder)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=small_disk,
    )
    assert done.returncode == 2, done.stderr
    assert "nothing was added to the log" in done.stderr
    assert "Traceback" not in done.stderr
    assert logged.decisions_log.read_bytes() == before
    # The next run, with room, goes through.
    assert main(["review", "collect", str(logged.folder)]) == 0


# -- one rule for changed decisions ----------------------------------------------------


def test_a_later_return_supersedes_an_earlier_one_and_says_so(
    campaign: Campaign, capsys: pytest.CaptureFixture[str]
) -> None:
    returned = _returned(campaign)
    fill(_workbook(campaign, "E7"), returned / "a.xlsx", {}, default=("keep", "ok"))
    assert main(["review", "collect", str(campaign.folder)]) == 0
    capsys.readouterr()
    # Run 2: the reviewer changed their mind; run 1's file is still in returned/.
    fill(_workbook(campaign, "E7"), returned / "b.xlsx", {("hal", "IT"): ("revoke", "")})
    assert main(["review", "collect", str(campaign.folder), "--format", "json"]) == 0
    output = json.loads(capsys.readouterr().out)
    hal_it = _item(campaign, "hal", "IT")["item_id"]
    assert output["problems"] == []
    assert [(s["item_id"], s["decision"], s["superseded_decision"]) for s in output["superseded"]]
    assert output["superseded"][0] | {"superseded_collected_at": None} == {
        "item_id": hal_it,
        "decision": "revoke",
        "workbook": "b.xlsx",
        "row": output["superseded"][0]["row"],
        "superseded_decision": "keep",
        "superseded_file": "a.xlsx",
        "superseded_collected_at": None,
    }
    in_force = current_decisions(campaign).set_index("item_id")
    assert in_force.loc[hal_it, "decision"] == "revoke"
    assert in_force.loc[hal_it, "source_file"] == "b.xlsx"
    # Collecting again changes nothing: both files were logged already.
    again = collect_decisions(campaign)
    assert again.logged == 0
    assert again.superseded.empty
    assert current_decisions(campaign).set_index("item_id").loc[hal_it, "decision"] == "revoke"


def test_two_new_returns_that_disagree_keep_the_decision_in_force_and_say_which(
    campaign: Campaign,
) -> None:
    returned = _returned(campaign)
    fill(_workbook(campaign, "E7"), returned / "a.xlsx", {}, default=("keep", "ok"))
    collect_decisions(campaign)
    fill(_workbook(campaign, "E7"), returned / "b.xlsx", {("hal", "IT"): ("revoke", "")})
    fill(_workbook(campaign, "E7"), returned / "c.xlsx", {("hal", "IT"): ("modify", "read only")})
    result = collect_decisions(campaign)
    conflict = result.problems[result.problems["problem"].str.contains("decided differently")]
    assert set(conflict["workbook"]) == {"b.xlsx", "c.xlsx"}
    assert conflict["problem"].str.endswith("the decision in force stays keep from a.xlsx").all()
    hal_it = _item(campaign, "hal", "IT")["item_id"]
    # Message and state agree: keep from a.xlsx is what remediation and status see.
    in_force = current_decisions(campaign).set_index("item_id")
    assert (in_force.loc[hal_it, "decision"], in_force.loc[hal_it, "source_file"]) == (
        "keep",
        "a.xlsx",
    )


def test_an_undecided_item_in_conflict_stays_undecided(campaign: Campaign) -> None:
    returned = _returned(campaign)
    fill(_workbook(campaign, "E7"), returned / "b.xlsx", {("hal", "IT"): ("revoke", "")})
    fill(_workbook(campaign, "E7"), returned / "c.xlsx", {("hal", "IT"): ("keep", "needed")})
    result = collect_decisions(campaign)
    conflict = result.problems[result.problems["problem"].str.contains("decided differently")]
    assert conflict["problem"].str.endswith("the item stays undecided").all()
    assert _item(campaign, "hal", "IT")["item_id"] not in set(
        current_decisions(campaign)["item_id"]
    )


# -- what Excel called the file ----------------------------------------------------------


def _as_xlsm(source: Path, target: Path) -> Path:
    """Re-package a workbook as Excel saves a macro-enabled one: the workbook part gets the
    content type application/vnd.ms-excel.sheet.macroEnabled.main+xml (ECMA-376 Part 2
    content types; openpyxl.xml.constants.XLSM)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for entry in old.infolist():
            data = old.read(entry)
            if entry.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                )
                assert b"macroEnabled" in data
            new.writestr(entry, data)
    source.unlink()
    return target


def test_returned_xlsm_and_upper_case_workbooks_are_read(campaign: Campaign) -> None:
    returned = _returned(campaign)
    gus = fill(_workbook(campaign, "E7"), returned / "gus.tmp.xlsx", {}, default=("revoke", ""))
    _as_xlsm(gus, returned / "gus.xlsm")
    fill(_workbook(campaign, "E2"), returned / "BOB.XLSX", {}, default=("keep", "fine"))
    result = collect_decisions(campaign)
    assert set(result.read) == {"gus.xlsm", "BOB.XLSX"}
    accepted = result.accepted.groupby("source_file").size()
    assert accepted["gus.xlsm"] == campaign.manifest["reviewers"]["E7"]["items"]
    assert accepted["BOB.XLSX"] == campaign.manifest["reviewers"]["E2"]["items"]


def test_a_returned_file_in_another_format_is_reported_not_skipped(campaign: Campaign) -> None:
    returned = _returned(campaign)
    (returned / "gus.ods").write_bytes(b"PK\x03\x04 an OpenDocument spreadsheet")
    (returned / "bob.csv").write_text("Item,Decision\n", encoding="utf-8")
    # Nothing readable was returned: no silent fall-back to the sent copies.
    with pytest.raises(ReviewError, match=r"gus\.ods: not an Excel workbook"):
        collect_decisions(campaign)
    fill(_workbook(campaign, "E7"), returned / "gus.xlsx", {}, default=("revoke", ""))
    result = collect_decisions(campaign)
    assert set(result.unreadable) == {"gus.ods", "bob.csv"}
    assert result.exit_status == 1
    reported = result.problems[result.problems["workbook"].isin(["gus.ods", "bob.csv"])]
    assert reported["problem"].str.contains("save it as Excel Workbook").all()
