"""Review campaigns: create → fill as reviewers would (some tampered) → collect → status →
remediate → apply the LDIF → new snapshot → verify."""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.cli import main
from accessaudit.errors import ReviewError
from accessaudit.policy import Policy
from accessaudit.review import (
    HEADER,
    REVIEW_SHEET,
    Campaign,
    campaign_status,
    collect_decisions,
    create_campaign,
    current_decisions,
    load_campaign,
    read_decision_log,
    write_remediation,
)
from accessaudit.snapshot import Snapshot

AS_OF = "2026-11-21"
BASE = "dc=example,dc=com"
EVIL = '=HYPERLINK("http://evil.example/","click")'
POLICY = Policy(peer_min_size=2)
LOGINS = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ida"]


def _dn(kind: str, name: str) -> str:
    return f"{'uid' if kind == 'people' else 'cn'}={name},ou={kind},{BASE}"


def build_org(memberships: list[tuple[str, str, str]] | None = None) -> Snapshot:
    """Two departments; Ann (E1) heads the company, Bob (E2) Finance, Gus (E7) IT.

    Eve left on 2026-09-30, Cat has not signed in since June, Dan is the only Finance person
    in Domain Admins, and the Tools group has a name an attacker chose.
    """
    people = pd.DataFrame(
        {
            "person_id": ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9"],
            "name": [
                "Ann Boss",
                "Bob Fin",
                "Cat Fin",
                "Dan Fin",
                "Eve Left",
                "Fay Fin",
                "Gus IT",
                "Hal IT",
                "Ida IT",
            ],
            "email": [f"{login}@example.com" for login in LOGINS],
            "department": ["Exec"] + ["Finance"] * 5 + ["IT"] * 3,
            "manager_id": [None, "E1", "E2", "E2", "E2", "E2", "E1", "E7", "E7"],
            "status": ["active"] * 4 + ["terminated"] + ["active"] * 4,
            "worker_type": "employee",
            "end_date": [None] * 4 + ["2026-09-30"] + [None] * 4,
            "system": "hr",
        }
    )
    logins = LOGINS
    accounts = pd.DataFrame(
        {
            "account_id": [f"corp:{login}" for login in logins],
            "system": "corp",
            "native_id": logins,
            "login": logins,
            "display_name": [login.title() for login in logins],
            "dn": [_dn("people", login) for login in logins],
            "person_id": people["person_id"],
            "kind": "user",
            "enabled": True,
            "created": "2024-01-01",
            "last_sign_in": [
                "2026-11-20",
                "2026-11-19",
                "2026-06-01",
                "2026-11-18",
                None,
                "2026-11-10",
                "2026-11-20",
                "2026-11-20",
                "2026-11-20",
            ],
        }
    )
    names = ["Finance", "AP-Payment-Release", "Domain Admins", "IT", EVIL]
    groups = pd.DataFrame(
        {
            "group_id": ["corp:fin", "corp:pay", "corp:admins", "corp:it", "corp:tools"],
            "system": "corp",
            "native_id": ["fin", "pay", "admins", "it", "tools"],
            "name": names,
            "kind": "group",
            "privileged": [False, False, True, False, False],
            "dn": [_dn("groups", n) for n in ["Finance", "AP", "Domain Admins", "IT", "Tools"]],
        }
    )
    if memberships is None:
        memberships = [
            *[("corp:fin", f"corp:{u}", "account") for u in ["bob", "cat", "dan", "eve", "fay"]],
            ("corp:pay", "corp:fin", "group"),
            ("corp:admins", "corp:dan", "account"),
            ("corp:admins", "corp:ann", "account"),
            *[("corp:it", f"corp:{u}", "account") for u in ["gus", "hal", "ida"]],
            ("corp:tools", "corp:hal", "account"),
        ]
    edges = pd.DataFrame(memberships, columns=["group_id", "member_id", "member_type"])
    resources = pd.DataFrame(
        {
            "resource_id": ["files:payroll"],
            "system": "files",
            "name": ["Payroll"],
            "type": "share",
            "owner_id": ["E2"],
            "sensitivity": ["restricted"],
            "data_categories": ["pii"],
        }
    )
    grants = pd.DataFrame(
        {
            "principal_id": ["corp:fin", "corp:ann"],
            "principal_type": ["group", "account"],
            "resource_id": "files:payroll",
            "right": ["read", "owner"],
            "system": "files",
        }
    )
    return Snapshot.from_tables(
        {
            "people": people,
            "accounts": accounts,
            "groups": groups,
            "memberships": edges.assign(assignment="active"),
            "resources": resources,
            "grants": grants,
        },
        as_of=AS_OF,
        sources=[{"source": "corp", "connector": "openldap"}],
    )


