"""The Excel report: Summary, Findings, one sheet per rule that fired, Accounts and Access.

The big sheets are streamed into the file chunk by chunk
(:class:`~accessaudit.reports.xlsx.ReportBook`), so a 100,000-row Findings sheet stays small in
memory, and the workbook is saved atomically: the file at ``path`` is the old one or the
complete new one. Every value from a source is written as text Excel will not evaluate; dates
are real Excel dates (UTC).

>>> write_report(Path("report.xlsx"), result, snapshot)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from accessaudit.audit import AuditResult
from accessaudit.reports._workpaper import rules_sheet, summary_sheet
from accessaudit.reports.xlsx import ReportBook
from accessaudit.rules import RULES
from accessaudit.snapshot import Snapshot

__all__ = ["EXCEL_MAX_ROWS", "write_report"]

#: Excel's sheet limit, less the header row.
EXCEL_MAX_ROWS = 1_048_575

#: Findings columns and their widths (characters). The long ones wrap (rows grow to fit), so a
#: finding prints whole on A3 fitted to one page width at about 70 % instead of half size,
#: its message, evidence and controls readable rather than cut at the column edge.
_FINDING_WIDTHS = {
    "finding_id": 18,
    "severity": 10,
    "rule": 18,
    "subject_type": 12,
    "subject_name": 22,
    "subject_id": 20,
    "system": 9,
    "person_id": 10,
    "person_name": 16,
    "department": 12,
    "entitlement": 20,
    "message": 44,
    "evidence": 52,
    "controls": 30,
}
_FINDING_WRAPPED = (
    "rule",
    "subject_name",
    "subject_id",
    "person_name",
    "department",
    "entitlement",
    "message",
    "evidence",
    "controls",
)
_FINDING_ORDER = list(_FINDING_WIDTHS)
#: How the findings sheets style their columns.
_STYLED: dict[str, tuple[str, ...]] = {"severity": ("severity",), "wrapped": _FINDING_WRAPPED}


def write_report(path: Path, result: AuditResult, snapshot: Snapshot) -> None:
    """Write the audit workbook to ``path`` (atomically; nothing half-written on error).

    Sheets: Summary (the workpaper header: snapshot digest and date, sources with row counts
    and what they could not read, tool version, every policy threshold and list, what was not
    checked, totals, then findings by rule), Findings (with the person's name and department),
    one per rule that fired (evidence spread into columns), Accepted risks (when any),
    Accounts (every account with its person and HR status), Access (account × resource,
    right and path) and Rules (rationale, remediation and controls of every rule).
    """
    book = ReportBook()
    notes = list(result.notes)
    accounts = _accounts_table(snapshot)
    access = _access_table(snapshot)
    if len(access) > EXCEL_MAX_ROWS:
        notes.append(
            f"The Access sheet holds the first {EXCEL_MAX_ROWS:,} of {len(access):,} rows "
            "(Excel's limit); the snapshot has them all."
        )
        access = access.head(EXCEL_MAX_ROWS)
    findings = result.findings.loc[:, _FINDING_ORDER]

    summary_sheet(book, result, notes)
    book.write_frame("Findings", findings.head(EXCEL_MAX_ROWS), _FINDING_WIDTHS, **_STYLED)
    for rule_id in RULES:
        part = findings[findings["rule"] == rule_id]
        if len(part):
            sheet = _spread_evidence(part).head(EXCEL_MAX_ROWS)
            book.write_frame(rule_id, sheet, _FINDING_WIDTHS, **_STYLED)
    if len(result.suppressed):
        suppressed = result.suppressed.drop(columns=["evidence"])
        book.write_frame("Accepted risks", suppressed, _FINDING_WIDTHS, **_STYLED)
    book.write_frame("Accounts", accounts)
    book.write_frame("Access", access)
    rules_sheet(book)
    book.save(Path(path))


def _spread_evidence(part: pd.DataFrame) -> pd.DataFrame:
    """The rule's findings with each evidence key as its own column (dates stay dates)."""
    evidence = pd.DataFrame(part["evidence"].tolist(), index=part.index)
    evidence.columns = [f"evidence: {c}" for c in evidence.columns]
    return pd.concat(
        [part.drop(columns=["evidence", "controls"]), evidence, part[["controls"]]], axis=1
    )


def _accounts_table(snapshot: Snapshot) -> pd.DataFrame:
    accounts = snapshot.accounts
    people = snapshot.people
    at = pd.Index(people["person_id"]).get_indexer(accounts["person_id"])
    found = at >= 0

    def person_column(name: str) -> np.ndarray:
        values = np.full(len(accounts), None, dtype=object)
        values[found] = people[name].astype(object).to_numpy()[at[found]]
        return values

    return pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "system": accounts["system"],
            "login": accounts["login"],
            "display_name": accounts["display_name"],
            "person_id": accounts["person_id"],
            "person": person_column("name"),
            "hr_status": person_column("status"),
            "hr_end_date": person_column("end_date"),
            "department": person_column("department"),
            "worker_type": person_column("worker_type"),
            "kind": accounts["kind"].astype(object),
            "enabled": accounts["enabled"],
            "last_sign_in": accounts["last_sign_in"],
            "created": accounts["created"],
            "password_never_expires": accounts["password_never_expires"],
            "mfa": accounts["mfa"].astype(object),
        }
    )


def _access_table(snapshot: Snapshot) -> pd.DataFrame:
    access = snapshot.access
    accounts, resources = snapshot.accounts, snapshot.resources
    acc = pd.Index(accounts["account_id"]).get_indexer(access["account_id"])
    res = pd.Index(resources["resource_id"]).get_indexer(access["resource_id"])
    login = accounts["login"].astype(object).to_numpy()
    names = resources["name"].astype(object).to_numpy()
    levels = resources["sensitivity"].astype(object).to_numpy()
    return pd.DataFrame(
        {
            "login": np.where(acc >= 0, login[acc] if len(login) else None, None),
            "account_id": access["account_id"],
            "resource": np.where(res >= 0, names[res] if len(names) else None, None),
            "resource_id": access["resource_id"],
            "sensitivity": np.where(res >= 0, levels[res] if len(levels) else None, None),
            "right": access["right"].astype(object),
            "via": access["via"].astype(object),
            "path": access["path"].astype(object),
        }
    )
