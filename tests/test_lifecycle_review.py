"""Review and remediation on the HR lifecycle: the movers scope, and legal holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.errors import ConfigError
from accessaudit.holds import LegalHold, read_holds_file
from accessaudit.policy import Policy
from accessaudit.review import collect_decisions, create_campaign, write_remediation
from accessaudit.snapshot import Snapshot
from test_review import POLICY, _dn, _workbook, build_org, fill
from test_rules_support import AS_OF, account, group, member, org, person, policy, resource

HOLD = LegalHold("person", "E5", "Doe v. Corp", dt.date(2026, 10, 1), None, "General Counsel")


def _mover_org(*, moved: bool, extra: tuple[str, ...] = ()) -> Snapshot:
    """Finance f1-f5 and Marketing m1-m10 (manager m1); ``sw`` is in Marketing now (HR history
    when ``moved``) and holds G-Finance, All-Staff and the groups in ``extra``."""
    history = {"previous_department": "Finance", "moved_on": "2026-09-01"} if moved else {}
    people = [
        *(person(f"f{i}", department="Finance") for i in range(1, 6)),
        *(person(f"m{i}", department="Marketing", manager_id="m1") for i in range(1, 11)),
        person("sw", department="Marketing", manager_id="m1", **history),
    ]
    logins = [p["person_id"] for p in people]
    finance = [f"f{i}" for i in range(1, 6)] + ["sw"]
    marketing = [f"m{i}" for i in range(1, 11)]
    return org(
        people=people,
        accounts=[account(login) for login in logins],
        groups=[group("G-Finance"), group("G-Marketing"), group("All-Staff")],
        memberships=[member("G-Finance", login) for login in finance]
        + [member("G-Marketing", login) for login in marketing]
        + [member("All-Staff", login) for login in logins]
        + [member(name, "sw") for name in extra],
    )


def test_movers_scope_sends_what_the_mover_brought_along_to_the_new_manager(
    tmp_path: Path,
) -> None:
    snapshot = _mover_org(moved=True, extra=("G-Marketing",))
    campaign = create_campaign(
        snapshot, policy(), run_audit(snapshot, policy()), by="manager", scope="movers",
        out=tmp_path / "movers",
    )  # fmt: skip
    items = campaign.items
    assert set(items["login"]) == {"sw"}
    # G-Marketing and All-Staff are what the new job explains; G-Finance came along.
    assert set(items["entitlement"]) == {"G-Finance"}
    assert set(items["reviewer_id"]) == {"m1"}
    assert items["reason"].str.startswith("moved from Finance").all()


def test_movers_scope_with_a_previous_snapshot_reviews_everything_held_before(
    tmp_path: Path,
) -> None:
    before = _mover_org(moved=False)
    people = before.people.copy()
    people.loc[people["person_id"] == "sw", "department"] = "Finance"
    previous = Snapshot.from_tables(
        {**before.tables, "people": people}, as_of=pd.Timestamp("2026-08-31", tz="UTC")
    )
    now = _mover_org(moved=False, extra=("G-Marketing",))
    campaign = create_campaign(
        now, policy(), None, by="manager", scope="movers", out=tmp_path / "movers",
        previous=previous,
    )  # fmt: skip
    # held before the move and still held: G-Finance and All-Staff; G-Marketing is new.
    assert set(campaign.items["entitlement"]) == {"G-Finance", "All-Staff"}
    assert set(campaign.items["reviewer_id"]) == {"m1"}


def test_held_leaver_is_never_removed_by_the_plan_but_disabled(tmp_path: Path) -> None:
    snapshot = Snapshot.load(build_org().save(tmp_path / "snapshot"))
    held = dataclasses.replace(POLICY, holds=(HOLD,))
    campaign = create_campaign(
        snapshot, held, run_audit(snapshot, held), by="manager", out=tmp_path / "campaign",
        fallback_reviewer="bob@example.com",
    )  # fmt: skip
    assert campaign.manifest["legal_holds"][0]["matter"] == "Doe v. Corp"
    decided = fill(
        _workbook(campaign, "E2"),
        campaign.folder / "returned" / "bob.xlsx",
        {("eve", "Finance"): ("revoke", ""), ("cat", "Finance"): ("revoke", "left the team")},
        default=("keep", ""),
    )
    collect_decisions(campaign, [decided])
    plan = write_remediation(campaign, tmp_path / "plan")
    ldif = plan.files["ldif"].read_text()
    assert f"member: {_dn('people', 'cat')}" in ldif  # not held: removed as usual
    assert f"member: {_dn('people', 'eve')}" not in ldif
    manual = pd.read_csv(plan.files["manual"])
    eve = manual[manual["account"] == "eve"]
    assert list(eve["action"]) == ["disable, do not delete: legal hold Doe v. Corp"]


def test_retention_overdue_reports_held_data_as_kept_and_lists_expired_holds() -> None:
    snapshot = org(
        resources=[
            resource("archive", retention_days=30, last_modified="2025-01-01"),
            resource("exports", retention_days=30, last_modified="2025-01-01"),
        ],
    )
    pol = policy(
        holds=[
            {"resource": "archive", "matter": "SEC inquiry", "since": "2026-01-01",
             "owner": "Legal"},
            {"account": "corp:x", "matter": "Old matter", "since": "2025-01-01",
             "until": "2026-06-30", "owner": "Legal"},
        ]
    )  # fmt: skip
    result = run_audit(snapshot, pol, rules=["retention-overdue"])
    assert list(result.findings["subject_name"]) == ["exports"]
    notes = " | ".join(result.notes)
    assert "archive: retention ended" in notes and "kept under legal hold SEC inquiry" in notes
    assert "legal hold Old matter on account corp:x expired on 2026-06-30" in notes
    assert AS_OF.year == 2026


def test_hold_file_is_read_and_bad_rows_name_the_line(tmp_path: Path) -> None:
    good = tmp_path / "holds.csv"
    good.write_text(
        "person,account,resource,matter,since,until,owner\n"
        "E5,,,Doe v. Corp,2026-10-01,,General Counsel\n"
        ",,hr-share,Audit 2026,2026-01-01,2026-12-31,Legal\n",
        encoding="utf-8",
    )
    holds = read_holds_file(good)
    assert [(h.subject_type, h.subject) for h in holds] == [
        ("person", "E5"),
        ("resource", "hr-share"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("person,matter,since,owner\nE5,Doe,not-a-date,Legal\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.csv:2\.since is not a date"):
        read_holds_file(bad)
    both = Policy.from_mapping({"holds_file": "holds.csv"}, origin="a.toml", base_dir=tmp_path)
    assert len(both.holds) == 2
    with pytest.raises(ConfigError, match="exactly one of person, account or resource"):
        policy(holds=[{"matter": "x", "since": "2026-01-01", "owner": "y"}])
