"""Documentation generated from code stays equal to it."""

from __future__ import annotations

import runpy
from pathlib import Path

from accessaudit.rules import RULES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_committed_rule_reference_equals_the_generated_one() -> None:
    generate = runpy.run_path(str(DOCS / "generate_rules.py"))["generate"]
    committed = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert committed == generate(), "docs/rules.md is stale: run python docs/generate_rules.py"


def test_rule_reference_has_a_section_with_evidence_for_every_rule() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    for rule_id, spec in RULES.items():
        section = text.split(f"\n## {rule_id}\n", 1)[1].split("\n## ", 1)[0]
        assert "**Evidence.**" in section, rule_id
        assert spec.false_positives in section and spec.controls[0] in section
