"""The HR lifecycle on the built-in sample organisation, through the real exports and
connectors: movers found with the previous quarter's snapshot, the movers review, and the
held leaver whose remediation says "do not delete"."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.audit import AuditResult, run_audit
from accessaudit.cli import main
from accessaudit.collection import collect
from accessaudit.config import AuditConfig, load_config
from accessaudit.review import collect_decisions, create_campaign, write_remediation
from accessaudit.sample import (
    PREVIOUS_CONFIG,
    generate_organisation,
    planted_with_previous_quarter,
    write_sample_organisation,
)
from accessaudit.snapshot import Snapshot
from test_review import fill

SIZE = 300


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AuditConfig, Snapshot]:
    folder = tmp_path_factory.mktemp("sample")
    config_path = write_sample_organisation(folder, size=SIZE)
    config = load_config(config_path)
    return folder, config, Snapshot.load(collect(config).save(folder / "q4"))


@pytest.fixture(scope="module")
def previous(sample: tuple[Path, AuditConfig, Snapshot]) -> Snapshot:
    folder = sample[0]
    return Snapshot.load(collect(load_config(folder / PREVIOUS_CONFIG)).save(folder / "q3"))


def _hit(result: AuditResult, rule: str, subject: str) -> bool:
    found = result.findings
    return bool(((found["rule"] == rule) & (found["subject_name"] == subject)).any())


def test_mover_without_hr_history_is_found_with_the_previous_quarter(
    sample: tuple[Path, AuditConfig, Snapshot], previous: Snapshot
) -> None:
    _, config, snapshot = sample
    result = run_audit(snapshot, config.policy, previous=previous)
    planted = planted_with_previous_quarter(generate_organisation(SIZE))
    wrong = [
        f"{row.rule} {row.subject}: expected {row.expect} ({row.why})"
        for row in planted.itertuples()
        if _hit(result, row.rule, row.subject) != (row.expect == "finding")
    ]
    assert wrong == []
    dlin = result.findings[
        (result.findings["rule"] == "mover-retained-access")
        & (result.findings["subject_name"] == "dlin")
    ]
    assert "G-Payroll" in set(dlin["entitlement"])
    evidence = dlin.iloc[0]["evidence"]
    assert evidence["move_found_by"] == "snapshots"
    assert evidence["previous_department"] == "Human Resources"


def test_movers_review_sends_the_old_department_access_to_the_new_manager(
    sample: tuple[Path, AuditConfig, Snapshot], tmp_path: Path
) -> None:
    _, config, snapshot = sample
    campaign = create_campaign(
        snapshot, config.policy, run_audit(snapshot, config.policy), by="manager",
        scope="movers", out=tmp_path / "movers",
    )  # fmt: skip
    items = campaign.items
    assert {"lnowak", "ecarter", "mreed"} <= set(items["login"])
    people = snapshot.people.set_index("person_id")
    lnowak = items[items["login"] == "lnowak"]
    assert "G-Finance" in set(lnowak["entitlement"])
    assert set(lnowak["reviewer_id"]) == {people.loc[lnowak["person_id"].iloc[0], "manager_id"]}
    assert people.loc[lnowak["reviewer_id"].iloc[0], "department"] == "Engineering"
    assert lnowak["reason"].str.startswith("moved from Finance").all()


def test_held_leaver_is_disabled_not_deleted_and_held_data_is_kept(
    sample: tuple[Path, AuditConfig, Snapshot], tmp_path: Path
) -> None:
    _, config, snapshot = sample
    result = run_audit(snapshot, config.policy)
    assert _hit(result, "leaver-active", "sokafor")  # a hold does not hide the finding
    notes = " | ".join(result.notes)
    assert "s3-exports-2019: retention ended" in notes and "kept under legal hold" in notes
    assert "legal hold Billing dispute with Northwind (settled)" in notes and "expired" in notes
    ceo = snapshot.people.loc[snapshot.people["name"] == "Margaret Hale", "person_id"].iloc[0]
    campaign = create_campaign(
        snapshot, config.policy, result, by="manager", scope="rule=leaver-active",
        out=tmp_path / "leavers", fallback_reviewer=str(ceo),
    )  # fmt: skip
    items = campaign.items
    for reviewer_id, workbook in zip(
        campaign.reviewers["reviewer_id"], campaign.reviewers["workbook"], strict=True
    ):
        mine = items[items["reviewer_id"] == reviewer_id]
        decisions = {(r.login, r.entitlement): ("revoke", "left") for r in mine.itertuples()}
        fill(campaign.folder / workbook, campaign.folder / "returned" / Path(workbook).name,
             decisions)  # fmt: skip
    collect_decisions(campaign)
    plan = write_remediation(campaign, tmp_path / "plan")
    manual = pd.read_csv(plan.files["manual"])
    held = manual[manual["account"] == "sokafor"]
    assert len(held) == int((items["login"] == "sokafor").sum()) > 0
    assert set(held["action"]) == {
        "disable, do not delete: legal hold Okafor v. Example Corp (employment tribunal)"
    }
    ldif = plan.files["ldif"].read_text()
    assert "CN=Samuel Okafor" not in ldif and "sokafor" not in ldif
    assert "npetrova" in ldif or "Nadia Petrova" in ldif  # not held: removed as usual


def test_cli_audit_and_movers_review_take_the_previous_snapshot(
    sample: tuple[Path, AuditConfig, Snapshot],
    previous: Snapshot,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = sample[0]
    config = str(folder / "audit.toml")
    status = main(
        ["audit", "--config", config, "--snapshot", str(folder / "q4"),
         "--previous-snapshot", str(folder / "q3"), "--rules", "mover-retained-access",
         "--format", "json"]
    )  # fmt: skip
    assert status == 0
    found = json.loads(capsys.readouterr().out)["findings"]
    assert {"dlin", "lnowak", "ecarter"} <= {f["subject_name"] for f in found}
    status = main(
        ["review", "create", "--config", config, "--snapshot", str(folder / "q4"),
         "--previous-snapshot", str(folder / "q3"), "--by", "manager", "--scope", "movers",
         "--out", str(tmp_path / "movers"), "--format", "json"]
    )  # fmt: skip
    assert status == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["scope"] == "movers" and manifest["items"] > 0
