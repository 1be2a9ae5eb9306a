"""The rule reference (``docs/rules.md``), generated from the rule catalogue so it cannot drift.

Each rule's section gives what it finds (the rule function's docstring), the policy thresholds
it reads, the snapshot data it needs, the evidence a finding carries, known false positives,
remediation and the controls it evidences. ``docs/generate_rules.py`` writes the file;
``tests/test_docs.py`` fails when the committed file differs from what this returns.

>>> rule_reference().splitlines()[0]
'# Rule reference'
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence

from accessaudit.policy import Policy
from accessaudit.rules import RULE_INPUTS, RULES

__all__ = ["rule_reference"]

_HEADER = """# Rule reference

Generated from the rule catalogue (`accessaudit.rules.RULES`) by `docs/generate_rules.py`;
do not edit by hand (`tests/test_docs.py` checks this file equals the generated text).
Thresholds are `[policy]` keys of `audit.toml` (defaults shown). A rule whose data is missing
is reported *not checked*, never as zero findings.
"""


def rule_reference(evidence: Mapping[str, Sequence[str]] | None = None) -> str:
    """The Markdown rule reference. ``evidence`` maps a rule id to the evidence keys its
    findings carry (the generator takes them from the built-in sample organisation)."""
    defaults = Policy().to_dict()
    lines = [_HEADER, "| id | severity | title |", "|---|---|---|"]
    lines += [f"| [`{s.id}`](#{s.id}) | {s.severity} | {s.title} |" for s in RULES.values()]
    for spec in RULES.values():
        logic = inspect.cleandoc(spec.function.__doc__ or "").replace("``", "`")
        thresholds = [
            f"`{key}` (default {_default(defaults, key)})" for key in spec.thresholds
        ] or ["none"]
        lines += [
            "",
            f"## {spec.id}",
            "",
            f"**{spec.title}** — severity *{spec.severity}*.",
            "",
            f"**Why it matters.** {spec.rationale}",
            "",
            f"**What it finds.** {logic}",
            "",
            f"**Thresholds.** {', '.join(thresholds)}.",
            "",
            "**Data it needs.** "
            + "; ".join(f"`{n}` (else not checked: {RULE_INPUTS[n]})" for n in spec.needs)
            + ".",
        ]
        keys = (evidence or {}).get(spec.id)
        shown = ", ".join(f"`{k}`" for k in keys) if keys else "(not produced on the sample)"
        lines += ["", f"**Evidence.** {shown}."]
        lines += [
            "",
            f"**Known false positives.** {spec.false_positives}",
            "",
            f"**Remediation.** {spec.remediation}",
            "",
            "**Controls.** " + "; ".join(spec.controls) + ".",
        ]
    return "\n".join(lines) + "\n"


#: TOML key → Policy field, where they differ.
_FIELDS = {
    "privileged.groups": "privileged_groups",
    "privileged.approved": "approved",
    "service_accounts.patterns": "service_account_patterns",
}


def _default(defaults: Mapping[str, object], key: str) -> str:
    """The default of a ``[policy]`` key (dotted TOML path) as a reader writes it."""
    value = defaults[_FIELDS.get(key, key)]
    if value in ({}, []):
        return "empty"
    return "none" if value is None else f"{value}"
