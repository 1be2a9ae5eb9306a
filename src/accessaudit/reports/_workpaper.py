"""The audit workbook's Summary sheet as a workpaper header, and its Rules sheet.

An auditor files the Summary as the first page of the evidence: what was audited (snapshot
digest, as-of date, sources and their row counts, tool version), against what (every policy
threshold and list), what could not be read or checked, and the totals — then the findings by
rule. The Rules sheet says, for each rule, why it matters, what to do and which controls it
evidences.
"""

from __future__ import annotations

from collections.abc import Sequence

from accessaudit._version import __version__
from accessaudit.audit import AuditResult
from accessaudit.reports.xlsx import (
    ReportBook,
    Sheet,
    cell_value,
    header_row,
    section_cell,
    severity_cell,
    text_cell,
    title_cell,
    wrapped_cell,
)
from accessaudit.rules import RULES, catalogue

__all__ = ["rules_sheet", "summary_sheet"]

#: Summary columns: label, value, then the counts of the findings-by-rule table.
_SUMMARY_WIDTHS = (26.0, 60.0, 14.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0)


def summary_sheet(book: ReportBook, result: AuditResult, notes: Sequence[str]) -> None:
    """Write the Summary sheet: header, sources, policy, what was not checked, totals, then
    findings by rule and severity. ``notes`` are the result's notes plus the report's own."""
    sheet = book.create_sheet("Summary")
    sheet.layout(_SUMMARY_WIDTHS)
    say = _Writer(sheet)

    partial = result.partial_sources
    title = f"Access audit workpaper: as of {result.as_of.date()}"
    if partial:
        title = f"PARTIAL EXPORT of {', '.join(partial)}: findings may be missing. {title}"
    if result.nothing_checked:
        title += " - NOTHING WAS CHECKED (see below)"
    say.title(title)
    say.pair("Audit date (UTC)", result.as_of)
    say.pair(
        "Snapshot digest (SHA-256)",
        result.snapshot_digest or "none: the audit ran on a collection that was not saved",
    )
    say.pair("Tool", f"accessaudit {__version__}")
    say.pair("Rules checked", f"{len(result.rules_checked)} of {len(result.rules_run)}")

    say.section("Sources", ["Source", "Connector and rows"])
    for source in result.sources:
        rows = ", ".join(f"{table} {count}" for table, count in dict(source["rows"]).items())
        say.pair(str(source["source"]), f"{source['connector']}: {rows or 'no rows'}")
    if not result.sources:
        say.pair("(none recorded)", "the snapshot lists no sources")

    say.section("What the sources could not read", ["Source", "Warning"])
    for warning in result.warnings:
        where, _, text = warning.partition(": ")
        say.pair(where, text or warning)
    if not result.warnings:
        say.pair("(none)", "every source reported everything it was asked for")

    say.section("What was not checked", ["Rule or subject", "Why"])
    for rule, reason in result.not_checked.items():
        say.pair(rule, f"not checked: {reason}")
    for note in notes:
        if not note.startswith("not checked: "):
            say.pair("Note", note)
    if not result.not_checked and not notes:
        say.pair("(nothing)", "every rule ran on data from its sources")

    say.section("Policy", ["Setting", "Value"])
    for key, value in _policy_rows(result):
        say.pair(key, value)

    say.section("Totals", ["", ""])
    say.pair("Findings shown", len(result.findings))
    say.pair("Hidden by accepted risks", len(result.suppressed))
    for row in result.expired_exceptions.itertuples(index=False):
        say.pair(
            "Expired exception",
            f"{row.rule} for {row.subject} (owner {row.owner}, reason: {row.reason}) "
            f"ended {row.expires}; {row.findings_shown_again} finding(s) shown again",
        )

    say.blank()
    summary = result.summary()
    say.header(["Findings by rule", "title", "rule severity", *map(str, summary.columns)])
    for rule in summary.index:
        counts: list[object] = [int(v) for v in summary.loc[rule]]
        if rule in result.not_checked:
            counts = ["not checked", *([None] * (len(counts) - 1))]
        sheet.append(
            [
                text_cell(rule),
                say.wrapped(RULES[rule].title),
                severity_cell(RULES[rule].severity),
                *counts,
            ]
        )
    totals = [int(v) for v in summary.sum(axis=0)]
    sheet.append([text_cell("total"), None, None, *totals])


def rules_sheet(book: ReportBook) -> None:
    """Write the Rules sheet: every rule's id, severity, title, the data it needs, rationale,
    remediation and control mapping."""
    table = catalogue()
    table["needs"] = table["needs"].map(", ".join)
    table["controls"] = table["controls"].map("; ".join)
    table = table.rename(columns={"needs": "data it needs"})
    book.write_frame(
        "Rules",
        table[["id", "severity", "title", "data it needs", "rationale", "remediation", "controls"]],
        # 198 characters in all: fitted to one landscape page width, long text wrapped.
        {
            "id": 22,
            "severity": 9,
            "title": 28,
            "data it needs": 16,
            "rationale": 45,
            "remediation": 40,
            "controls": 38,
        },
        severity=("severity",),
        wrapped=("title", "rationale", "remediation", "controls"),
    )


def _policy_rows(result: AuditResult) -> list[tuple[str, object]]:
    """Every threshold and list of the policy, as (setting, value) rows."""
    policy = result.policy.to_dict() if result.policy is not None else None
    if policy is None:
        return [("(unknown)", "the audit result does not carry its policy")]
    rows: list[tuple[str, object]] = [
        (key, policy[key])
        for key in (
            "stale_days",
            "privileged_stale_days",
            "new_account_grace_days",
            "peer_min_size",
            "peer_max_share",
        )
    ]
    rows.append(("privileged groups (added)", ", ".join(policy["privileged_groups"]) or "none"))
    for group, logins in policy["approved"].items():
        rows.append((f"approved for {group}", ", ".join(logins) or "nobody"))
    if not policy["approved"]:
        rows.append(("approved lists", "none: every privileged member is unapproved"))
    rows.append(("service account patterns", ", ".join(policy["service_account_patterns"])))
    for rule in policy["sod"]:
        rows.append((f"SoD: {rule['name']}", " + ".join(rule["entitlements"])))
    for exception in policy["exceptions"]:
        rows.append(
            (
                f"exception: {exception['rule']}",
                f"{exception['subject']} until {exception['expires']} (owner "
                f"{exception['owner']}): {exception['reason']}",
            )
        )
    return rows


class _Writer:
    """Label/value rows on a sheet, long values wrapped."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet

    def wrapped(self, value: object) -> object:
        return wrapped_cell(value) if isinstance(value, str) else cell_value(value)

    def title(self, text: str) -> None:
        self.sheet.append([title_cell(text)])

    def blank(self) -> None:
        self.sheet.append([])

    def section(self, name: str, headers: Sequence[str]) -> None:
        self.blank()
        self.sheet.append([section_cell(name)])
        if any(headers):
            self.header(headers)

    def header(self, names: Sequence[str]) -> None:
        self.sheet.append(header_row(list(names)))

    def pair(self, label: str, value: object) -> None:
        self.sheet.append([text_cell(label), self.wrapped(value)])
