"""`accessaudit evidence`: one person's accounts, memberships, data, sign-ins and review
decisions across snapshots, written as a hashed bundle that `accessaudit verify` checks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.cli import main
from accessaudit.errors import AccessAuditError
from accessaudit.preserve import preserve_evidence, verify_bundle
from accessaudit.review import collect_decisions, create_campaign
from accessaudit.snapshot import Snapshot
from test_review import POLICY, _workbook, build_org, fill


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    now = build_org().save(tmp_path / "snapshot-q4")
    edges = build_org().memberships
    before = Snapshot.from_tables(
        {**build_org().tables, "memberships": edges},
        as_of=pd.Timestamp("2026-08-31", tz="UTC"),
    ).save(tmp_path / "snapshot-q3")
    snapshot = Snapshot.load(now)
    campaign = create_campaign(
        snapshot, POLICY, run_audit(snapshot, POLICY), by="manager", out=tmp_path / "campaign",
        fallback_reviewer="bob@example.com",
    )  # fmt: skip
    returned = fill(
        _workbook(campaign, "E2"),
        campaign.folder / "returned" / "bob.xlsx",
        {("eve", "Finance"): ("revoke", "left in September")},
        default=("keep", ""),
    )
    collect_decisions(campaign, [returned])
    return {"now": now, "before": before, "campaign": campaign.folder, "out": tmp_path / "ev"}


def test_evidence_bundle_preserves_a_person_across_snapshots_and_verifies(
    folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["evidence", "--person", "eve", "--snapshot", str(folders["before"]),
         "--snapshot", str(folders["now"]), "--campaign", str(folders["campaign"]),
         "--out", str(folders["out"])]
    )  # fmt: skip
    assert status == 0
    out = folders["out"]
    manifest = json.loads((out / "evidence.json").read_text())
    assert manifest["person"] == "E5"
    digests = [s["digest"] for s in manifest["snapshots"]]
    assert digests == [Snapshot.load(folders["before"]).snapshot_id,
                       Snapshot.load(folders["now"]).snapshot_id]  # fmt: skip
    accounts = pd.read_csv(out / "accounts.csv")
    assert list(accounts["login"]) == ["eve"]
    memberships = pd.read_csv(out / "memberships.csv")
    assert "Finance" in set(memberships["group"]) and memberships["path"].notna().all()
    history = pd.read_csv(out / "sign_in_history.csv")
    assert len(history) == 2 and set(history["snapshot_digest"]) == set(digests)
    decisions = pd.read_csv(out / "review_decisions.csv")
    assert list(decisions["decision"]) == ["revoke"]
    assert list(decisions["comment"]) == ["left in September"]
    assert manifest["files"]["accounts.csv"]["rows"] == 1

    capsys.readouterr()
    assert main(["verify", str(out)]) == 0
    assert "intact" in capsys.readouterr().out
    with (out / "data_reachable.csv").open("a", encoding="utf-8") as stream:
        stream.write("forged,row\n")
    assert main(["verify", str(out)]) == 1
    assert "data_reachable.csv: SHA-256 differs" in capsys.readouterr().err
    assert main(["verify", str(out), "--digest", "0" * 64]) == 2  # snapshots only
    assert "is an evidence bundle" in capsys.readouterr().err


def test_evidence_for_nobody_is_bad_input_and_writes_nothing(
    folders: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["evidence", "--person", "nobody", "--snapshot", str(folders["now"]),
         "--out", str(folders["out"])]
    )  # fmt: skip
    assert status == 2
    assert "'nobody' is no person" in capsys.readouterr().err
    assert not folders["out"].exists()


def test_bundle_with_an_extra_file_is_not_intact(folders: dict[str, Path]) -> None:
    folder = preserve_evidence([Snapshot.load(folders["now"])], "eve@example.com", folders["out"])
    assert verify_bundle(folder) == []
    (folder / "notes.txt").write_text("added later")
    assert verify_bundle(folder) == ["notes.txt: not listed in evidence.json"]
    with pytest.raises(AccessAuditError, match="not empty"):
        preserve_evidence([Snapshot.load(folders["now"])], "eve", folder)