@pytest.fixture
def snapshot(tmp_path: Path) -> Snapshot:
    folder = build_org().save(tmp_path / "snapshot-q4")
    return Snapshot.load(folder)


@pytest.fixture
def campaign(snapshot: Snapshot, tmp_path: Path) -> Campaign:
    return create_campaign(
        snapshot,
        POLICY,
        run_audit(snapshot, POLICY, rules=["leaver-active", "stale-account", "excess-privilege"]),
        by="manager",
        out=tmp_path / "campaign",
        deadline="2026-12-15",
        fallback_reviewer="bob@example.com",
    )


def _item(campaign: Campaign, login: str, entitlement: str) -> pd.Series:
    items = campaign.items
    found = items[(items["login"] == login) & (items["entitlement"] == entitlement)]
    assert len(found) == 1, (login, entitlement)
    return found.iloc[0]


def _workbook(campaign: Campaign, reviewer_id: str) -> Path:
    return campaign.folder / campaign.manifest["reviewers"][reviewer_id]["workbook"]


def fill(
    source: Path,
    target: Path,
    decisions: dict[tuple[str, str], tuple[str, str]],
    *,
    default: tuple[str, str] | None = None,
) -> Path:
    """Decide rows as a reviewer in Excel would: by (account, entitlement)."""
    book = openpyxl.load_workbook(source)
    sheet = book[REVIEW_SHEET]
    column = {name: HEADER.index(name) + 1 for name in HEADER}
    for row in range(2, sheet.max_row + 1):
        key = (
            sheet.cell(row, column["Account"]).value,
            sheet.cell(row, column["Entitlement"]).value,
        )
        decision = decisions.get(key, default)
        if decision:
            sheet.cell(row, column["Decision"]).value = decision[0]
            sheet.cell(row, column["Comment"]).value = decision[1] or None
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def _row_of(path: Path, login: str, entitlement: str) -> int:
    sheet = openpyxl.load_workbook(path)[REVIEW_SHEET]
    for row in range(2, sheet.max_row + 1):
        if (sheet.cell(row, 5).value, sheet.cell(row, 8).value) == (login, entitlement):
            return row
    raise AssertionError((login, entitlement))


# ----------------------------------------------------------------------------- create


def test_revoke_recommendations_carry_a_reason_a_reviewer_can_check(campaign: Campaign) -> None:
    assert _item(campaign, "eve", "Finance")["reason"] == "left on 2026-09-30"
    assert _item(campaign, "cat", "Finance")["reason"] == "no sign-in for 173 days"
    dan = _item(campaign, "dan", "Domain Admins")
    # Policy first (issue 12): the reason is the missing approval, not the peer share.
    assert (dan["recommendation"], dan["reason"]) == (
        "revoke",
        "not on the approved list for Domain Admins (the policy approves nobody for it)",
    )
    assert "excess-privilege" in dan["findings"]
    fay = _item(campaign, "fay", "Finance")
    assert fay["recommendation"] == "keep"
    assert fay["peer_share"] == "3 of 3 peers (100%)"


def test_items_are_reviewed_by_the_hr_manager_and_never_by_the_holder(
    campaign: Campaign,
) -> None:
    items = campaign.items
    assert (items["reviewer_id"] != items["person_id"]).all()
    assert _item(campaign, "cat", "Finance")["reviewer_id"] == "E2"
    assert _item(campaign, "hal", "IT")["reviewer_id"] == "E7"
    # Ann has no manager: her access goes to the fallback reviewer, Bob.
    ann = _item(campaign, "ann", "Domain Admins")
    assert (ann["reviewer_id"], bool(ann["reviewer_is_fallback"])) == ("E2", True)


