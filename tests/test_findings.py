"""The findings table: columns, stable ids, exceptions with expiry, run_audit and the catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

from accessaudit.audit import run_audit
from accessaudit.errors import ConfigError
from accessaudit.findings import FINDING_COLUMNS
from accessaudit.model import RULE_IDS
from accessaudit.rules import RULES, catalogue
from accessaudit.snapshot import Snapshot
from test_rules_support import AS_OF, account, group, member, org, person, policy

DESIGN_RULE_IDS = {
    "stale-account", "leaver-active", "orphan-account", "excess-privilege", "stale-privilege",
    "peer-outlier", "sod-conflict", "third-party-sensitive", "mfa-missing",
    "password-never-expires", "direct-grant", "unowned-resource", "unclassified-resource",
    "retention-overdue", "disabled-privileged", "unclassified-sensitive-data",
    # planned ids of DESIGN.md, built by issue 16 (the HR lifecycle)
    "mover-retained-access", "joiner-early-access", "joiner-excess", "third-party-expiring",
    "guest-without-sponsor",
    # Planned in DESIGN.md, built with the m365 connector (issue 14).
    "public-link", "org-wide-link", "link-no-expiry", "external-sharing",
    # Asked for by issue 15 (PUBLIC or '%'-host grants on sensitive tables).
    "public-database-grant",
}  # fmt: skip


def sample() -> Snapshot:
    return org(
        people=[person("gone", status="terminated", end_date="2026-10-01")],
        accounts=[
            account("jdoe", last_sign_in="2026-06-01"),
            account("gone"),
            account("ghost", person_id=None),
            account("adm", last_sign_in="2026-08-01"),
        ],
        groups=[group("Domain Admins", privileged=True)],
        memberships=[member("Domain Admins", "adm"), member("Domain Admins", "jdoe")],
    )


def test_catalogue_has_exactly_the_design_rule_ids_with_metadata() -> None:
    assert set(RULES) == DESIGN_RULE_IDS == set(RULE_IDS)
    for spec in RULES.values():
        assert spec.title and spec.rationale and spec.remediation and spec.controls
        assert spec.severity in ("critical", "high", "medium", "low", "info")
    assert len(catalogue()) == len(DESIGN_RULE_IDS)
    with pytest.raises(TypeError):
        RULES["x"] = RULES["stale-account"]  # type: ignore[index]


def test_findings_have_the_design_columns_and_ordered_severity() -> None:
    result = run_audit(sample(), policy())
    findings = result.findings
    assert tuple(findings.columns) == (*FINDING_COLUMNS, "person_name", "department")
    assert findings["severity"].cat.ordered
    assert (findings["severity"] >= "high").sum() >= 2
    # Sorted worst first.
    codes = findings["severity"].cat.codes.tolist()
    assert codes == sorted(codes, reverse=True)
    assert findings["finding_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert findings["finding_id"].is_unique
    assert all(isinstance(c, tuple) and c for c in findings["controls"])


def test_finding_ids_do_not_depend_on_row_order_or_audit_date() -> None:
    snapshot = sample()
    first = run_audit(snapshot, policy())
    reversed_tables = {
        name: frame.iloc[::-1].reset_index(drop=True) for name, frame in snapshot.tables.items()
    }
    shuffled = Snapshot.from_tables(reversed_tables, as_of=snapshot.as_of)
    second = run_audit(shuffled, policy(), as_of=AS_OF + pd.Timedelta(days=3))
    key = ["rule", "subject_id", "entitlement"]
    a = first.findings.set_index(key)["finding_id"].sort_index()
    b = second.findings.set_index(key)["finding_id"].reindex(a.index)
    assert a.tolist() == b.tolist()


def test_current_exception_hides_finding_and_expired_one_shows_it_again() -> None:
    exceptions = [
        {"rule": "orphan-account", "subject": "ghost", "owner": "CISO", "reason": "test rig",
         "expires": "2026-12-31"},
        {"rule": "stale-account", "subject": "JDOE", "owner": "IT", "reason": "sabbatical",
         "expires": "2026-11-20"},
    ]  # fmt: skip
    result = run_audit(sample(), policy(exceptions=exceptions))
    shown = set(zip(result.findings["rule"], result.findings["subject_name"], strict=True))
    assert ("orphan-account", "ghost") not in shown
    assert ("stale-account", "jdoe") in shown
    hidden = result.suppressed.set_index("rule").loc["orphan-account"]
    assert (hidden["exception_owner"], hidden["exception_reason"]) == ("CISO", "test rig")
    assert str(hidden["exception_expires"]) == "2026-12-31"
    expired = result.expired_exceptions
    assert expired["subject"].tolist() == ["JDOE"]
    assert expired["findings_shown_again"].tolist() == [1]


def test_exception_can_name_the_group_of_a_membership_finding() -> None:
    exceptions = [{"rule": "excess-privilege", "subject": "Domain Admins", "owner": "CISO",
                   "reason": "approved elsewhere", "expires": "2027-01-01"}]  # fmt: skip
    result = run_audit(sample(), policy(exceptions=exceptions), rules=["excess-privilege"])
    assert len(result.findings) == 0
    assert len(result.suppressed) == 2


def test_rules_subset_and_unknown_rule() -> None:
    result = run_audit(sample(), policy(), rules=["leaver-active"])
    assert result.rules_run == ("leaver-active",)
    assert set(result.findings["rule"]) == {"leaver-active"}
    assert result.summary().loc["leaver-active", "critical"] == 1
    with pytest.raises(ConfigError, match="no-such-rule"):
        run_audit(sample(), policy(), rules=["no-such-rule"])


def test_accounts_without_sign_in_data_are_reported_as_not_checked() -> None:
    snapshot = org(accounts=[account("x", last_sign_in=None, last_sign_in_known=False)])
    result = run_audit(snapshot, policy())
    assert any("not checked for staleness" in note for note in result.notes)
    assert "<table" in result._repr_html_()


def test_empty_snapshot_audits_to_no_findings() -> None:
    result = run_audit(Snapshot.from_tables({}, as_of=AS_OF), policy())
    assert len(result.findings) == 0
    assert tuple(result.findings.columns) == (*FINDING_COLUMNS, "person_name", "department")
    assert int(result.summary()["total"].sum()) == 0
    assert result.nothing_checked  # an empty snapshot is not a clean organisation


def test_rule_spec_with_an_unknown_id_or_severity_fails_when_defined() -> None:
    from dataclasses import replace

    spec = RULES["stale-account"]
    with pytest.raises(ValueError, match="not in accessaudit.model.RULE_IDS"):
        replace(spec, id="stale-acount")
    with pytest.raises(ValueError, match="severity 'urgent'"):
        replace(spec, severity="urgent")
    with pytest.raises(ValueError, match="needs title"):
        replace(spec, rationale="")
