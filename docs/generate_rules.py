"""Write docs/rules.md from the rule catalogue: ``python docs/generate_rules.py``.

The evidence keys of each rule are read from its findings on the built-in sample organisation
(where every rule fires), so the reference lists what a finding really carries.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import accessaudit
from accessaudit.rules.reference import rule_reference

TARGET = Path(__file__).resolve().parent / "rules.md"


def generate() -> str:
    """The text of docs/rules.md."""
    with tempfile.TemporaryDirectory() as folder:
        config = accessaudit.load_config(accessaudit.write_sample_organisation(Path(folder)))
        result = accessaudit.run_audit(accessaudit.collect(config), config.policy)
    evidence: dict[str, list[str]] = {}
    for rule, part in result.findings.groupby("rule", observed=True):
        keys: dict[str, None] = {}
        for item in part["evidence"]:
            keys.update(dict.fromkeys(item))
        evidence[str(rule)] = list(keys)
    return rule_reference(evidence)


if __name__ == "__main__":
    TARGET.write_text(generate(), encoding="utf-8")
    sys.stderr.write(f"wrote {TARGET}\n")