def test_nested_membership_shows_the_group_path(campaign: Campaign) -> None:
    item = _item(campaign, "bob", "AP-Payment-Release")
    assert item["how_held"] == "Finance > AP-Payment-Release"
    assert item["direct_group_dn"] == _dn("groups", "Finance")


def test_campaign_folder_has_manifest_items_key_and_one_workbook_per_reviewer(
    campaign: Campaign,
) -> None:
    manifest = json.loads((campaign.folder / "campaign.json").read_text())
    assert set(manifest["reviewers"]) == {"E1", "E2", "E7"}
    assert manifest["snapshot"]["manifest_sha256"]
    assert manifest["deadline"] == "2026-12-15"
    for entry in manifest["reviewers"].values():
        assert (campaign.folder / entry["workbook"]).is_file()
    assert sum(e["items"] for e in manifest["reviewers"].values()) == len(campaign.items)
    key = (campaign.folder / "campaign.key").read_text().strip()
    assert len(bytes.fromhex(key)) == 32
    for entry in manifest["reviewers"].values():
        with zipfile.ZipFile(campaign.folder / entry["workbook"]) as archive:
            assert not any(
                key in archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
            )


def test_workbook_has_dropdown_locked_data_hidden_hash_and_instructions(
    campaign: Campaign,
) -> None:
    book = openpyxl.load_workbook(_workbook(campaign, "E2"))
    assert book.sheetnames == ["Instructions", REVIEW_SHEET]
    sheet = book[REVIEW_SHEET]
    assert [c.value for c in sheet[1]] == list(HEADER)
    assert sheet.protection.sheet
    decision = HEADER.index("Decision") + 1
    assert not sheet.cell(2, decision).protection.locked
    assert not sheet.cell(2, decision + 1).protection.locked
    assert sheet.cell(2, 1).protection.locked
    assert sheet.column_dimensions["U"].hidden  # Integrity
    assert sheet.page_setup.orientation == "landscape"  # a reviewer may print and sign it
    assert sheet.print_title_rows == "$1:$1"
    validations = sheet.data_validations.dataValidation
    assert any(v.formula1 == '"keep,revoke,modify"' and "S2" in str(v.sqref) for v in validations)
    assert "Comment is required" in " ".join(
        str(c.value) for c in book["Instructions"]["A"] if c.value
    )


