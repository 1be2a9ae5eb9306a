"""The console summary: findings per rule and severity, and everything that was not read.

Fits an 80-column terminal by default (rule id and counts; long lines wrapped); ``wide=True``
adds the rule titles and leaves lines unwrapped.

>>> print(summary_table(result))  # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from tabulate import tabulate

from accessaudit.audit import AuditResult
from accessaudit.rules import RULES

__all__ = ["TERMINAL_WIDTH", "collection_lines", "summary_table"]

#: The width the default output fits.
TERMINAL_WIDTH = 80


def summary_table(result: AuditResult, *, wide: bool = False) -> str:
    """A text table of findings by rule (every rule run) and severity, then one line each for
    what the sources could not read, rules not checked, accepted risks, expired exceptions and
    what could not be checked.

    When no rule could run, the first line says that nothing was checked (never "0
    findings"); a rule that did not run shows "not checked" instead of zeros.
    """
    summary = result.summary()
    unchecked = result.not_checked
    rows = []
    for rule in summary.index:
        counts: list[object] = [int(v) for v in summary.loc[rule]]
        if rule in unchecked:
            counts = [*(["-"] * (len(counts) - 1)), "not checked"]
        rows.append([rule, *([RULES[rule].title] if wide else []), *counts])
    totals = ["total", *([""] if wide else []), *(int(v) for v in summary.sum(axis=0))]
    severities = [str(c) for c in summary.columns]
    table = _compact_table(
        ["rule", *(["title"] if wide else []), *severities],
        [*rows, totals],
        ("left", *(["left"] if wide else []), *(["right"] * len(severities))),
    )
    if result.nothing_checked:
        headline = (
            f"Audit as of {result.as_of.date()}: NOTHING WAS CHECKED - no rule had the data "
            "it needs (see the notes below); this is not a clean result"
        )
    else:
        checked = len(result.rules_checked)
        headline = f"Audit as of {result.as_of.date()}: {len(result.findings)} findings"
        if unchecked:
            headline += f" ({checked} of {len(result.rules_run)} rules checked)"
    if result.partial_sources:
        # A truncated export the user allowed is said on the first line of every report.
        headline = (
            f"PARTIAL EXPORT of {', '.join(result.partial_sources)}: findings may be missing. "
            + headline
        )
    lines = [*_wrapped([headline], "", wide), "", table]
    tail: list[str] = []
    if len(result.suppressed):
        tail.append(f"{len(result.suppressed)} finding(s) hidden by current accepted risks.")
    for row in result.expired_exceptions.itertuples(index=False):
        tail.append(
            f"Expired exception: {row.rule} for {row.subject} (owner {row.owner}) ended "
            f"{row.expires}; {row.findings_shown_again} finding(s) shown again."
        )
    if tail:
        lines.append("")
        lines.extend(_wrapped(tail, "", wide))
    lines.extend(_wrapped(result.warnings, "Warning: ", wide))
    lines.extend(_wrapped(result.notes, "Note: ", wide))
    return "\n".join(lines)


def collection_lines(warnings: Iterable[str], *, wide: bool = False) -> list[str]:
    """What the sources could not read, one ``Warning:`` line each (wrapped to 80 columns
    unless ``wide``), for the console after ``collect``."""
    return _wrapped(warnings, "Warning: ", wide)


def _wrapped(texts: Iterable[str], prefix: str, wide: bool) -> list[str]:
    out: list[str] = []
    for text in texts:
        if wide:
            out.append(prefix + text)
            continue
        out.extend(
            textwrap.wrap(
                prefix + text,
                width=TERMINAL_WIDTH,
                subsequent_indent="  ",
                break_long_words=True,
                break_on_hyphens=False,
            )
        )
    return out


def _compact_table(header: list[str], rows: list[list[object]], align: tuple[str, ...]) -> str:
    """tabulate's "simple" layout without the two spaces it adds around every header, so the
    summary of every rule fits an 80-column terminal."""
    body = tabulate(
        [header, *rows], tablefmt="plain", disable_numparse=True, colalign=align
    ).splitlines()
    lines: list[list[object]] = [list(header), *rows]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    return "\n".join([body[0], "  ".join("-" * w for w in widths), *body[1:]])
