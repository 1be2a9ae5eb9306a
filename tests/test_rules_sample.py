"""Every rule against the built-in sample organisation's planted problems and near misses.

The sample (written by :mod:`accessaudit.sample` in the real export formats, collected through
the real connectors) lists what it planted on purpose: findings the rules must report, near
misses they must not, and findings a current policy exception must hide.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from accessaudit.audit import AuditResult, run_audit
from accessaudit.collection import collect
from accessaudit.config import load_config
from accessaudit.sample import generate_organisation, planted_problems, write_sample_organisation

SIZE = 300


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    folder: Path = tmp_path_factory.mktemp("sample")
    config = load_config(write_sample_organisation(folder, size=SIZE))
    return run_audit(collect(config), config.policy)


def _outcome(result: AuditResult, rule: str, subject: str) -> str:
    def hit(findings: pd.DataFrame) -> bool:
        return bool(((findings["rule"] == rule) & (findings["subject_name"] == subject)).any())

    if hit(result.findings):
        return "finding"
    if hit(result.suppressed):
        return "excepted"
    return "none"


def test_every_planted_problem_is_found_and_every_near_miss_is_not(
    audited: AuditResult,
) -> None:
    planted = planted_problems(generate_organisation(SIZE))
    wrong = [
        f"{row.rule} {row.subject}: expected {row.expect}, got {got} ({row.why})"
        for row in planted.itertuples()
        if row.subject and (got := _outcome(audited, row.rule, row.subject)) != row.expect
    ]
    assert wrong == []
    assert set(planted["rule"]) <= set(audited.rules_run)


def test_every_rule_fires_on_the_sample(audited: AuditResult) -> None:
    # The sample organisation has no database; tests/test_discovery.py and
    # tests/test_rules_databases.py prove those rules.
    needs_a_database = {"unclassified-sensitive-data", "public-database-grant"}
    assert set(audited.findings["rule"]) == set(audited.rules_run) - needs_a_database