def test_source_value_that_looks_like_a_formula_stays_text_in_the_workbook(
    campaign: Campaign,
) -> None:
    path = _workbook(campaign, "E7")
    sheet = openpyxl.load_workbook(path)[REVIEW_SHEET]
    cells = [c for row in sheet.iter_rows() for c in row if c.value == EVIL]
    assert cells and all(c.data_type == "s" for c in cells)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_scope_privileged_reviews_only_privileged_entitlements(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    campaign = create_campaign(
        snapshot,
        POLICY,
        None,
        by="manager",
        scope="privileged",
        out=tmp_path / "c",
        fallback_reviewer="E2",
    )
    assert set(campaign.items["entitlement"]) == {"Domain Admins", "Payroll"}
    assert set(campaign.items["login"]) == {"ann", "dan"}


def test_scope_rule_reviews_only_entitlements_with_that_finding(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    campaign = create_campaign(
        snapshot,
        POLICY,
        run_audit(snapshot, POLICY, rules=["stale-account", "leaver-active"]),
        by="manager",
        scope="rule=stale-account",
        out=tmp_path / "c",
    )
    assert set(campaign.items["login"]) == {"cat", "eve"}
    with pytest.raises(ReviewError, match="unknown review scope"):
        create_campaign(snapshot, POLICY, None, by="manager", scope="risky", out=tmp_path / "d")


def test_review_by_owner_sends_resource_access_to_the_resource_owner(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    campaign = create_campaign(
        snapshot, POLICY, None, by="owner", out=tmp_path / "c", fallback_reviewer="E1"
    )
    items = campaign.items
    assert set(items["entitlement_type"]) == {"resource"}
    assert set(items.loc[items["login"] != "bob", "reviewer_id"]) == {"E2"}
    # Bob owns Payroll: his own access goes to the fallback.
    assert items.loc[items["login"] == "bob", "reviewer_id"].tolist() == ["E1"]


def test_items_without_any_reviewer_go_to_an_unassigned_workbook(
    snapshot: Snapshot, tmp_path: Path
) -> None:
    campaign = create_campaign(snapshot, POLICY, None, by="manager", out=tmp_path / "c")
    assert set(campaign.items.loc[campaign.items["login"] == "ann", "reviewer_id"]) == {
        "unassigned"
    }
    assert (campaign.folder / "workbooks" / "review-unassigned.xlsx").is_file()


def test_campaign_refuses_a_folder_that_is_not_empty(snapshot: Snapshot, tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("mine")
    with pytest.raises(ReviewError, match="not empty"):
        create_campaign(snapshot, POLICY, None, by="manager", out=tmp_path / "c")


# ---------------------------------------------------------------------------- collect


def _returned(campaign: Campaign) -> Path:
    return campaign.folder / "returned"


def test_full_cycle_collect_status_remediate_verify(
    campaign: Campaign, snapshot: Snapshot, tmp_path: Path
) -> None:
    returned = _returned(campaign)
    # Bob (E2): revokes Eve and Cat, keeps the rest; a few rows are tampered with.
    bob = fill(
        _workbook(campaign, "E2"),
        returned / "bob.xlsx",
        {
            ("eve", "Finance"): ("revoke", ""),
            ("eve", "AP-Payment-Release"): ("Revoke ", ""),
            ("cat", "Finance"): ("revoke", "left the team"),
            ("dan", "Domain Admins"): ("revoke", ""),
            ("dan", "Finance"): ("maybe", ""),
            ("fay", "Payroll"): ("keep", ""),
            ("cat", "Payroll"): ("keep", ""),  # revoke recommended: needs a comment
        },
        default=("keep", ""),
    )
    book = openpyxl.load_workbook(bob)
    sheet = book[REVIEW_SHEET]
    edited_row = _row_of(bob, "fay", "Finance")
    sheet.cell(edited_row, HEADER.index("Last sign-in") + 1).value = "2026-11-21"
    hash_row = _row_of(bob, "fay", "AP-Payment-Release")
    sheet.cell(hash_row, HEADER.index("Integrity") + 1).value = "0" * 64
    added_row = sheet.max_row + 1
    for column, value in enumerate(
        [c.value for c in sheet[_row_of(bob, "fay", "Payroll")]], start=1
    ):
        sheet.cell(added_row, column).value = value
    sheet.cell(added_row, 1).value = "ffffffffffffffff"
    book.save(bob)

    # Gus (E7) keeps everything, even what we recommend revoking, without a comment.
    fill(_workbook(campaign, "E7"), returned / "gus.xlsx", {}, default=("keep", "ok"))
    # Ann (E1) decides only part of her workbook.
    fill(_workbook(campaign, "E1"), returned / "ann.xlsx", {("bob", "Finance"): ("keep", "")})

    # A workbook from another campaign.
    other = create_campaign(
        snapshot, POLICY, None, by="manager", out=tmp_path / "other", fallback_reviewer="E2"
    )
    fill(_workbook(other, "E7"), returned / "stray.xlsx", {}, default=("revoke", ""))

    result = collect_decisions(campaign)
    problems = result.problems
    assert result.exit_status == 1
    assert set(result.read) == {"ann.xlsx", "bob.xlsx", "gus.xlsx", "stray.xlsx"}

    def problem(workbook: str, row: int | None, text: str) -> None:
        rows = problems[(problems["workbook"] == workbook) & problems["problem"].str.contains(text)]
        if row is not None:
            rows = rows[rows["row"] == row]
        assert len(rows) == 1, (workbook, row, text, problems.to_string())
        assert rows["sheet"].iloc[0] in ("", REVIEW_SHEET)

    problem("bob.xlsx", edited_row, "data edited in column\\(s\\) Last sign-in")
    problem("bob.xlsx", hash_row, "integrity hash changed")
    problem("bob.xlsx", added_row, "row added")
    problem("bob.xlsx", _row_of(bob, "dan", "Finance"), "'maybe' is not one of")
    problem("bob.xlsx", _row_of(bob, "cat", "Payroll"), "needs a comment")
    problem("stray.xlsx", None, f"belongs to campaign {other.id}")
    assert len(problems[problems["workbook"] == "gus.xlsx"]) == 0

    decisions = current_decisions(campaign)
    decided = decisions.merge(campaign.items[["item_id", "login", "entitlement"]], on="item_id")
    by_key = {(r.login, r.entitlement): r.decision for r in decided.itertuples()}
    assert by_key[("eve", "Finance")] == "revoke"
    assert by_key[("eve", "AP-Payment-Release")] == "revoke"  # "Revoke " is normalised
    assert by_key[("fay", "Payroll")] == "keep"  # valid rows survive bad ones
    assert ("fay", "Finance") not in by_key
    assert ("dan", "Finance") not in by_key
    assert ("cat", "Payroll") not in by_key
    stray_ids = set(other.items["item_id"])
    assert not (set(decisions["item_id"]) - set(campaign.items["item_id"]))
    assert stray_ids  # the stray workbook's rows were all rejected, not merged
    log = read_decision_log(campaign)
    first = log.iloc[0]
    assert first["file_sha256"] and first["source_file"] in result.read
    assert pd.Timestamp(first["decided_at"]).tzinfo is not None

    status = campaign_status(campaign, as_of="2026-12-20")
    reviewers = status.reviewers.set_index("reviewer_id")
    assert reviewers.loc["E7", "completion"] == 1.0
    assert "kept everything" in reviewers.loc["E7", "rubber_stamp"]
    assert (
        reviewers.loc["E2", "rubber_stamp"] == ""
        or "kept" not in reviewers.loc["E2", "rubber_stamp"]
    )
    assert bool(reviewers.loc["E1", "overdue"]) and not bool(reviewers.loc["E7", "overdue"])
    assert status.rubber_stampers == ["E7"] or "E7" in status.rubber_stampers
    assert 0 < status.completion < 1

    plan = write_remediation(campaign, tmp_path / "remediation")
    ldif = plan.files["ldif"].read_text()
    assert "changetype: modify" in ldif and "delete: member" in ldif
    assert f"dn: {_dn('groups', 'Finance')}" in ldif
    assert f"member: {_dn('people', 'eve')}" in ldif
    manual = pd.read_csv(plan.files["manual"])
    assert plan.ldif >= 3 and len(manual) == plan.manual

    # The directory administrator applies the LDIF; the next snapshot shows it carried out.
    removed = _apply_ldif(ldif)
    edges = [(g, m, t) for g, m, t in _edges(snapshot) if (g, m) not in removed]
    after = build_org(edges).save(tmp_path / "snapshot-q1")
    verified = campaign_status(campaign, verify=Snapshot.load(after)).verification
    assert verified is not None
    verified = verified.set_index(["login", "entitlement"])
    assert verified.loc[("eve", "Finance"), "status"] == "carried out"
    assert verified.loc[("eve", "AP-Payment-Release"), "status"] == "carried out"
    # Dan's Domain Admins revoke came through; he is a direct member and was removed.
    assert verified.loc[("dan", "Domain Admins"), "status"] == "carried out"
    still = campaign_status(campaign, verify=snapshot).verification
    assert still is not None and set(still["status"]) == {"still present"}


def _edges(snapshot: Snapshot) -> list[tuple[str, str, str]]:
    m = snapshot.memberships
    return list(zip(m["group_id"], m["member_id"], m["member_type"].astype(str), strict=True))


def _apply_ldif(text: str) -> set[tuple[str, str]]:
    """(group_id, account_id) pairs an LDIF modify file removes, read as ldapmodify would."""
    dn_to_group = {
        _dn("groups", n): f"corp:{g}"
        for n, g in [
            ("Finance", "fin"),
            ("AP", "pay"),
            ("Domain Admins", "admins"),
            ("IT", "it"),
            ("Tools", "tools"),
        ]
    }
    removed: set[tuple[str, str]] = set()
    group = None
    for line in text.splitlines():
        if line.startswith("dn:"):
            value = line.split(":", 1)[1]
            value = base64.b64decode(value[1:]).decode() if value.startswith(":") else value
            group = dn_to_group[value.strip()]
        elif line.startswith("member:") and group:
            uid = line.split("uid=", 1)[1].split(",", 1)[0]
            removed.add((group, f"corp:{uid}"))
    return removed


def test_collecting_the_same_workbook_twice_logs_each_decision_once(campaign: Campaign) -> None:
    fill(_workbook(campaign, "E7"), _returned(campaign) / "gus.xlsx", {}, default=("revoke", ""))
    first = collect_decisions(campaign)
    second = collect_decisions(campaign)
    assert first.logged == campaign.manifest["reviewers"]["E7"]["items"]
    assert second.logged == 0
    assert len(read_decision_log(campaign)) == first.logged


def test_same_item_decided_differently_in_two_workbooks_is_reported_and_not_accepted(
    campaign: Campaign,
) -> None:
    keep = fill(
        _workbook(campaign, "E7"), _returned(campaign) / "a.xlsx", {}, default=("keep", "x")
    )
    fill(_workbook(campaign, "E7"), _returned(campaign) / "b.xlsx", {("hal", "IT"): ("revoke", "")})
    result = collect_decisions(campaign)
    conflicts = result.problems[result.problems["problem"].str.contains("decided differently")]
    assert set(conflicts["workbook"]) == {"a.xlsx", "b.xlsx"}
    assert set(conflicts["row"]) == {_row_of(keep, "hal", "IT")}
    hal_it = _item(campaign, "hal", "IT")["item_id"]
    assert hal_it not in set(result.accepted["item_id"])
    assert len(result.accepted) == campaign.manifest["reviewers"]["E7"]["items"] - 1


def test_removed_row_is_reported_by_item(campaign: Campaign) -> None:
    path = fill(
        _workbook(campaign, "E7"), _returned(campaign) / "gus.xlsx", {}, default=("keep", "x")
    )
    book = openpyxl.load_workbook(path)
    book[REVIEW_SHEET].delete_rows(_row_of(path, "ida", "IT"))
    book.save(path)
    problems = collect_decisions(campaign).problems
    removed = problems[problems["problem"].str.startswith("row removed")]
    assert removed["item_id"].tolist() == [_item(campaign, "ida", "IT")["item_id"]]
    assert "ida → IT" in removed["problem"].iloc[0]


def test_collect_raises_when_no_workbook_can_be_read(campaign: Campaign) -> None:
    (_returned(campaign) / "broken.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(ReviewError, match="could be read"):
        collect_decisions(campaign)


def test_cli_review_exit_status_is_1_for_problems_and_2_when_nothing_readable(
    campaign: Campaign, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(
        _workbook(campaign, "E7"), _returned(campaign) / "gus.xlsx", {("hal", "IT"): ("maybe", "")}
    )
    assert main(["review", "collect", str(campaign.folder)]) == 1
    out = capsys.readouterr().out
    assert "gus.xlsx" in out and "maybe" in out
    shutil.rmtree(_returned(campaign))
    _returned(campaign).mkdir()
    (_returned(campaign) / "broken.xlsx").write_bytes(b"PK nothing")
    assert main(["review", "collect", str(campaign.folder)]) == 2
    assert "could be read" in capsys.readouterr().err


def test_cli_review_status_json_and_remediate(
    campaign: Campaign, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(_workbook(campaign, "E7"), _returned(campaign) / "gus.xlsx", {}, default=("revoke", ""))
    assert main(["review", "collect", str(campaign.folder)]) == 0
    capsys.readouterr()
    assert main(["review", "status", str(campaign.folder), "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["decided"] == campaign.manifest["reviewers"]["E7"]["items"]
    out = tmp_path / "plan"
    assert main(["review", "remediate", str(campaign.folder), "--out", str(out)]) == 0
    plan = json.loads((out / "graph-plan.json").read_text())
    assert plan["campaign_id"] == campaign.id
    assert (out / "revocations.ldif").read_text().count("delete: member") >= 1


def test_load_campaign_rejects_a_folder_that_is_not_a_campaign(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="not a review campaign"):
        load_campaign(tmp_path)


# ------------------------------------------------------------- the sample organisation


def _unfold(text: str) -> list[list[str]]:
    """LDIF entries as lists of unfolded lines."""
    entries: list[list[str]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines: list[str] = []
        for line in block.split("\n"):
            if line.startswith(" ") and lines:
                lines[-1] += line[1:]
            elif line:
                lines.append(line)
        if lines:
            entries.append(lines)
    return entries


def _value(line: str) -> tuple[str, str]:
    attribute, _, rest = line.partition(":")
    if rest.startswith(":"):
        # Binary values (objectSid) are not text; only DNs matter here.
        return attribute.lower(), base64.b64decode(rest[1:].strip()).decode("utf-8", "replace")
    return attribute.lower(), rest.strip()


def apply_ldif_to_export(changes: str, export: Path) -> int:
    """Apply ``delete: member`` records to an LDIF export as the directory would: the member
    value leaves the group entry and the group leaves the member's ``memberOf``."""
    removals: set[tuple[str, str]] = set()
    for entry in _unfold(changes):
        values = [_value(line) for line in entry if not line.startswith("#")]
        dns = [v for a, v in values if a == "dn"]
        if dns:
            removals |= {(dns[0].lower(), v.lower()) for a, v in values if a == "member"}
    entries = _unfold(export.read_text(encoding="utf-8"))
    kept_entries = []
    for entry in entries:
        dn = next((v for a, v in map(_value, entry) if a == "dn"), "").lower()
        kept = []
        for line in entry:
            attribute, value = _value(line) if not line.startswith("#") else ("#", "")
            if attribute == "member" and (dn, value.lower()) in removals:
                continue
            if attribute == "memberof" and (value.lower(), dn) in removals:
                continue
            kept.append(line)
        kept_entries.append("\n".join(kept))
    export.write_text("\n\n".join(kept_entries) + "\n", encoding="utf-8")
    return len(removals)


@pytest.mark.slow
def test_sample_organisation_cycle_revocations_are_verified_in_the_next_snapshot(
    tmp_path: Path,
) -> None:
    from accessaudit.collection import collect
    from accessaudit.config import load_config
    from accessaudit.sample import write_sample_organisation

    config_path = write_sample_organisation(tmp_path / "sample", size=300)
    config = load_config(config_path)
    snapshot = Snapshot.load(collect(config).save(tmp_path / "q4"))
    result = run_audit(snapshot, config.policy)
    people = snapshot.people
    fallback = people[(people["status"] == "active") & people["manager_id"].notna()].iloc[0]
    campaign = create_campaign(
        snapshot,
        config.policy,
        result,
        by="manager",
        scope="privileged",
        out=tmp_path / "campaign",
        fallback_reviewer=str(fallback["person_id"]),
    )
    items = campaign.items
    assert (items["reviewer_id"] != items["person_id"]).all()
    assert (items["recommendation"] == "revoke").any()
    # Every reviewer follows the recommendation on groups and roles and keeps the rest
    # (resource permissions would go to the manual CSV).
    for reviewer_id, workbook in zip(
        campaign.reviewers["reviewer_id"], campaign.reviewers["workbook"], strict=True
    ):
        mine = items[items["reviewer_id"] == reviewer_id]
        decisions = {
            (r.login, r.entitlement): (
                ("revoke", "")
                if r.recommendation == "revoke" and r.entitlement_type == "group"
                else ("keep", "still needed")
            )
            for r in mine.itertuples()
        }
        fill(campaign.folder / workbook, _returned(campaign) / Path(workbook).name, decisions)
    collected = collect_decisions(campaign)
    assert collected.problems.empty, collected.problems.to_string()
    status = campaign_status(campaign)
    assert status.completion == 1.0

    plan = write_remediation(campaign, tmp_path / "remediation")
    revoked = items[(items["recommendation"] == "revoke") & (items["entitlement_type"] == "group")]
    in_ad = revoked["system"] == "corp"
    assert plan.ldif == in_ad.sum() > 0
    assert plan.graph == (revoked["connector"] == "entra-id").sum() > 0
    requests = json.loads(plan.files["graph"].read_text())["requests"]
    assert all(
        r["url"].startswith(("/groups/", "/directoryRoles/", "/roleManagement/", "/users/"))
        for r in requests
    )
    assert any(r["method"] == "DELETE" and r["url"].endswith("/$ref") for r in requests)
    export = config_path.parent / "exports" / "corp.ldif"
    assert apply_ldif_to_export(plan.files["ldif"].read_text(), export) > 0

    after = Snapshot.load(collect(load_config(config_path)).save(tmp_path / "q1"))
    verification = campaign_status(campaign, verify=after).verification
    assert verification is not None and len(verification) == len(revoked)
    by_system = verification.groupby("system")["status"].agg(set).to_dict()
    # The LDIF was applied to the directory; the Graph plan was not applied to the tenant.
    assert by_system["corp"] == {"carried out"}, verification.to_string()
    assert by_system["cloud"] == {"still present"}


def test_all_rows_decided_in_one_save_without_comments_is_a_rubber_stamp_signal(
    campaign: Campaign,
) -> None:
    fill(_workbook(campaign, "E7"), _returned(campaign) / "gus.xlsx", {}, default=("revoke", ""))
    collect_decisions(campaign)
    reviewers = campaign_status(campaign).reviewers.set_index("reviewer_id")
    assert "one save, no comments" in reviewers.loc["E7", "rubber_stamp"]
    assert "kept everything" not in reviewers.loc["E7", "rubber_stamp"]
    assert reviewers.loc["E2", "rubber_stamp"] == ""


def test_campaign_and_reviewer_are_read_from_the_package_custom_properties(
    campaign: Campaign, tmp_path: Path
) -> None:
    # docProps/custom.xml (ECMA-376 Part 1 §22.3) is read directly, not through openpyxl's
    # custom_doc_props (which openpyxl 3.2 leaves empty); a part with a DTD gives nothing.
    from accessaudit.review._returned import read_workbook

    reviewer = next(iter(campaign.manifest["reviewers"]))
    source = _workbook(campaign, reviewer)
    returned = read_workbook(source)
    assert returned.campaign_id == campaign.id
    assert returned.reviewer_id == reviewer

    hostile = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(hostile, "w") as copy:
        for info in original.infolist():
            data = original.read(info)
            if info.filename == "docProps/custom.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">]>', 1)
            copy.writestr(info, data)
    tampered = read_workbook(hostile)
    assert tampered.reviewer_id == ""


@pytest.mark.parametrize(
    ("reviewer", "reviewer_id"),
    [("Dana Fox", "E100"), ("Ann & <Bo> _x0041_", "id&<1>"), ("Tab\there", "E\x01")],
)
def test_workbook_from_the_campaign_template_is_the_one_xlsxwriter_writes(
    campaign: Campaign, tmp_path: Path, reviewer: str, reviewer_id: str
) -> None:
    # A campaign runs xlsxwriter once and edits its package per reviewer; every part but the
    # creation time must be what xlsxwriter writes for that reviewer itself (names it would
    # escape are written by xlsxwriter, so the same holds for them).
    from accessaudit.review._workbook import ReviewWorkbooks, write_workbook

    items = campaign.items
    part = items[items["reviewer_id"] == next(iter(campaign.manifest["reviewers"]))]
    assert len(part) > 1
    books = ReviewWorkbooks(campaign_id=campaign.id, deadline="2026-12-15")
    books.write(tmp_path / "template.xlsx", part, reviewer_id=reviewer_id, reviewer=reviewer)
    write_workbook(
        tmp_path / "alone.xlsx",
        part,
        campaign_id=campaign.id,
        reviewer_id=reviewer_id,
        reviewer=reviewer,
        deadline="2026-12-15",
    )
    with (
        zipfile.ZipFile(tmp_path / "template.xlsx") as made,
        zipfile.ZipFile(tmp_path / "alone.xlsx") as alone,
    ):
        assert made.namelist() == alone.namelist()
        for name in alone.namelist():
            if name != "docProps/core.xml":  # dcterms:created, the time of writing
                assert made.read(name) == alone.read(name), name
    book = openpyxl.load_workbook(tmp_path / "template.xlsx")
    assert book["Instructions"]["A1"].value.startswith(f"Access review for {reviewer[:3]}")
    assert book[REVIEW_SHEET].max_row == len(part) + 1
