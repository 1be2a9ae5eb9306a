"""The console summary: findings per rule and severity, as a tabulate table.

>>> print(summary_table(result))  # doctest: +SKIP
"""

from __future__ import annotations

from tabulate import tabulate

from accessaudit.audit import AuditResult
from accessaudit.rules import RULES

__all__ = ["summary_table"]


def summary_table(result: AuditResult) -> str:
    """A text table of findings by rule (every rule run) and severity, then one line each for
    accepted risks, expired exceptions and what could not be checked."""
    summary = result.summary()
    rows = [
        [rule, RULES[rule].title, *(int(v) for v in summary.loc[rule])] for rule in summary.index
    ]
    totals = ["total", "", *(int(v) for v in summary.sum(axis=0))]
    table = tabulate(
        [*rows, totals],
        headers=["rule", "title", *summary.columns],
        tablefmt="simple",
    )
    lines = [f"Audit as of {result.as_of.date()}: {len(result.findings)} findings", "", table]
    if len(result.suppressed):
        lines.append(f"\n{len(result.suppressed)} finding(s) hidden by current accepted risks.")
    for row in result.expired_exceptions.itertuples(index=False):
        lines.append(
            f"Expired exception: {row.rule} for {row.subject} (owner {row.owner}) ended "
            f"{row.expires}; {row.findings_shown_again} finding(s) shown again."
        )
    lines.extend(f"Note: {note}" for note in result.notes)
    return "\n".join(lines)
