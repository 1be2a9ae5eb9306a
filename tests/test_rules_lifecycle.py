"""Joiners, movers, rehires and third parties: each rule fires, and each near miss stays quiet."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from accessaudit.analysis.movers import moves_between, moves_from_hr
from accessaudit.audit import run_audit
from accessaudit.model import TABLES
from accessaudit.snapshot import Snapshot
from test_rules_support import (
    AS_OF,
    account,
    grant,
    group,
    member,
    org,
    person,
    policy,
    resource,
    run,
    subjects,
)


def _day(offset: int) -> str:
    return (AS_OF + pd.Timedelta(days=offset)).strftime("%Y-%m-%d")


def _department(prefix: str, department: str, size: int = 5) -> list[dict[str, Any]]:
    return [person(f"{prefix}{i}", department=department) for i in range(1, size + 1)]


def _movers_org(**extra: Any) -> Snapshot:
    """Finance (f1-f5, all in G-Finance) and Marketing (m1-m10, in G-Marketing); everyone
    in All-Staff. ``mv`` moved Finance → Marketing 60 days ago and kept G-Finance; ``fresh``
    moved 10 days ago (within the 30-day grace) and kept it too."""
    people = [
        *_department("f", "Finance"),
        *_department("m", "Marketing", size=10),
        person("mv", department="Marketing", previous_department="Finance", moved_on=_day(-60)),
        person("fresh", department="Marketing", previous_department="Finance", moved_on=_day(-10)),
        *extra.pop("people", []),
    ]
    logins = [p["person_id"] for p in people]
    finance = [p for p in logins if p.startswith("f") and p != "fresh"] + ["mv", "fresh"]
    marketing = [p for p in logins if p.startswith("m") and p != "mv"] + ["mv", "fresh"]
    memberships = (
        [member("G-Finance", login) for login in finance]
        + [member("G-Marketing", login) for login in marketing]
        + [member("All-Staff", login) for login in logins]
    )
    return org(
        people=people,
        accounts=[account(login) for login in logins],
        groups=[group("G-Finance"), group("G-Marketing"), group("All-Staff")],
        memberships=memberships,
        **extra,
    )


def test_mover_keeping_old_department_group_past_grace_is_flagged() -> None:
    findings = run("mover-retained-access", _movers_org())
    assert subjects(findings) == ["mv"]
    row = findings.iloc[0]
    assert row["entitlement"] == "G-Finance"
    evidence = row["evidence"]
    assert evidence["previous_department"] == "Finance"
    assert evidence["department"] == "Marketing"
    assert evidence["days_since_move"] == 60
    assert (evidence["old_peers"], evidence["old_peers_holding"]) == (5, 5)
    assert (evidence["new_peers"], evidence["new_peers_holding"]) == (11, 1)  # fresh holds it
    assert evidence["move_found_by"] == "hr"
    assert "moved from Finance to Marketing" in row["message"]


def test_mover_within_grace_and_shared_entitlements_stay_quiet() -> None:
    findings = run("mover-retained-access", _movers_org())
    assert "fresh" not in subjects(findings)
    assert set(findings["entitlement"]) == {"G-Finance"}  # not All-Staff, not G-Marketing
    longer = run("mover-retained-access", _movers_org(), policy(mover_grace_days=90))
    assert longer.empty


def test_mover_without_hr_history_is_found_from_two_snapshots() -> None:
    current = _movers_org(people=[person("sw", department="Marketing")])
    before = current.people.copy()
    before.loc[before["person_id"] == "sw", "department"] = "Finance"
    previous = Snapshot.from_tables({"people": before}, as_of=AS_OF - pd.Timedelta(days=91))
    # sw kept G-Finance: add the membership to the current snapshot's tables.
    tables = dict(current.tables)
    tables["memberships"] = pd.concat(
        [tables["memberships"], pd.DataFrame([member("G-Finance", "sw")])], ignore_index=True
    )
    current = Snapshot.from_tables(tables, as_of=AS_OF)

    # mv and fresh hold G-Finance in Marketing too: 2 of sw's 12 new peers (17 %)
    pol = policy(peer_max_share=0.2)
    alone = run_audit(current, pol, rules=["mover-retained-access"])
    assert "sw" not in subjects(alone.findings)  # HR columns alone: no move recorded for sw
    both = run_audit(current, pol, rules=["mover-retained-access"], previous=previous)
    found = both.findings[both.findings["subject_name"] == "sw"]
    assert len(found) == 1
    assert found.iloc[0]["evidence"]["move_found_by"] == "snapshots"
    assert found.iloc[0]["evidence"]["days_since_move"] == 91


def test_moves_between_snapshots_sees_department_manager_and_title_changes() -> None:
    before = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d"],
            "department": ["Finance", "Sales", "IT", "IT"],
            "title": ["Clerk", "Rep", "Admin", None],
            "manager_id": ["x", "y", "z", "z"],
            "status": ["active"] * 4,
        }
    )
    after = before.copy()
    after.loc[0, "department"] = "Sales"
    after.loc[1, "manager_id"] = "q"
    after.loc[3, "title"] = "Engineer"  # unknown before: not a move
    moves = moves_between(before, after, previous_as_of="2026-08-31", current_as_of=AS_OF)
    assert sorted(moves["person_id"]) == ["a", "b"]
    assert moves_from_hr(before.assign(previous_department=None, previous_title=None)).empty


def test_joiner_with_account_enabled_weeks_before_start_is_flagged() -> None:
    snapshot = org(
        people=[
            person("early", start_date=_day(30)),
            person("soon", start_date=_day(5)),  # within the 7-day tolerance
            person("parked", start_date=_day(30)),
        ],
        accounts=[account("early"), account("soon"), account("parked", enabled=False)],
    )
    findings = run("joiner-early-access", snapshot)
    assert subjects(findings) == ["early"]
    assert findings.iloc[0]["evidence"]["reason"] == "before start"


def test_privileged_membership_before_start_is_flagged_even_when_disabled() -> None:
    snapshot = org(
        people=[person("early", start_date=_day(30))],
        accounts=[account("early", enabled=False)],
        groups=[group("Domain Admins", privileged=True)],
        memberships=[member("Domain Admins", "early")],
    )
    findings = run("joiner-early-access", snapshot)
    assert subjects(findings) == ["early"]
    assert findings.iloc[0]["evidence"]["privileged"]


def test_rehire_whose_old_account_still_works_is_flagged() -> None:
    snapshot = org(
        people=[
            person("back", start_date="2015-03-01", rehired_on=_day(-20)),
            person("fresh", start_date="2015-03-01", rehired_on=_day(-20)),
            person("oldoff", start_date="2015-03-01", rehired_on=_day(-20)),
        ],
        accounts=[
            account("back", created="2015-02-20"),  # the account from the first employment
            account("fresh", created=_day(-23)),  # made for the return, within tolerance
            account("oldoff", created="2015-02-20", enabled=False),  # old account, disabled
        ],
    )
    findings = run("joiner-early-access", snapshot)
    assert subjects(findings) == ["back"]
    evidence = findings.iloc[0]["evidence"]
    assert evidence["reason"] == "rehire"
    assert "rehired on" in findings.iloc[0]["message"]


def _joiner_org(start: str) -> Snapshot:
    people = [*_department("f", "Finance", size=12), person("new", start_date=start)]
    logins = [p["person_id"] for p in people]
    return org(
        people=people,
        accounts=[account(login) for login in logins],
        groups=[group("G-Finance"), group("Domain Admins", privileged=True)],
        memberships=[member("G-Finance", login) for login in logins]
        + [member("Domain Admins", "new"), member("Domain Admins", "f1")],
        resources=[resource("payroll", sensitivity="restricted"), resource("wiki")],
        grants=[
            grant("new", "payroll", principal_type="account"),
            grant("new", "wiki", principal_type="account"),
        ],
    )


def test_joiner_with_privileged_and_sensitive_access_beyond_peers_is_flagged() -> None:
    findings = run("joiner-excess", _joiner_org(_day(-10)))
    assert subjects(findings) == ["new", "new"]
    assert set(findings["entitlement"]) == {"Domain Admins", "payroll"}
    admins = findings[findings["entitlement"] == "Domain Admins"].iloc[0]["evidence"]
    assert (admins["peers"], admins["peers_holding"]) == (12, 1)


def test_long_standing_staff_and_ordinary_access_are_not_joiner_excess() -> None:
    assert run("joiner-excess", _joiner_org(_day(-200))).empty
    findings = run("joiner-excess", _joiner_org(_day(-10)), policy(peer_max_share=0.05))
    # one of twelve peers (8 %) holds Domain Admins: at a 5 % threshold, not beyond the peers
    assert set(findings["entitlement"]) == {"payroll"}


def _third_party_org() -> Snapshot:
    return org(
        people=[
            person("c1", worker_type="contractor", contract_end=_day(10)),
            person("c2", worker_type="contractor", contract_end=_day(60)),
            person("c3", worker_type="contractor", contract_end=_day(10)),
            person("cx", worker_type="contractor", contract_end=_day(-5)),
            person("ctoday", worker_type="vendor", end_date=_day(0), manager_id="c1"),
            person("gone", status="terminated", end_date=_day(-300)),
            person("v1", worker_type="vendor", manager_id="c2"),
            person("v2", worker_type="vendor", sponsor_id="gone"),
            person("v3", worker_type="vendor"),
        ],
        accounts=[account(login) for login in ("c1", "c2", "c3", "cx", "ctoday", "v1", "v2", "v3")]
        + [account("partner#EXT#", kind="guest", person_id=None)],
        resources=[resource("clinical", sensitivity="restricted"), resource("wiki")],
        grants=[
            grant("c1", "clinical", principal_type="account"),
            grant("c2", "clinical", principal_type="account"),
            grant("c3", "wiki", principal_type="account"),
            grant("ctoday", "clinical", principal_type="account"),
        ],
    )


def test_third_party_with_sensitive_access_and_contract_ending_soon_is_flagged() -> None:
    findings = run("third-party-expiring", _third_party_org())
    # c2 ends in 60 days, c3 reaches only internal data, cx has already ended (leaver-active)
    assert subjects(findings) == ["c1", "ctoday"]
    evidence = findings[findings["subject_name"] == "c1"].iloc[0]["evidence"]
    assert evidence["days_to_contract_end"] == 10


def test_contract_end_passed_makes_leaver_active() -> None:
    findings = run("leaver-active", _third_party_org())
    assert subjects(findings) == ["cx"]  # ctoday's contract ends today: still in force
    assert findings.iloc[0]["evidence"]["reason"] == "contract ended"
    assert "contract ended on" in findings.iloc[0]["message"]


def test_guest_and_vendor_without_current_sponsor_are_flagged() -> None:
    findings = run("guest-without-sponsor", _third_party_org())
    # v1 is sponsored by its manager c2 and ctoday by c1; v2's sponsor left; v3 has none
    assert subjects(findings) == ["partner#EXT#", "v2", "v3"]
    messages = dict(zip(findings["subject_name"], findings["message"], strict=True))
    assert "has left" in messages["v2"]
    assert "no sponsor or manager" in messages["v3"]


def test_mover_into_a_department_too_small_to_compare_is_named_in_the_notes() -> None:
    snapshot = _movers_org(
        people=[
            person("tiny", department="Legal", previous_department="Finance", moved_on=_day(-90))
        ]
    )
    result = run_audit(snapshot, policy(), rules=["mover-retained-access"])
    assert "tiny" not in subjects(result.findings)
    assert any(
        "1 mover(s) not checked by mover-retained-access: a department with fewer than "
        "peer_min_size (5) people (e.g. tiny)" in note
        for note in result.notes
    )


def test_snapshot_of_schema_1_loads_with_empty_history_columns(tmp_path: Path) -> None:
    folder = _movers_org().save(tmp_path / "snap")
    # Write the people table as schema 1 had it, and the manifest to match.
    people = pd.read_parquet(folder / "people.parquet")
    old = people.drop(columns=["previous_department", "previous_title", "moved_on",
                               "contract_end", "sponsor_id", "rehired_on"])  # fmt: skip
    old.to_parquet(folder / "people.parquet", index=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["schema_version"] = 1
    manifest["tables"]["people"]["sha256"] = hashlib.sha256(
        (folder / "people.parquet").read_bytes()
    ).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    loaded = Snapshot.load(folder, verify=False)
    assert tuple(loaded.people.columns) == TABLES["people"].column_names
    assert loaded.people["moved_on"].isna().all()
    assert run("mover-retained-access", loaded).empty
